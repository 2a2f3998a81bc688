// Computed metrics over fake backends: operands read through their own rules in parallel, object,
// pods/* and external answers, absentAs, and every error row naming the operand or the operation.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <set>

#include "lib/config/adapter_config.h"
#include "providers/computed/computed_provider.h"

using namespace sma;
using namespace sma::providers;
using Kind = MetricsError::Kind;

namespace {

// Answers from tables per metric name; a metric listed in `failing` throws that error.
class TableBackend : public MetricsProvider {
 public:
  std::map<std::string, double> objects;                              // metric -> value
  std::map<std::string, std::map<std::string, double>> per_pod;       // metric -> pod -> value
  std::map<std::string, std::vector<std::pair<api::Labels, double>>> external;
  std::map<std::string, MetricsError> failing;
  std::mutex mutex;
  std::multiset<std::string> asked;
  // With a barrier, every call waits until `barrier` calls are in at once (proves parallel reads).
  int barrier = 0;
  int arrived = 0;
  std::condition_variable all_in;

  std::vector<api::CustomMetricInfo> list_custom_metrics() override { return {}; }
  std::vector<api::ExternalMetricInfo> list_external_metrics() override { return {}; }

  api::MetricValue get_metric_by_name(const ObjectQuery& q) override {
    enter(q.metric);
    auto it = objects.find(q.metric);
    if (it == objects.end()) throw MetricsError(Kind::NotFound, "no series " + q.metric);
    return {{"Deployment", q.namespace_, q.name, "apps/v1"}, q.metric, api::Clock::time_point(std::chrono::seconds(100 + static_cast<long>(q.metric.size()))), 60,
            *api::Quantity::from_double(it->second)};
  }
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& q) override {
    enter(q.metric);
    std::vector<api::MetricValue> out;
    for (const auto& [pod, v] : per_pod[q.metric]) {
      out.push_back({{"Pod", q.namespace_, pod, "/v1"}, q.metric, api::Clock::time_point(std::chrono::seconds(100)), 60,
                     *api::Quantity::from_double(v)});
    }
    return out;
  }
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& q) override {
    enter(q.metric);
    std::vector<api::ExternalMetricValue> out;
    for (const auto& [labels, v] : external[q.metric]) {
      out.push_back({q.metric, labels, api::Clock::time_point(std::chrono::seconds(100)), 30, *api::Quantity::from_double(v)});
    }
    return out;
  }

 private:
  void enter(const std::string& metric) {
    std::unique_lock lock(mutex);
    asked.insert(metric);
    if (barrier > 0) {
      ++arrived;
      all_in.notify_all();
      // Generous: only a serial implementation ever waits this out (and then fails below).
      all_in.wait_for(lock, std::chrono::seconds(20), [&] { return arrived >= barrier; });
      if (arrived < barrier) throw MetricsError(Kind::Unavailable, "operands were not read in parallel");
    }
    auto f = failing.find(metric);
    if (f != failing.end()) throw f->second;
  }
};

const char* kRules = R"yaml(rules:
  - metric: per_ready_pod
    resources: [deployments.apps, pods]
    expr: requests / ready
  - metric: per_ready_pod_or_zero
    resources: [deployments.apps, pods]
    expr: requests / max(ready, 1)
    absentAs: 0
  - metric: doubled
    resources: [deployments.apps]
    expr: per_ready_pod * 2
  - metric: total
    resources: [deployments.apps]
    expr: requests + ready
  - metric: requests
  - metric: ready
  - external: queue_age
    expr: messages_ready / publish_rate
  - external: messages_ready
  - external: publish_rate
)yaml";

struct Fixture {
  TableBackend backend;
  std::shared_ptr<config::ConfigSource> config;
  std::unique_ptr<computed::ComputedProvider> provider;
  Fixture() {
    auto c = std::make_shared<config::AdapterConfig>(config::parse_config(kRules, "adapter.yaml"));
    c->default_backend = "sysdig";
    config = std::make_shared<config::ConfigSource>(c);
    provider = std::make_unique<computed::ComputedProvider>(config, std::map<std::string, MetricsProvider*>{{"sysdig", &backend}},
                                                             KindLookup{});
  }
};

