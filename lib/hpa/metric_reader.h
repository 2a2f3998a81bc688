// Reads one metric of an HPA the way the controller's metrics clients do: the same API paths
// (custom.metrics.k8s.io v1beta2, external.metrics.k8s.io v1beta1, metrics.k8s.io v1beta1) through
// whatever answers them: the kube-apiserver (--source api) or the adapter's own handler
// (--source providers). The getter is injected, so this stays free of I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/hpa/hpa_spec.h"
#include "lib/hpa/replica_calculator.h"

namespace sma::hpa {

struct ApiAnswer {
  int status = 0;
  std::string body;
};
// GET of an API path (with its query); throws std::exception when no answer arrived at all.
using ApiGet = std::function<ApiAnswer(const std::string& path)>;

// What was read for one metric of the HPA, or why nothing was.
struct MetricReading {
  std::string path;                         // the API path asked (empty for --what-if values)
  std::optional<std::string> error;         // could not be read: the reason, in the controller's words
  bool not_simulated = false;               // Resource metrics without metrics.k8s.io: skipped, not failed
  bool what_if = false;                     // the value came from --what-if
  std::int64_t object_milli = 0;            // Object
  std::vector<std::int64_t> external_milli; // External: one per series
  PodMetrics pod_values;                    // Pods, Resource, ContainerResource
};

// The API path the controller asks for `metric` of an HPA in `namespace_`; `pod_selector` is the
// scale target's selector (Pods and resource metrics select pods with it).
std::string metric_path(const std::string& namespace_, const MetricSpec& metric, const std::string& pod_selector);

MetricReading read_metric(const ApiGet& get, const std::string& namespace_, const MetricSpec& metric,
                          const std::string& pod_selector);

// A query parameter value, percent-encoded (a space as %20, as Go's url.Values encodes ... as +;
// both decode the same).
std::string query_escape(const std::string& text);

}  // namespace sma::hpa
