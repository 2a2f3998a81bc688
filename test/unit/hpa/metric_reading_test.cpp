// The paths the controller's metrics clients ask, their answers, --what-if and the report.
#include <catch2/catch.hpp>

#include "lib/hpa/metric_answers.h"
#include "lib/hpa/metric_reader.h"
#include "lib/hpa/report_writer.h"
#include "lib/hpa/scale_state.h"
#include "lib/hpa/what_if.h"
#include "test/unit/hpa/pod_fixtures.h"

namespace sma::hpa {
namespace {

MetricSpec metric(MetricType type, const std::string& name) {
  MetricSpec m;
  m.type = type;
  m.name = name;
  m.target = {TargetType::AverageValue, 10000, 0, "10"};
  return m;
}

TEST_CASE("the metrics API paths are the HPA controller's") {
  MetricSpec object = metric(MetricType::Object, "net.http.request.count");
  object.described_object = {"apps/v1", "Deployment", "kuard"};
  CHECK(metric_path("default", object, "app=kuard") ==
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/kuard/net.http.request.count");
  object.described_object = {"v1", "Service", "kuard"};
  object.selector = "verb=GET";
  CHECK(metric_path("default", object, "") ==
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/services/kuard/net.http.request.count?metricLabelSelector=verb%3DGET");
  CHECK(metric_path("default", metric(MetricType::Pods, "rps"), "app=kuard,tier in (a,b)") ==
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/rps?labelSelector=app%3Dkuard%2Ctier%20in%20%28a%2Cb%29");
  MetricSpec external = metric(MetricType::External, "queue.depth");
  external.selector = "queue=orders";
  CHECK(metric_path("ns", external, "app=x") ==
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue.depth?labelSelector=queue%3Dorders");
  CHECK(metric_path("ns", metric(MetricType::Resource, "cpu"), "app=x") ==
        "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods?labelSelector=app%3Dx");
  CHECK(scale_path("ns", {"apps/v1", "StatefulSet", "db"}) == "/apis/apps/v1/namespaces/ns/statefulsets/db/scale");
  CHECK(scale_path("ns", {"v1", "ReplicationController", "rc"}) == "/api/v1/namespaces/ns/replicationcontrollers/rc/scale");
}

TEST_CASE("answers are read as the controller's metrics clients read them") {
  CHECK(read_object_value(R"({"kind":"MetricValueList","items":[{"value":"60750m"}]})") == 60750);
  CHECK_THROWS_WITH(read_object_value(R"({"items":[]})"), Catch::Contains("returned 0 results when we asked for exactly one"));
  PodMetrics pods = read_pod_values(R"({"items":[
    {"describedObject":{"kind":"Pod","name":"a"},"metric":{"name":"m"},"timestamp":"2026-01-01T10:00:00Z","windowSeconds":30,"value":"2"},
    {"describedObject":{"kind":"Pod","name":"b"},"metricName":"m","timestamp":"2026-01-01T10:00:00Z","window":60,"value":"1500m"}]})");
  CHECK(pods.at("a").milli == 2000);
  CHECK(pods.at("a").window == std::chrono::seconds(30));
  CHECK(pods.at("b").milli == 1500);
  CHECK_THROWS_WITH(read_pod_values(R"({"items":[]})"), Catch::Contains("no metrics returned from custom metrics API"));
  CHECK(read_external_values(R"({"items":[{"value":"1k"},{"value":"500"}]})") == std::vector<std::int64_t>{1000000, 500000});
  PodMetrics usage = read_resource_usage(R"({"items":[
    {"metadata":{"name":"a"},"window":"30s","containers":[{"name":"app","usage":{"cpu":"250m"}},{"name":"side","usage":{"cpu":"50m"}}]},
    {"metadata":{"name":"b"},"containers":[{"name":"app","usage":{"memory":"1Mi"}}]}]})", "cpu", "");
  CHECK(usage.at("a").milli == 300);
  CHECK(usage.count("b") == 0);  // a pod lacking the resource has no value
  CHECK(read_resource_usage(R"({"items":[{"metadata":{"name":"a"},"containers":[{"name":"app","usage":{"cpu":"250m"}},
    {"name":"side","usage":{"cpu":"50m"}}]}]})", "cpu", "side").at("a").milli == 50);
  CHECK(status_message(R"({"kind":"Status","message":"backend down","code":503})") == "backend down");
}

TEST_CASE("read_metric: refusals become the metric's error, a missing metrics.k8s.io is not simulated") {
  MetricSpec pods_metric = metric(MetricType::Pods, "rps");
  auto answer = [](int status, std::string body) { return [=](const std::string&) { return ApiAnswer{status, body}; }; };
  auto r = read_metric(answer(503, R"({"kind":"Status","message":"Sysdig backend unreachable"})"), "ns", pods_metric, "app=a");
  REQUIRE(r.error.has_value());
  CHECK_THAT(*r.error, Catch::Contains("503: Sysdig backend unreachable"));
  CHECK_FALSE(r.not_simulated);
  auto cpu = read_metric(answer(404, "not found"), "ns", metric(MetricType::Resource, "cpu"), "app=a");
  CHECK(cpu.not_simulated);
  auto down = read_metric([](const std::string&) -> ApiAnswer { throw std::runtime_error("connection refused"); }, "ns",
                          pods_metric, "app=a");
  CHECK_THAT(*down.error, Catch::Contains("connection refused"));
}

TEST_CASE("what-if values (--what-if) replace what was read") {
  auto values = parse_what_if("net.http.request.count=900,cpu=250m");
  CHECK(values.at("net.http.request.count") == 900000);
  CHECK(values.at("cpu") == 250);
  CHECK_THROWS_WITH(parse_what_if("rps"), Catch::Contains("not metric=value"));
  CHECK_THROWS_WITH(parse_what_if("rps=many"), Catch::Contains("not a non-negative quantity"));
  std::vector<PodState> pods = {test::pod("a"), test::with_phase(test::pod("b"), "Pending")};
  auto pods_reading = what_if_reading(metric(MetricType::Pods, "rps"), 5000, pods);
  CHECK(pods_reading.what_if);
  CHECK(pods_reading.pod_values.size() == 1);
  CHECK(what_if_reading(metric(MetricType::External, "q"), 7000, pods).external_milli == std::vector<std::int64_t>{7000});
}

TEST_CASE("the report says the same in the table and in JSON") {
  SimulationInput in;
  in.hpa.name = "kuard";
  in.hpa.namespace_ = "default";
  in.hpa.max_replicas = 10;
  MetricSpec m = metric(MetricType::External, "queue.depth");
  m.target.text = "30";
  m.target.milli = 30000;
  in.hpa.metrics = {m};
  MetricReading reading;
  reading.path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue.depth";
  reading.external_milli = {1500000};
  in.readings = {reading};
  in.spec_replicas = in.status_replicas = 2;
  in.settings = test::settings();
  Decision d = simulate(in);
  ReportContext context{"providers", "Deployment/kuard", "1.33"};
  std::string table = write_table(d, context);
  CHECK_THAT(table, Catch::Contains("External queue.depth"));
  CHECK_THAT(table, Catch::Contains("ceil(1500 / 30) = 50"));
  CHECK_THAT(table, Catch::Contains("desired replicas: 4 (scale up from 2)"));
  std::string json = write_json(d, context);
  CHECK_THAT(json, Catch::Contains(R"("desiredReplicas":4)"));
  CHECK_THAT(json, Catch::Contains(R"("proposal":50)"));
  CHECK_THAT(json, Catch::Contains(R"("reason":"ScaleUpLimit")"));
}

}  // namespace
}  // namespace sma::hpa
