#include <catch2/catch.hpp>

#include <map>

#include "providers/promql/promql_provider.h"

using namespace sma;
using providers::MetricsError;
using providers::promql::PromqlClient;
using providers::promql::PromqlProvider;

namespace {

// A backend that answers every instant query with one canned body and records the queries.
struct FakeBackend {
  int status = 200;
  std::string body = R"({"status":"success","data":{"resultType":"vector","result":[]}})";
  std::vector<http::OutgoingRequest> requests;

  providers::Transport transport() {
    return [this](const http::OutgoingRequest& r) {
      requests.push_back(r);
      http::FetchResult result;
      result.status = status;
      result.body = body;
      return result;
    };
  }
};

std::string vector_of(const std::vector<std::pair<std::string, std::string>>& pods_and_values) {
  std::string out = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (std::size_t i = 0; i < pods_and_values.size(); ++i) {
    if (i) out += ",";
    out += R"({"metric":{"kube_pod_name":")" + pods_and_values[i].first + R"("},"value":[1767261600,")" +
           pods_and_values[i].second + R"("]})";
  }
  return out + "]}}";
}

struct Fixture {
  FakeBackend backend;
  std::shared_ptr<config::AdapterConfig> config = std::make_shared<config::AdapterConfig>();
  struct Pod {
    std::string name;
    api::Labels labels;
  };
  std::vector<Pod> pods = {{"a", {{"app", "x"}}}, {"b", {{"app", "x"}}}};

  std::unique_ptr<PromqlProvider> provider() {
    config->default_backend = "sysdig";
    providers::promql::PromqlProviderOptions options;
    options.cluster_name = "prod";
    providers::BackendEndpoint endpoint{"Sysdig", "http://sysdig.test/prometheus",
                                        config::SecretToken::literal("s3cret"), backend.transport()};
    return std::make_unique<PromqlProvider>(
        options, std::make_shared<config::ConfigSource>(config), PromqlClient(endpoint),
        [this](const std::string&, const api::LabelSelector& selector, const api::Deadline&) {
          std::vector<std::string> out;
          for (const auto& p : pods) {
            if (selector.matches(p.labels)) out.push_back(p.name);
          }
          return out;
        },
        providers::KindLookup{}, [] { return api::Clock::time_point(std::chrono::seconds(1767261620)); });
  }
};

providers::ObjectQuery service_query() { return {"default", {"services", ""}, "kuard", "net.http.request.count", {}, {}}; }

MetricsError::Kind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const MetricsError& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("no MetricsError");
  return MetricsError::Kind::Internal;
}

}  // namespace

TEST_CASE("an object query is one scoped instant query with the token and the offset time") {
  Fixture f;
  f.backend.body = R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767261600,"60.75"]}]}})";
  auto value = f.provider()->get_metric_by_name(service_query());
  CHECK(value.value.to_string() == "60750m");
  CHECK(value.window_seconds == 60);
  REQUIRE(f.backend.requests.size() == 1);
  const auto& r = f.backend.requests[0];
  CHECK(r.method == "POST");
  CHECK(r.url == "http://sysdig.test/prometheus/api/v1/query");
  CHECK_THAT(r.body, Catch::Contains("time=1767261620.000"));  // default offset 0 here
  bool has_token = false;
  for (const auto& [k, v] : r.headers) has_token = has_token || (k == "Authorization" && v == "Bearer s3cret");
  CHECK(has_token);
}

TEST_CASE("no series, NaN and several series are never turned into a number") {
  Fixture f;
  auto p = f.provider();
  std::string message;
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }, &message) == MetricsError::Kind::NotFound);
  CHECK_THAT(message, Catch::Contains("net.http.request.count"));
  f.backend.body = vector_of({{"a", "NaN"}});
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }) == MetricsError::Kind::NotFound);
  f.backend.body = vector_of({{"a", "+Inf"}});
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }) == MetricsError::Kind::NotFound);
  f.backend.body = vector_of({{"a", "1"}, {"b", "2"}});
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }) == MetricsError::Kind::Internal);
}

TEST_CASE("absentAs answers its value only when a rule sets it") {
  Fixture f;
  f.config->rules.push_back({});
  f.config->rules.back().metric = "net.http.request.count";
  f.config->rules.back().absent_as = api::Quantity::from_int(0);
  auto value = f.provider()->get_metric_by_name(service_query());
  CHECK(value.value.to_string() == "0");
}

TEST_CASE("pods/* lists pods, sends one grouped query and answers only listed pods") {
  Fixture f;
  f.backend.body = vector_of({{"a", "1.5"}, {"b", "2"}, {"zombie", "99"}});
  providers::SelectorQuery q{"default", {"pods", ""}, api::LabelSelector::parse("app=x"), "net.http.request.count", {}, {}};
  auto values = f.provider()->get_metric_by_selector(q);
  REQUIRE(values.size() == 2);
  CHECK(values[0].described_object.name == "a");
  CHECK(values[0].value.to_string() == "1500m");
  CHECK(values[1].described_object.name == "b");
  REQUIRE(f.backend.requests.size() == 1);
  CHECK_THAT(f.backend.requests[0].body, Catch::Contains("kube_pod_name%3D~%22a%7Cb%22"));
}

TEST_CASE("backend failures are Unavailable and never show the token") {
  Fixture f;
  auto p = f.provider();
  std::string message;
  f.backend.status = 401;
  f.backend.body = R"({"message":"Unauthorized"})";
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }, &message) == MetricsError::Kind::Unavailable);
  CHECK_THAT(message, Catch::Contains("rejected the API token"));
  CHECK(message.find("s3cret") == std::string::npos);
  f.backend.status = 503;
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }) == MetricsError::Kind::Unavailable);
  f.backend.status = 200;
  f.backend.body = "<html>";
  CHECK(kind_of([&] { p->get_metric_by_name(service_query()); }) == MetricsError::Kind::Internal);
}

TEST_CASE("a rule's query template is filled with scoped matchers") {
  Fixture f;
  f.config->rules.push_back({});
  auto& rule = f.config->rules.back();
  rule.metric = "requests";
  rule.query = "sum by (<<.GroupBy>>) (rate(<<.Series>>{<<.LabelMatchers>>}[<<.Window>>]))";
  f.backend.body = R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]}]}})";
  f.provider()->get_metric_by_name({"default", {"services", ""}, "kuard", "requests", {}, {}});
  REQUIRE(f.backend.requests.size() == 1);
  CHECK_THAT(f.backend.requests[0].body,
             Catch::Contains("sum+by+%28kube_service_name%29+%28rate%28requests%7Bkube_cluster_name%3D%22prod%22"));
}

TEST_CASE("scope labels in a metricLabelSelector are refused before any request") {
  Fixture f;
  auto q = service_query();
  q.metric_selector = api::LabelSelector::parse("kube_namespace_name=payments");
  CHECK(kind_of([&] { f.provider()->get_metric_by_name(q); }) == MetricsError::Kind::BadRequest);
  CHECK(f.backend.requests.empty());
}
