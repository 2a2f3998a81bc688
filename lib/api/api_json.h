// JSON documents of the metrics APIs, written with RapidJSON in the field order Kubernetes'
// encoding/json produces (struct order, maps sorted, omitempty honoured), so answers are
// byte-for-byte what a Go implementation would send.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/api/label_selector.h"
#include "lib/api/metric_types.h"

namespace sma::api {

inline constexpr std::string_view kCustomMetricsGroup = "custom.metrics.k8s.io";
inline constexpr std::string_view kExternalMetricsGroup = "external.metrics.k8s.io";

enum class CustomApiVersion { V1Beta1, V1Beta2 };
std::string_view to_string(CustomApiVersion v);  // "v1beta1"

// custom.metrics.k8s.io MetricValueList. The selector is echoed as `selector` (v1beta1) or
// `metric.selector` (v1beta2): null when the request had no metricLabelSelector.
std::string write_metric_value_list(CustomApiVersion version, const std::vector<MetricValue>& items,
                                    const LabelSelector* metric_selector);

// external.metrics.k8s.io/v1beta1 ExternalMetricValueList.
std::string write_external_metric_value_list(const std::vector<ExternalMetricValue>& items);

// APIResourceList for one group version. An empty input is written as placeholder entries
// ("*/*" custom, "*" external) because clients treat an empty list as a broken API.
std::string write_custom_resource_list(CustomApiVersion version, const std::vector<CustomMetricInfo>& metrics);
std::string write_external_resource_list(const std::vector<ExternalMetricInfo>& metrics);

// APIGroup documents and the APIGroupList served at /apis.
std::string write_custom_api_group();
std::string write_external_api_group();
std::string write_api_group_list();

// metav1.Status. reason is the StatusReason ("NotFound"), code the HTTP status.
struct Status {
  int code = 500;
  std::string reason;
  std::string message;
};
std::string write_status(const Status& status);

}  // namespace sma::api
