#include <catch2/catch.hpp>

#include "lib/api/api_json.h"
#include "lib/api/builtin_resources.h"

using namespace sma::api;

namespace {

MetricValue sample_value() {
  MetricValue v;
  v.described_object = described_object({"services", ""}, "default", "kuard");
  v.metric_name = "net.http.request.count";
  v.timestamp = Clock::time_point(std::chrono::seconds(1767261600));  // 2026-01-01T10:00:00Z
  v.window_seconds = 10;
  v.value = *Quantity::parse("105.763");
  return v;
}

}  // namespace

TEST_CASE("v1beta1 MetricValueList is byte-exact") {
  CHECK(write_metric_value_list(CustomApiVersion::V1Beta1, {sample_value()}, nullptr) ==
        R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
        R"({"describedObject":{"kind":"Service","namespace":"default","name":"kuard","apiVersion":"/v1"},)"
        R"("metricName":"net.http.request.count","timestamp":"2026-01-01T10:00:00Z","window":10,"value":"105763m",)"
        R"("selector":null}]})"
        "\n");
}

TEST_CASE("v1beta2 MetricValueList uses metric identifier and windowSeconds") {
  auto selector = LabelSelector::parse("verb=GET");
  CHECK(write_metric_value_list(CustomApiVersion::V1Beta2, {sample_value()}, &selector) ==
        R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[)"
        R"({"describedObject":{"kind":"Service","namespace":"default","name":"kuard","apiVersion":"/v1"},)"
        R"("metric":{"name":"net.http.request.count","selector":{"matchLabels":{"verb":"GET"}}},)"
        R"("timestamp":"2026-01-01T10:00:00Z","windowSeconds":10,"value":"105763m"}]})"
        "\n");
}

TEST_CASE("window is omitted when unknown; empty list keeps items") {
  auto v = sample_value();
  v.window_seconds.reset();
  auto json = write_metric_value_list(CustomApiVersion::V1Beta1, {v}, nullptr);
  CHECK(json.find("window") == std::string::npos);
  CHECK(write_metric_value_list(CustomApiVersion::V1Beta2, {}, nullptr) ==
        R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[]})"
        "\n");
}

TEST_CASE("root-scoped described objects omit the namespace") {
  auto ref = described_object({"nodes", ""}, "ignored", "node-1");
  CHECK(ref.namespace_.empty());
  CHECK(ref.api_version == "/v1");
  auto custom = described_object({"widgets", "example.com"}, "default", "w");
  CHECK(custom.kind == "Widget");
  CHECK(custom.api_version.empty());
}

TEST_CASE("ExternalMetricValueList is byte-exact") {
  ExternalMetricValue v{"queue_depth", {{"queue", "orders"}, {"env", "prod"}},
                        Clock::time_point(std::chrono::seconds(1767261600)), std::nullopt, Quantity::from_int(30)};
  CHECK(write_external_metric_value_list({v}) ==
        R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
        R"({"metricName":"queue_depth","metricLabels":{"env":"prod","queue":"orders"},)"
        R"("timestamp":"2026-01-01T10:00:00Z","value":"30"}]})"
        "\n");
}

TEST_CASE("resource lists are never empty") {
  CHECK(write_custom_resource_list(CustomApiVersion::V1Beta1, {}) ==
        R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta1","resources":[)"
        R"({"name":"*/*","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]}]})"
        "\n");
  CHECK(write_custom_resource_list(CustomApiVersion::V1Beta2, {{{"deployments", "apps"}, "q", true},
                                                               {{"nodes", ""}, "load", false}}) ==
        R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta2","resources":[)"
        R"({"name":"deployments.apps/q","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]},)"
        R"({"name":"nodes/load","singularName":"","namespaced":false,"kind":"MetricValueList","verbs":["get"]}]})"
        "\n");
  CHECK(write_external_resource_list({}).find(R"("name":"*","singularName":"","namespaced":true,)"
                                              R"("kind":"ExternalMetricValueList")") != std::string::npos);
}

TEST_CASE("group documents") {
  CHECK(write_custom_api_group() ==
        R"({"kind":"APIGroup","apiVersion":"v1","name":"custom.metrics.k8s.io","versions":[)"
        R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
        R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
        R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}})"
        "\n");
  auto list = write_api_group_list();
  CHECK(list.rfind(R"({"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"custom.metrics.k8s.io",)", 0) == 0);
  CHECK(list.find(R"({"name":"external.metrics.k8s.io","versions":[)") != std::string::npos);
}

TEST_CASE("Status is byte-exact and escapes like Go") {
  CHECK(write_status({404, "NotFound", "the server could not find the metric m for services kuard"}) ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
        R"("message":"the server could not find the metric m for services kuard","reason":"NotFound","code":404})"
        "\n");
  CHECK(write_status({400, "BadRequest", "a<b>&\"c\"\n"}).find(R"("message":"a\u003cb\u003e\u0026\"c\"\n")") !=
        std::string::npos);
}
