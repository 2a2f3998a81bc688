// A HorizontalPodAutoscaler as the HPA controller reads it: autoscaling/v2 (and v2beta2, whose
// spec has the same shape), with the API server's defaults applied (minReplicas 1, a CPU 80%
// target when metrics is empty, and, when behavior is given, every unset rule filled in as
// k8s.io/kubernetes/pkg/apis/autoscaling/v2/defaults.go fills it).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sma::hpa {

struct HpaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// autoscaling/v2 CrossVersionObjectReference.
struct ObjectRef {
  std::string api_version;  // "apps/v1", "v1"
  std::string kind;         // "Deployment"
  std::string name;
};

enum class MetricType { Object, Pods, Resource, ContainerResource, External };
enum class TargetType { Value, AverageValue, Utilization };

// MetricTarget: quantities kept exactly as the controller uses them, in thousandths (MilliValue()).
struct MetricTarget {
  TargetType type = TargetType::Value;
  std::int64_t milli = 0;       // Value or AverageValue
  std::int32_t utilization = 0; // Utilization: percent of the pods' requests
  std::string text;             // as written: "100", "500m", "80%"
};

struct MetricSpec {
  MetricType type = MetricType::Object;
  std::string name;             // metric.name; for (Container)Resource the resource: cpu, memory
  std::string selector;         // metric.selector as a selector string ("" = everything)
  ObjectRef described_object;   // Object only
  std::string container;        // ContainerResource only
  MetricTarget target;
};

enum class SelectPolicy { Max, Min, Disabled };

struct ScalingPolicy {
  enum class Type { Pods, Percent } type = Type::Pods;
  std::int32_t value = 0;
  std::int32_t period_seconds = 0;
};

struct ScalingRules {
  std::optional<std::int32_t> stabilization_window_seconds;  // unset scale-down: the controller's flag (300 s)
  SelectPolicy select_policy = SelectPolicy::Max;
  std::vector<ScalingPolicy> policies;
  std::optional<double> tolerance;  // Kubernetes >= 1.33, feature gate HPAConfigurableTolerance
};

struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;
};

struct HpaSpec {
  std::string api_version;  // autoscaling/v2 or autoscaling/v2beta2
  std::string name;
  std::string namespace_;   // empty when the document does not say
  ObjectRef scale_target;
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 0;
  std::vector<MetricSpec> metrics;
  std::optional<Behavior> behavior;  // unset: the controller's fixed rules (no policies)
};

// The first HorizontalPodAutoscaler of a YAML or JSON text (a file may hold other documents, or a
// List). Throws HpaError naming the field that is missing or wrong.
HpaSpec parse_hpa(const std::string& text);

const char* metric_type_name(MetricType type);  // "Object", "Pods", ...
const char* target_type_name(TargetType type);  // "Value", "AverageValue", "Utilization"
const char* select_policy_name(SelectPolicy policy);

}  // namespace sma::hpa