ObjectQuery object(const std::string& metric) {
  ObjectQuery q;
  q.namespace_ = "default";
  q.resource = {"deployments", "apps"};
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

TEST_CASE("an object value from its operands, read in parallel") {
  Fixture f;
  f.backend.objects = {{"requests", 30}, {"ready", 4}};
  f.backend.barrier = 2;
  auto v = f.provider->get_metric_by_name(object("per_ready_pod"));
  CHECK(v.value.to_string() == "7500m");
  CHECK(v.metric_name == "per_ready_pod");
  CHECK(v.described_object.kind == "Deployment");
  CHECK(v.described_object.name == "kuard");
  CHECK(v.window_seconds == 60);
  CHECK(v.timestamp == api::Clock::time_point(std::chrono::seconds(105)));  // the older operand's (ready)
  CHECK(f.backend.asked == std::multiset<std::string>{"ready", "requests"});
}

TEST_CASE("results keep 15 significant digits: no milli-unit from floating-point noise") {
  Fixture f;
  f.backend.objects = {{"requests", 0.1}, {"ready", 0.2}};
  CHECK(f.provider->get_metric_by_name(object("total")).value.to_string() == "300m");  // not 301m
  f.backend.objects = {{"requests", 1234567.891}, {"ready", 0.001}};
  CHECK(f.provider->get_metric_by_name(object("total")).value.to_string() == "1234567892m");
}

TEST_CASE("a computed operand is computed in turn") {
  Fixture f;
  f.backend.objects = {{"requests", 30}, {"ready", 4}};
  CHECK(f.provider->get_metric_by_name(object("doubled")).value.to_string() == "15");
}

TEST_CASE("object error rows: the operand or the operation is named, the kind kept") {
  Fixture f;
  f.backend.objects = {{"requests", 30}, {"ready", 0}};
  auto zero = error_of([&] { f.provider->get_metric_by_name(object("per_ready_pod")); });
  CHECK(zero.kind() == Kind::Internal);
  CHECK(std::string(zero.what()) ==
        "cannot compute per_ready_pod for deployments.apps kuard (rule at adapter.yaml:2): division by zero in "
        "`requests / ready`: ready is 0");
  f.backend.objects = {{"requests", 30}};
  auto missing = error_of([&] { f.provider->get_metric_by_name(object("per_ready_pod")); });
  CHECK(missing.kind() == Kind::NotFound);
  CHECK(std::string(missing.what()) ==
        "cannot compute per_ready_pod for deployments.apps kuard (rule at adapter.yaml:2): operand ready: no series ready");
  // absentAs stands in for the absent operand: requests / max(0, 1).
  CHECK(f.provider->get_metric_by_name(object("per_ready_pod_or_zero")).value.to_string() == "30");
  // A backend failure is not an absence: absentAs does not hide it.
  f.backend.objects = {{"requests", 30}, {"ready", 2}};
  f.backend.failing.emplace("ready", MetricsError(Kind::Unavailable, "Sysdig is down"));
  auto down = error_of([&] { f.provider->get_metric_by_name(object("per_ready_pod_or_zero")); });
  CHECK(down.kind() == Kind::Unavailable);
  CHECK_THAT(down.what(), Catch::EndsWith("operand ready: Sysdig is down"));
  f.backend.failing.clear();
  f.backend.failing.emplace("requests", MetricsError(Kind::Timeout, "past the deadline"));
  CHECK(error_of([&] { f.provider->get_metric_by_name(object("per_ready_pod")); }).kind() == Kind::Timeout);
  f.backend.failing.clear();
  f.backend.objects = {{"requests", 1.7e308}, {"ready", 0.001}};
  CHECK_THAT(error_of([&] { f.provider->get_metric_by_name(object("per_ready_pod")); }).what(),
             Catch::Contains("`requests / ready` has no finite value"));
}

TEST_CASE("pods/*: per pod over the pods every operand has; absentAs fills a missing operand") {
  Fixture f;
  f.backend.per_pod["requests"] = {{"kuard-1", 10}, {"kuard-2", 20}, {"kuard-3", 30}};
  f.backend.per_pod["ready"] = {{"kuard-1", 1}, {"kuard-2", 2}};
  SelectorQuery q;
  q.namespace_ = "default";
  q.resource = {"pods", ""};
  q.object_selector = api::LabelSelector::parse("app=kuard");
  q.metric = "per_ready_pod";
  auto items = f.provider->get_metric_by_selector(q);
  REQUIRE(items.size() == 2);  // kuard-3 has no `ready`: no value for it
  CHECK(items[0].described_object.name == "kuard-1");
  CHECK(items[0].described_object.kind == "Pod");
  CHECK(items[0].value.to_string() == "10");
  CHECK(items[1].value.to_string() == "10");
  q.metric = "per_ready_pod_or_zero";
  items = f.provider->get_metric_by_selector(q);
  REQUIRE(items.size() == 3);
  CHECK(items[2].value.to_string() == "30");  // 30 / max(absent -> 0, 1)
  // One pod's division by zero fails the request, naming the pod.
  f.backend.per_pod["ready"]["kuard-2"] = 0;
  q.metric = "per_ready_pod";
  CHECK_THAT(error_of([&] { f.provider->get_metric_by_selector(q); }).what(),
             Catch::Contains("cannot compute per_ready_pod for pods (rule at adapter.yaml:2), kuard-2: division by zero"));
}

TEST_CASE("external: each operand's series summed, one answer") {
  Fixture f;
  f.backend.external["messages_ready"] = {{{{"queue", "orders"}}, 100}, {{{"queue", "emails"}}, 20}};
  f.backend.external["publish_rate"] = {{{}, 4}};
  ExternalQuery q;
  q.namespace_ = "default";
  q.metric = "queue_age";
  auto items = f.provider->get_external_metric(q);
  REQUIRE(items.size() == 1);
  CHECK(items[0].value.to_string() == "30");
  CHECK(items[0].metric_labels.empty());
  CHECK(items[0].window_seconds == 30);
  f.backend.external["publish_rate"] = {};
  auto absent = error_of([&] { f.provider->get_external_metric(q); });
  CHECK(absent.kind() == Kind::NotFound);
  CHECK_THAT(absent.what(), Catch::Contains("operand publish_rate has no series in namespace default"));
  f.backend.external["publish_rate"] = {{{}, 0}};
  CHECK_THAT(error_of([&] { f.provider->get_external_metric(q); }).what(),
             Catch::EndsWith("division by zero in `messages_ready / publish_rate`: publish_rate is 0"));
}

TEST_CASE("discovery lists computed metrics") {
  Fixture f;
  auto custom = f.provider->list_custom_metrics();
  CHECK(std::count_if(custom.begin(), custom.end(), [](const auto& i) { return i.metric == "per_ready_pod"; }) == 2);
  CHECK(f.provider->list_external_metrics().size() == 1);
}
