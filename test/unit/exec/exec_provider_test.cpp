// The exec provider over a recording transport: the requests it makes (what the cache keys on and
// explain shows) and how every outcome of a command becomes an answer or a Status kind.
#include <catch2/catch.hpp>

#include <mutex>

#include "lib/config/adapter_config.h"
#include "providers/exec/exec_call.h"
#include "providers/exec/exec_provider.h"

using namespace sma;
using namespace sma::providers;
using Kind = MetricsError::Kind;

namespace {

http::FetchResult result(int status, std::string body);

const char* kRules = R"yaml(rules:
  - metric: queue_age
    resources: [deployments.apps, services]
    exec:
      command: [/bin/sh, -c, "cat", "x y"]
      timeout: 1500ms
      env: [RABBITMQ_URL]
  - metric: scale_hint
    resources: [deployments.apps, pods]
    exec:
      command: [/bin/true]
      input: object
  - metric: backlog
    resources: [pods]
    absentAs: 0
    window: 30s
    exec:
      command: [/bin/true]
  - external: vendor_backlog
    exec:
      command: [/bin/true]
)yaml";

struct Fixture {
  std::shared_ptr<config::ConfigSource> config;
  std::vector<http::OutgoingRequest> requests;
  std::function<http::FetchResult(const http::OutgoingRequest&)> answer = [](const http::OutgoingRequest&) {
    return result(200, "1");
  };
  std::vector<std::string> pods = {"kuard-1", "kuard-2"};

  explicit Fixture(const std::string& rules = kRules) {
    auto c = std::make_shared<config::AdapterConfig>(config::parse_config(rules, "adapter.yaml"));
    c->default_backend = "sysdig";
    config = std::make_shared<config::ConfigSource>(c);
  }

  exec::ExecProvider provider(bool kubernetes = true) {
    Transport transport = [this](const http::OutgoingRequest& r) {
      requests.push_back(r);
      return answer(r);
    };
    PodLister lister = [this](const std::string&, const api::LabelSelector&, const api::Deadline&) { return pods; };
    return exec::ExecProvider(config, transport, lister, {}, kubernetes);
  }
};

http::FetchResult result(int status, std::string body) {
  http::FetchResult r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string header(const http::OutgoingRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

ObjectQuery object(const std::string& metric, api::GroupResource resource = {"deployments", "apps"}) {
  ObjectQuery q;
  q.namespace_ = "default";
  q.resource = resource;
  q.name = "kuard";
  q.metric = metric;
  return q;
}

MetricsError error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const MetricsError& e) {
    return e;
  }
  FAIL("no error");
  return MetricsError(Kind::Internal, "");
}

}  // namespace

TEST_CASE("an object query is one EXEC request: the argv, how to run it, the document") {
  Fixture f;
  f.answer = [](const http::OutgoingRequest&) { return result(200, "1500m\n"); };
  auto p = f.provider();
  auto value = p.get_metric_by_name(object("queue_age"));
  CHECK(value.value.to_string() == "1500m");
  CHECK(value.described_object.kind == "Deployment");
  CHECK_FALSE(value.window_seconds);
  REQUIRE(f.requests.size() == 1);
  const auto& r = f.requests[0];
  CHECK(r.method == "EXEC");
  CHECK(r.url == R"j(exec:["/bin/sh","-c","cat","x y"])j");
  CHECK(header(r, "Rule") == "adapter.yaml:2");
  CHECK(header(r, "Timeout") == "1500ms");
  CHECK(header(r, "Env") == "RABBITMQ_URL");
  CHECK(header(r, "Object") == "<none>");
  CHECK(r.body ==
        R"j({"version":1,"kind":"object","rule":"adapter.yaml:2","metric":"queue_age","namespace":"default",)j"
        R"j("resource":"deployments.apps","name":"kuard","metricSelector":{"string":""}})j");
}

