// The values the adapter serves, independent of API version and wire format. Mirrors
// k8s.io/metrics pkg/apis/custom_metrics and external_metrics (v1beta1, v1beta2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/label_selector.h"
#include "lib/api/quantity.h"
#include "lib/api/timestamp.h"

namespace sma::api {

// A resource as named in a path: "pods" (core) or "deployments.apps" -> {deployments, apps}.
struct GroupResource {
  std::string resource;
  std::string group;  // empty for the core group

  static GroupResource parse(const std::string& qualified);  // splits at the first '.'
  std::string to_string() const;                             // "deployments.apps"
  friend bool operator==(const GroupResource&, const GroupResource&) = default;
  friend auto operator<=>(const GroupResource&, const GroupResource&) = default;
};

// core/v1 ObjectReference, the fields a metrics answer fills.
struct ObjectReference {
  std::string kind;         // "Service"
  std::string namespace_;   // empty for root-scoped objects
  std::string name;
  std::string api_version;  // "group/version": "/v1" for core objects, "apps/v1"
};

struct MetricValue {
  ObjectReference described_object;
  std::string metric_name;
  Clock::time_point timestamp;
  std::optional<std::int64_t> window_seconds;  // omitted when unknown (pushed values)
  Quantity value;
};

struct ExternalMetricValue {
  std::string metric_name;
  Labels metric_labels;
  Clock::time_point timestamp;
  std::optional<std::int64_t> window_seconds;
  Quantity value;
};

// One entry of custom-metrics discovery: "pods/http_requests".
struct CustomMetricInfo {
  GroupResource resource;
  std::string metric;
  bool namespaced = true;
  friend auto operator<=>(const CustomMetricInfo&, const CustomMetricInfo&) = default;
};

struct ExternalMetricInfo {
  std::string metric;
  friend auto operator<=>(const ExternalMetricInfo&, const ExternalMetricInfo&) = default;
};

}  // namespace sma::api
