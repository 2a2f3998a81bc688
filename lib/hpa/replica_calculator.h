// The HPA controller's replica calculator (pkg/controller/podautoscaler/replica_calculator.go),
// one metric at a time: the usage ratio, the tolerance, the pods without a value, unready and not
// yet started, and the proposed replica count. Pure arithmetic on values already read, with every
// step written down so a person can follow it. Integer and float steps are done as Go does them
// (milli-values in int64, the average as an integer division, ratios in float64), so the counts are
// the controller's exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/hpa/pod_state.h"

namespace sma::hpa {

// A value the metrics API gave for one pod.
struct PodMetricValue {
  std::int64_t milli = 0;
  std::optional<Clock::time_point> timestamp;
  std::chrono::seconds window{0};
};
using PodMetrics = std::map<std::string, PodMetricValue>;  // pod name -> value

// How "close enough to the target" is tested. Kubernetes <= 1.32: |1 - ratio| <= tolerance.
// >= 1.33: 1 - scaleDownTolerance <= ratio <= 1 + scaleUpTolerance. They differ at the edge itself
// (a ratio of exactly 1.1 is outside the first, in floating point, and inside the second).
enum class ToleranceTest { AbsoluteDistance, Range };

struct CalculatorSettings {
  double scale_up_tolerance = 0.1;    // --horizontal-pod-autoscaler-tolerance, or behavior.scaleUp.tolerance
  double scale_down_tolerance = 0.1;  // ... or behavior.scaleDown.tolerance
  ToleranceTest tolerance_test = ToleranceTest::Range;
  // Utilization targets above 100%: a pod without a value counts at max(100%, target) on a
  // scale-down (>= 1.26), not at 100% of its request (before).
  bool fallback_at_least_target = true;
  // Succeeded pods are left out like Failed ones (kubernetes/kubernetes#141302), instead of being
  // counted as pods without a value.
  bool ignore_succeeded_pods = false;
  std::chrono::seconds cpu_initialization_period{300};  // --horizontal-pod-autoscaler-cpu-initialization-period
  std::chrono::seconds initial_readiness_delay{30};     // --horizontal-pod-autoscaler-initial-readiness-delay
  Clock::time_point now = Clock::now();

  bool within_tolerance(double ratio) const;
  std::string tolerance_text() const;  // "[0.9, 1.1]"
};

// One metric's proposal and how it came about.
struct Proposal {
  std::int32_t replicas = 0;
  std::string rule;                // the rule that decided, one short phrase
  std::vector<std::string> steps;  // the arithmetic, one line each
  double usage_ratio = 0;
  std::optional<double> adjusted_ratio;  // after pods without values / unready pods were counted
  std::int64_t current_milli = 0;        // the value the HPA status shows as current
  std::optional<std::int32_t> current_utilization;  // Utilization targets: percent of requests
  std::int32_t ready_pods = 0;
  std::vector<std::string> missing_pods;  // selected, running, but no value
  std::vector<std::string> unready_pods;  // pending, or (cpu) not ready / still starting
  std::vector<std::string> ignored_pods;  // deleted or failed (and, newer, succeeded)
};

// What the controller reports as an error for this metric: it then skips the metric (and does
// not scale down while any metric fails).
struct CalculationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ReplicaCalculator {
 public:
  explicit ReplicaCalculator(CalculatorSettings settings) : settings_(std::move(settings)) {}
  const CalculatorSettings& settings() const { return settings_; }

  // Object metric, Value target: ratio = value / target, times the ready pods.
  Proposal object_value(std::int32_t current_replicas, std::int64_t usage, std::int64_t target,
                        const std::vector<PodState>& pods) const;
  // Object metric, AverageValue target: the value is divided over status.replicas.
  Proposal object_average_value(std::int32_t status_replicas, std::int64_t usage, std::int64_t target_per_pod) const;
  // External metric, Value target: the sum of the series, then as object_value.
  Proposal external_value(std::int32_t current_replicas, const std::vector<std::int64_t>& values, std::int64_t target,
                          const std::vector<PodState>& pods) const;
  // External metric, AverageValue target: the sum divided over status.replicas.
  Proposal external_average_value(std::int32_t status_replicas, const std::vector<std::int64_t>& values,
                                  std::int64_t target_per_pod) const;
  // Pods metric (resource empty), or Resource/ContainerResource with an AverageValue target
  // (resource "cpu", "memory", ...): the per-pod average against the target.
  Proposal pod_average_value(std::int32_t current_replicas, PodMetrics metrics, std::int64_t target,
                             const std::vector<PodState>& pods, const std::string& resource) const;
  // Resource/ContainerResource with a Utilization target: usage as a percentage of the requests
  // (of every container, or of `container`).
  Proposal resource_utilization(std::int32_t current_replicas, PodMetrics metrics, std::int32_t target_percent,
                                const std::vector<PodState>& pods, const std::string& resource,
                                const std::string& container) const;

 private:
  Proposal settle_adjusted(Proposal p, std::int32_t current_replicas, double ratio, double new_ratio,
                           std::size_t counted) const;
  Proposal usage_ratio_count(std::int32_t current_replicas, double ratio, const std::vector<PodState>& pods,
                             Proposal proposal) const;
  Proposal per_pod_count(std::int32_t status_replicas, std::int64_t usage, std::int64_t target_per_pod,
                         Proposal proposal) const;

  CalculatorSettings settings_;
};

// "1500m", "12k": a milli-value as a canonical Kubernetes quantity.
std::string quantity_text(std::int64_t milli);
// A ratio with four decimals, as the reports print it.
std::string ratio_text(double ratio);

}  // namespace sma::hpa