TEST_CASE("input: object names the object's API path; without a Kubernetes API it is a 503") {
  Fixture f;
  auto p = f.provider();
  p.get_metric_by_name(object("scale_hint"));
  CHECK(header(f.requests.back(), "Object") == "/apis/apps/v1/namespaces/default/deployments/kuard");
  SelectorQuery q;
  q.namespace_ = "default";
  q.resource = {"pods", ""};
  q.object_selector = api::LabelSelector::parse("app=kuard");
  q.metric = "scale_hint";
  f.answer = [](const http::OutgoingRequest&) { return result(200, R"j({"items":[]})j"); };
  p.get_metric_by_selector(q);
  CHECK(header(f.requests.back(), "Objects") == "/api/v1/namespaces/default/pods?labelSelector=app%3Dkuard");
  auto without = f.provider(false);
  auto e = error_of([&] { without.get_metric_by_name(object("scale_hint")); });
  CHECK(e.kind() == Kind::Unavailable);
  CHECK_THAT(e.what(), Catch::Contains("needs the Kubernetes API"));
}

TEST_CASE("every failure of a command is a Status, never a number") {
  Fixture f;
  auto p = f.provider();
  struct Case {
    std::function<http::FetchResult(const http::OutgoingRequest&)> answer;
    Kind kind;
    const char* message;
  };
  for (const auto& c : std::vector<Case>{
           {[](const http::OutgoingRequest&) -> http::FetchResult {
              return result(503, "/bin/sh exited with status 1: queue not found");
            },
            Kind::Unavailable, "the command of the rule at adapter.yaml:2: /bin/sh exited with status 1: queue not found"},
           {[](const http::OutgoingRequest&) -> http::FetchResult {
              throw http::FetchError(http::FetchError::Kind::Timeout, "/bin/sh did not finish within 1500ms");
            },
            Kind::Unavailable, "did not finish within 1500ms"},
           {[](const http::OutgoingRequest&) -> http::FetchResult {
              throw http::FetchError(http::FetchError::Kind::BodyTooLarge, "printed more than 1048576 bytes");
            },
            Kind::Internal, "printed more than 1048576 bytes"},
           {[](const http::OutgoingRequest&) -> http::FetchResult {
              throw http::FetchError(http::FetchError::Kind::Connect, "could not be started");
            },
            Kind::Unavailable, "could not be started"},
           {[](const http::OutgoingRequest&) -> http::FetchResult { return result(200, "garbage"); }, Kind::Internal,
            "printed what is not a value: the output is not one Kubernetes quantity"},
           {[](const http::OutgoingRequest&) -> http::FetchResult { return result(200, "NaN"); }, Kind::Internal,
            "not one Kubernetes quantity"},
           {[](const http::OutgoingRequest&) -> http::FetchResult { return result(200, ""); }, Kind::NotFound,
            "the server could not find the metric queue_age for deployments.apps kuard: the command of the rule at "
            "adapter.yaml:2 printed no value"},
       }) {
    f.answer = c.answer;
    auto e = error_of([&] { p.get_metric_by_name(object("queue_age")); });
    INFO(e.what());
    CHECK(e.kind() == c.kind);
    CHECK_THAT(e.what(), Catch::Contains(c.message));
  }
  // Past the request's deadline a timeout is the request's: 504.
  f.answer = [](const http::OutgoingRequest&) -> http::FetchResult {
    throw http::FetchError(http::FetchError::Kind::Timeout, "did not finish");
  };
  auto late = object("queue_age");
  late.deadline = api::Deadline::after(std::chrono::milliseconds(0));
  CHECK(error_of([&] { p.get_metric_by_name(late); }).kind() == Kind::Timeout);
}

