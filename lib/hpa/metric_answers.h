// The metrics APIs' answers as the HPA controller's metrics clients read them
// (k8s.io/kubernetes/pkg/controller/podautoscaler/metrics): values as milli-values, per pod where
// the answer is per pod, with the same refusals (an Object answer must hold exactly one value; an
// empty Pods, External or resource answer is an error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/hpa/replica_calculator.h"

namespace sma::hpa {

// A MetricValueList (custom.metrics.k8s.io v1beta1 or v1beta2) asked for one object.
std::int64_t read_object_value(std::string_view json);
// A MetricValueList asked for pods/*: describedObject.name -> value, with timestamp and window.
PodMetrics read_pod_values(std::string_view json);
// An ExternalMetricValueList: every series' value.
std::vector<std::int64_t> read_external_values(std::string_view json);
// A metrics.k8s.io PodMetricsList: per pod, the sum of its containers' usage of `resource`, or
// the usage of `container` alone. A pod lacking the resource (or the container) has no value.
PodMetrics read_resource_usage(std::string_view json, const std::string& resource, const std::string& container);

// The message of a metav1.Status body, or nullopt when the body is not one.
std::optional<std::string> status_message(std::string_view json);

}  // namespace sma::hpa
