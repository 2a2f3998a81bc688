// One reconciliation of the HPA controller (horizontal.go reconcileAutoscaler), computed from
// values already read: the early exits (target at zero, outside minReplicas..maxReplicas), each
// metric's proposal, the rule for metrics that could not be read, the maximum over metrics, then
// minReplicas/maxReplicas and the rate limits of spec.behavior for one step.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/hpa/hpa_spec.h"
#include "lib/hpa/metric_reader.h"
#include "lib/hpa/pod_state.h"
#include "lib/hpa/replica_calculator.h"
#include "lib/hpa/scaling_limits.h"

namespace sma::hpa {

struct SimulationInput {
  HpaSpec hpa;
  std::int32_t spec_replicas = 0;    // /scale spec.replicas (or --replicas)
  std::int32_t status_replicas = 0;  // /scale status.replicas (or --replicas)
  std::vector<PodState> pods;        // selected by the target's selector
  std::vector<MetricReading> readings;  // one per hpa.metrics, same order
  CalculatorSettings settings;       // the controller's flags; per-HPA tolerances are applied from hpa.behavior
  bool per_hpa_tolerance = true;     // behavior.scale{Up,Down}.tolerance is honoured (>= 1.33 with the feature gate)
  std::chrono::seconds downscale_stabilization{300};
  std::vector<std::string> assumptions;  // what the caller had to assume (shown in the report)
};

struct MetricOutcome {
  MetricSpec spec;
  MetricReading reading;
  std::optional<Proposal> proposal;  // empty when the metric failed or was not simulated
  std::string error;
};

struct Decision {
  std::string namespace_;
  std::string name;
  std::int32_t current_replicas = 0;
  std::int32_t min_replicas = 0;
  std::int32_t max_replicas = 0;
  std::vector<MetricOutcome> metrics;
  std::string early_exit;                // set when the controller does not look at metrics at all
  std::optional<std::int32_t> recommendation;  // the maximum over the metrics' proposals
  std::string deciding_metric;
  std::int32_t failed_metrics = 0;
  bool held_by_failures = false;         // the controller would not scale because of failed metrics
  std::optional<LimitedCount> limited;   // min/max and rate limits applied to the recommendation
  std::int32_t desired_replicas = 0;     // what the controller would set
  std::string stabilization;             // what a stabilization window could change
  std::vector<std::string> notes;
  double scale_up_tolerance = 0.1;
  double scale_down_tolerance = 0.1;
};

// A label for a metric: "Object Service/kuard net.http.request.count", "Pods http_requests", ...
std::string metric_label(const MetricSpec& metric);

Decision simulate(const SimulationInput& input);

}  // namespace sma::hpa
