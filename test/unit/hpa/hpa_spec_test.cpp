// Reading an HPA as the API server stores it: defaults, both API versions, and refusals.
#include <catch2/catch.hpp>

#include "lib/hpa/hpa_spec.h"

namespace sma::hpa {
namespace {

constexpr const char* kObjectHpa = R"(# a comment, then other documents first
apiVersion: apps/v1
kind: Deployment
metadata: {name: kuard}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: kuard
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: kuard}
  maxReplicas: 10
  metrics:
    - type: Object
      object:
        describedObject: {apiVersion: v1, kind: Service, name: kuard}
        metric:
          name: net.http.request.count
          selector: {matchLabels: {verb: GET}, matchExpressions: [{key: code, operator: NotIn, values: ["500", "503"]}]}
        target: {type: Value, value: 1500m}
)";

TEST_CASE("an autoscaling/v2 HPA with an Object metric, among other documents") {
  HpaSpec hpa = parse_hpa(kObjectHpa);
  CHECK(hpa.name == "kuard");
  CHECK(hpa.namespace_ == "shop");
  CHECK(hpa.min_replicas == 1);  // defaulted
  CHECK(hpa.max_replicas == 10);
  CHECK(hpa.scale_target.kind == "Deployment");
  REQUIRE(hpa.metrics.size() == 1);
  const MetricSpec& m = hpa.metrics[0];
  CHECK(m.type == MetricType::Object);
  CHECK(m.described_object.kind == "Service");
  CHECK(m.target.type == TargetType::Value);
  CHECK(m.target.milli == 1500);
  CHECK(m.selector == "code notin (500,503),verb=GET");
  CHECK_FALSE(hpa.behavior.has_value());
}

TEST_CASE("a v2beta2 HPA as JSON, with behavior filled in from the defaults") {
  HpaSpec hpa = parse_hpa(R"({"apiVersion":"autoscaling/v2beta2","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"q"},"spec":{"scaleTargetRef":{"kind":"StatefulSet","name":"worker"},"minReplicas":2,
    "maxReplicas":20,"metrics":[{"type":"External","external":{"metric":{"name":"queue.depth"},
    "target":{"type":"AverageValue","averageValue":"30"}}}],
    "behavior":{"scaleDown":{"policies":[{"type":"Pods","value":1,"periodSeconds":60}],"tolerance":"0.05"}}}})");
  CHECK(hpa.api_version == "autoscaling/v2beta2");
  CHECK(hpa.min_replicas == 2);
  REQUIRE(hpa.behavior.has_value());
  CHECK(hpa.behavior->scale_up.policies.size() == 2);  // the default 4 pods / 100%
  CHECK(hpa.behavior->scale_up.stabilization_window_seconds == 0);
  CHECK(hpa.behavior->scale_up.select_policy == SelectPolicy::Max);
  REQUIRE(hpa.behavior->scale_down.policies.size() == 1);
  CHECK(hpa.behavior->scale_down.policies[0].type == ScalingPolicy::Type::Pods);
  CHECK_FALSE(hpa.behavior->scale_down.stabilization_window_seconds.has_value());  // the controller's flag
  CHECK(hpa.behavior->scale_down.tolerance == Approx(0.05));
  CHECK(hpa.metrics[0].target.milli == 30000);
}

TEST_CASE("an HPA without metrics targets 80% CPU, as the API server defaults it") {
  HpaSpec hpa = parse_hpa("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\n"
                          "spec: {scaleTargetRef: {kind: Deployment, name: a}, maxReplicas: 3}\n");
  REQUIRE(hpa.metrics.size() == 1);
  CHECK(hpa.metrics[0].type == MetricType::Resource);
  CHECK(hpa.metrics[0].name == "cpu");
  CHECK(hpa.metrics[0].target.utilization == 80);
}

TEST_CASE("what the API server would refuse is refused, naming the field") {
  auto refusal = [](const std::string& spec) {
    try {
      parse_hpa("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec: " + spec);
    } catch (const HpaError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refusal("{scaleTargetRef: {kind: Deployment, name: a}}"), Catch::Contains("spec.maxReplicas is required"));
  CHECK_THAT(refusal("{maxReplicas: 3}"), Catch::Contains("spec.scaleTargetRef"));
  CHECK_THAT(refusal("{scaleTargetRef: {kind: D, name: a}, maxReplicas: 3, metrics: [{type: Pods, pods: {metric: "
                     "{name: x}, target: {type: Value, value: 1}}}]}"),
             Catch::Contains("spec.metrics[0].pods.target.type must be AverageValue"));
  CHECK_THAT(refusal("{scaleTargetRef: {kind: D, name: a}, maxReplicas: 3, metrics: [{type: External, external: "
                     "{metric: {name: x}, target: {type: Value, value: lots}}}]}"),
             Catch::Contains("spec.metrics[0].external.target.value is not a Kubernetes quantity"));
  CHECK_THAT(refusal("{scaleTargetRef: {kind: D, name: a}, maxReplicas: 3, behavior: {scaleUp: {selectPolicy: Most}}}"),
             Catch::Contains("spec.behavior.scaleUp.selectPolicy"));
  CHECK_THAT(refusal("{scaleTargetRef: {kind: D, name: a}, minReplicas: 5, maxReplicas: 3}"),
             Catch::Contains("at least minReplicas"));
  CHECK_THROWS_WITH(parse_hpa("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n"),
                    Catch::Contains("autoscaling/v1"));
  CHECK_THROWS_WITH(parse_hpa("kind: Deployment\n"), Catch::Contains("no HorizontalPodAutoscaler"));
}

}  // namespace
}  // namespace sma::hpa