TEST_CASE("pods/*: the listed pods go in the document, only they come back, absentAs fills the rest") {
  Fixture f;
  auto p = f.provider();
  SelectorQuery q;
  q.namespace_ = "default";
  q.resource = {"pods", ""};
  q.object_selector = api::LabelSelector::parse("app=kuard");
  q.metric = "backlog";
  f.answer = [](const http::OutgoingRequest&) {
    return result(200, R"j({"items":[{"name":"kuard-1","value":"3"},{"name":"other","value":"9"}]})j");
  };
  auto items = p.get_metric_by_selector(q);
  REQUIRE(items.size() == 2);
  CHECK(items[0].described_object.name == "kuard-1");
  CHECK(items[0].value.to_string() == "3");
  CHECK(items[0].window_seconds == 30);
  CHECK(items[1].described_object.name == "kuard-2");  // absentAs: 0
  CHECK(items[1].value.is_zero());
  CHECK_THAT(f.requests.back().body, Catch::Contains(R"j("names":["kuard-1","kuard-2"])j"));
  // No pod selected: the command is not run.
  f.pods.clear();
  auto before = f.requests.size();
  CHECK(p.get_metric_by_selector(q).empty());
  CHECK(f.requests.size() == before);
  // A selector on another resource cannot be served.
  q.resource = {"deployments", "apps"};
  q.metric = "scale_hint";
  CHECK(error_of([&] { p.get_metric_by_selector(q); }).kind() == Kind::BadRequest);
}

TEST_CASE("external: labelled values, held to the request's selector") {
  Fixture f;
  auto p = f.provider();
  ExternalQuery q;
  q.namespace_ = "default";
  q.metric = "vendor_backlog";
  q.metric_selector = api::LabelSelector::parse("queue=orders");
  f.answer = [](const http::OutgoingRequest&) {
    return result(200, R"j({"items":[{"labels":{"queue":"orders"},"value":"42"},{"labels":{"queue":"emails"},"value":"7"}]})j");
  };
  auto items = p.get_external_metric(q);
  REQUIRE(items.size() == 1);
  CHECK(items[0].metric_labels.at("queue") == "orders");
  CHECK(items[0].value.to_string() == "42");
  CHECK_THAT(f.requests.back().body, Catch::Contains(R"j("kind":"external")j"));
  f.answer = [](const http::OutgoingRequest&) { return result(200, R"j({"items":[{"value":1}]]})j"); };
  CHECK(error_of([&] { p.get_external_metric(q); }).kind() == Kind::Internal);
}

TEST_CASE("discovery lists the metrics of exec rules") {
  Fixture f;
  auto p = f.provider();
  auto custom = p.list_custom_metrics();
  CHECK(std::count_if(custom.begin(), custom.end(), [](const auto& i) { return i.metric == "queue_age"; }) == 2);
  auto external = p.list_external_metrics();
  REQUIRE(external.size() == 1);
  CHECK(external[0].metric == "vendor_backlog");
}

TEST_CASE("the command runner runs an EXEC request and answers like a backend") {
  config::ExecSpec spec;
  spec.command = {"/bin/sh", "-c", "cat >/dev/null; echo \"$GREETING\"; [ -z \"$HOME\" ] || exit 9"};
  spec.env = {"GREETING", "HOME"};
  config::ResolvedRule rule;
  rule.origin = "rule at adapter.yaml:7";
  auto request = exec::exec_request(rule, spec, R"j({"version":1})j", api::Deadline::after(std::chrono::seconds(20)));
  exec::CommandRunnerOptions options;
  options.environment = [](const std::string& name) -> std::optional<std::string> {
    if (name == "GREETING") return "hello";
    return std::nullopt;  // HOME unset in the adapter: not passed
  };
  exec::CommandRunner runner({}, options);
  auto result = runner(request);
  CHECK(result.status == 200);
  CHECK(result.text() == "hello\n");

  spec.command = {"/bin/sh", "-c", "echo 'no such queue: orders' >&2; exit 2"};
  auto failed = runner(exec::exec_request(rule, spec, "{}", {}));
  CHECK(failed.status == 503);
  CHECK(failed.text() == "/bin/sh exited with status 2: no such queue: orders");

  spec.command = {"/bin/sh", "-c", "printf 'a\\033[31mb\\n'>&2; exit 1"};
  CHECK(runner(exec::exec_request(rule, spec, "{}", {})).text() == "/bin/sh exited with status 1: a\\x1b[31mb");

  spec.command = {"/bin/sleep", "30"};
  spec.timeout = std::chrono::milliseconds(100);
  CHECK_THROWS_AS(runner(exec::exec_request(rule, spec, "{}", {})), http::FetchError);
}
