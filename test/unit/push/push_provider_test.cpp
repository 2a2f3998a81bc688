#include <catch2/catch.hpp>

#include "providers/push/push_provider.h"

using namespace sma;
using providers::MetricsError;
using providers::push::PushProvider;

namespace {

struct FakeClock {
  PushProvider::SteadyClock::time_point now{};
  void advance(std::chrono::milliseconds d) { now += d; }
};

providers::ObjectQuery object(std::string ns, std::string resource, std::string name, std::string metric) {
  return {std::move(ns), api::GroupResource::parse(resource), std::move(name), std::move(metric), {}, {}};
}

MetricsError::Kind error_kind(const std::function<void()>& f) {
  try {
    f();
  } catch (const MetricsError& e) {
    return e.kind();
  }
  FAIL("no MetricsError thrown");
  return MetricsError::Kind::Internal;
}

}  // namespace

TEST_CASE("a written value is read back with its described object") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "deployments.apps", "kuard", "queue"), "\"1.5\"");
  auto v = push.get_metric_by_name(object("default", "deployments.apps", "kuard", "queue"));
  CHECK(v.value.to_string() == "1500m");
  CHECK(v.described_object.kind == "Deployment");
  CHECK(v.described_object.api_version == "apps/v1");
  CHECK(v.described_object.namespace_ == "default");
  CHECK_FALSE(v.window_seconds);
}

TEST_CASE("unknown object or metric is NotFound") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "pods", "p", "m"), "1");
  CHECK(error_kind([&] { push.get_metric_by_name(object("default", "pods", "p", "other")); }) ==
        MetricsError::Kind::NotFound);
  CHECK(error_kind([&] { push.get_metric_by_name(object("staging", "pods", "p", "m")); }) ==
        MetricsError::Kind::NotFound);
  CHECK(error_kind([&] { push.get_metric_by_name(object("default", "services", "p", "m")); }) ==
        MetricsError::Kind::NotFound);
}

TEST_CASE("values expire after the ttl and vanish from discovery") {
  FakeClock clock;
  PushProvider push(std::chrono::seconds(10), [&] { return clock.now; });
  push.write_object_value(object("default", "pods", "p", "m"), "1");
  clock.advance(std::chrono::seconds(9));
  CHECK(push.get_metric_by_name(object("default", "pods", "p", "m")).value.to_string() == "1");
  CHECK(push.list_custom_metrics().size() == 1);
  clock.advance(std::chrono::seconds(1));
  CHECK(error_kind([&] { push.get_metric_by_name(object("default", "pods", "p", "m")); }) ==
        MetricsError::Kind::NotFound);
  CHECK(push.list_custom_metrics().empty());
}

TEST_CASE("ttl zero keeps values") {
  FakeClock clock;
  PushProvider push(std::chrono::milliseconds(0), [&] { return clock.now; });
  push.write_object_value(object("default", "pods", "p", "m"), "1");
  clock.advance(std::chrono::hours(24 * 365));
  CHECK(push.get_metric_by_name(object("default", "pods", "p", "m")).value.to_string() == "1");
}

TEST_CASE("selector query returns one item per matching object of that namespace and resource") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "pods", "a", "m"), R"({"value":"1","labels":{"app":"kuard"}})");
  push.write_object_value(object("default", "pods", "b", "m"), R"({"value":"2","labels":{"app":"kuard"}})");
  push.write_object_value(object("default", "pods", "c", "m"), R"({"value":"3","labels":{"app":"other"}})");
  push.write_object_value(object("default", "pods", "d", "other_metric"), R"({"value":"4","labels":{"app":"kuard"}})");
  push.write_object_value(object("other", "pods", "e", "m"), R"({"value":"5","labels":{"app":"kuard"}})");
  push.write_object_value(object("default", "services", "f", "m"), R"({"value":"6","labels":{"app":"kuard"}})");
  push.write_object_value(object("default", "pods.metrics.example.com", "g", "m"), R"({"value":"7","labels":{"app":"kuard"}})");

  providers::SelectorQuery q{"default", {"pods", ""}, api::LabelSelector::parse("app=kuard"), "m", {}, {}};
  auto values = push.get_metric_by_selector(q);
  REQUIRE(values.size() == 2);
  CHECK(values[0].described_object.name == "a");
  CHECK(values[1].described_object.name == "b");
  CHECK(values[1].value.to_string() == "2");
}

TEST_CASE("labels are kept when a later write omits them") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "pods", "a", "m"), R"({"value":"1","labels":{"app":"kuard"}})");
  push.write_object_value(object("default", "pods", "a", "m"), "5");
  providers::SelectorQuery q{"default", {"pods", ""}, api::LabelSelector::parse("app=kuard"), "m", {}, {}};
  auto values = push.get_metric_by_selector(q);
  REQUIRE(values.size() == 1);
  CHECK(values[0].value.to_string() == "5");
}

TEST_CASE("series of one object are selected by metric labels and summed exactly") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "services", "s", "m"), R"({"value":"0.1","metricLabels":{"verb":"GET"}})");
  push.write_object_value(object("default", "services", "s", "m"), R"({"value":0.2,"metricLabels":{"verb":"POST"}})");
  auto all = object("default", "services", "s", "m");
  CHECK(push.get_metric_by_name(all).value.to_string() == "300m");
  auto get_only = all;
  get_only.metric_selector = api::LabelSelector::parse("verb=GET");
  CHECK(push.get_metric_by_name(get_only).value.to_string() == "100m");
  auto none = all;
  none.metric_selector = api::LabelSelector::parse("verb=DELETE");
  CHECK(error_kind([&] { push.get_metric_by_name(none); }) == MetricsError::Kind::NotFound);
}

TEST_CASE("external values are kept per namespace and selected by their labels") {
  PushProvider push(std::chrono::minutes(10));
  push.write_external_value("default", "queue", R"({"value":"30","metricLabels":{"queue":"orders"}})");
  push.write_external_value("default", "queue", R"({"value":"2","metricLabels":{"queue":"mail"}})");
  push.write_external_value("other", "queue", R"({"value":"99","metricLabels":{"queue":"orders"}})");
  auto values = push.get_external_metric({"default", "queue", api::LabelSelector::parse("queue=orders"), {}});
  REQUIRE(values.size() == 1);
  CHECK(values[0].value.to_string() == "30");
  CHECK(values[0].metric_labels == api::Labels{{"queue", "orders"}});
  CHECK(push.get_external_metric({"default", "queue", {}, {}}).size() == 2);
  CHECK(push.get_external_metric({"default", "nothing", {}, {}}).empty());
  REQUIRE(push.list_external_metrics().size() == 1);
  CHECK(push.list_external_metrics()[0].metric == "queue");
}

TEST_CASE("a bad body stores nothing") {
  PushProvider push(std::chrono::minutes(10));
  CHECK(error_kind([&] { push.write_object_value(object("default", "pods", "p", "m"), "\"abc\""); }) ==
        MetricsError::Kind::BadRequest);
  CHECK(error_kind([&] { push.write_external_value("default", "q", R"({"value":"1","labels":{"a":"b"}})"); }) ==
        MetricsError::Kind::BadRequest);
  CHECK(push.list_custom_metrics().empty());
  CHECK(push.list_external_metrics().empty());
}

TEST_CASE("discovery lists each resource and metric once, with scope") {
  PushProvider push(std::chrono::minutes(10));
  push.write_object_value(object("default", "pods", "a", "m"), "1");
  push.write_object_value(object("other", "pods", "b", "m"), "1");
  push.write_object_value(object("", "nodes", "n", "load"), "1");
  auto list = push.list_custom_metrics();
  REQUIRE(list.size() == 2);
  CHECK(list[0].resource.resource == "nodes");
  CHECK_FALSE(list[0].namespaced);
  CHECK(list[1].resource.resource == "pods");
  CHECK(list[1].namespaced);
}
