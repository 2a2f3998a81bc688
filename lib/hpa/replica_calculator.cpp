#include "lib/hpa/replica_calculator.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "lib/api/quantity.h"

namespace sma::hpa {
namespace {

// int32(math.Ceil(x)), with the controller's cap at MaxInt32.
std::int32_t ceil_replicas(double x) {
  double rounded = std::ceil(x);
  if (rounded > static_cast<double>(std::numeric_limits<std::int32_t>::max())) {
    return std::numeric_limits<std::int32_t>::max();
  }
  return static_cast<std::int32_t>(rounded);
}

std::string list_text(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

struct PodGroups {
  std::int32_t ready = 0;
  std::set<std::string> unready;
  std::set<std::string> missing;
  std::set<std::string> ignored;
};

// groupPods: which selected pods count, which wait, which have no value.
PodGroups group_pods(const std::vector<PodState>& pods, const PodMetrics& metrics, const std::string& resource,
                     const CalculatorSettings& settings) {
  PodGroups groups;
  for (const auto& pod : pods) {
    const bool terminal = pod.phase == "Failed" || (settings.ignore_succeeded_pods && pod.phase == "Succeeded");
    if (pod.deleting || terminal) {
      groups.ignored.insert(pod.name);
      continue;
    }
    if (pod.phase == "Pending") {
      groups.unready.insert(pod.name);
      continue;
    }
    auto metric = metrics.find(pod.name);
    if (metric == metrics.end()) {
      groups.missing.insert(pod.name);
      continue;
    }
    // Readiness only matters for CPU: its samples are unreliable while a pod starts.
    if (resource == "cpu") {
      bool unready = false;
      if (!pod.ready.has_value() || !pod.start_time) {
        unready = true;
      } else if (*pod.start_time + settings.cpu_initialization_period > settings.now) {
        // Still initialising: unready, or no full window of samples since the last transition.
        const bool sample_too_early =
            !metric->second.timestamp ||
            (pod.ready_transition && *metric->second.timestamp < *pod.ready_transition + metric->second.window);
        unready = !*pod.ready || sample_too_early;
      } else {
        // Past it: ignored only if it never became ready.
        unready = !*pod.ready &&
                  (!pod.ready_transition || *pod.start_time + settings.initial_readiness_delay > *pod.ready_transition);
      }
      if (unready) {
        groups.unready.insert(pod.name);
        continue;
      }
    }
    ++groups.ready;
  }
  return groups;
}

// GetMetricUsageRatio: the integer average of the values, over the target.
std::pair<double, std::int64_t> usage_ratio(const PodMetrics& metrics, std::int64_t target) {
  std::int64_t total = 0;
  for (const auto& [name, value] : metrics) total += value.milli;
  const std::int64_t average = total / static_cast<std::int64_t>(metrics.size());
  return {static_cast<double>(average) / static_cast<double>(target), average};
}

struct Utilization {
  double ratio = 0;
  std::int32_t percent = 0;
  std::int64_t raw_average = 0;
};

// GetResourceUtilizationRatio: the sum of the values over the sum of the requests, in whole percent.
Utilization utilization_ratio(const PodMetrics& metrics, const std::map<std::string, std::int64_t>& requests,
                              std::int32_t target) {
  std::int64_t metrics_total = 0;
  std::int64_t requests_total = 0;
  std::int64_t entries = 0;
  for (const auto& [name, value] : metrics) {
    auto request = requests.find(name);
    if (request == requests.end()) continue;
    metrics_total += value.milli;
    requests_total += request->second;
    ++entries;
  }
  if (requests_total == 0) throw CalculationError("no metrics returned matched known pods");
  Utilization u;
  u.percent = static_cast<std::int32_t>((metrics_total * 100) / requests_total);
  u.ratio = static_cast<double>(u.percent) / static_cast<double>(target);
  u.raw_average = metrics_total / entries;
  return u;
}

void note_groups(Proposal& p, const PodGroups& groups) {
  p.ready_pods = groups.ready;
  p.missing_pods.assign(groups.missing.begin(), groups.missing.end());
  p.unready_pods.assign(groups.unready.begin(), groups.unready.end());
  p.ignored_pods.assign(groups.ignored.begin(), groups.ignored.end());
  std::string line = std::to_string(groups.ready) + " ready pod(s) with a value";
  if (!groups.missing.empty()) line += "; without a value: " + list_text(groups.missing);
  if (!groups.unready.empty()) line += "; unready or not yet started: " + list_text(groups.unready);
  if (!groups.ignored.empty()) line += "; left out (deleted or finished): " + list_text(groups.ignored);
  p.steps.push_back(line);
}

std::string pods_word(std::int64_t n) { return std::to_string(n) + (n == 1 ? " pod" : " pods"); }

}  // namespace

bool CalculatorSettings::within_tolerance(double ratio) const {
  if (tolerance_test == ToleranceTest::AbsoluteDistance) return std::fabs(1.0 - ratio) <= scale_up_tolerance;
  return (1.0 - scale_down_tolerance) <= ratio && ratio <= (1.0 + scale_up_tolerance);
}

std::string CalculatorSettings::tolerance_text() const {
  char buffer[96];
  if (tolerance_test == ToleranceTest::AbsoluteDistance) {
    std::snprintf(buffer, sizeof buffer, "|1 - ratio| <= %g", scale_up_tolerance);
  } else {
    std::snprintf(buffer, sizeof buffer, "%g <= ratio <= %g", 1.0 - scale_down_tolerance, 1.0 + scale_up_tolerance);
  }
  return buffer;
}

std::string quantity_text(std::int64_t milli) { return api::Quantity::from_milli(milli).to_string(); }

std::string ratio_text(double ratio) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", ratio);
  return buffer;
}

Proposal ReplicaCalculator::usage_ratio_count(std::int32_t current_replicas, double ratio,
                                              const std::vector<PodState>& pods, Proposal p) const {
  p.usage_ratio = ratio;
  if (current_replicas == 0) {
    p.replicas = ceil_replicas(ratio);
    p.rule = "from zero replicas: ceil(ratio)";
    p.steps.push_back("current replicas 0: ceil(" + ratio_text(ratio) + ") = " + std::to_string(p.replicas));
    return p;
  }
  if (settings_.within_tolerance(ratio)) {
    p.replicas = current_replicas;
    p.rule = "within tolerance: keep the current count";
    p.steps.push_back("ratio " + ratio_text(ratio) + " is within the tolerance (" + settings_.tolerance_text() +
                      "): keep " + std::to_string(current_replicas));
    return p;
  }
  if (pods.empty()) throw CalculationError("unable to calculate ready pods: no pods returned by selector while calculating replica count");
  std::int32_t ready = 0;
  for (const auto& pod : pods) {
    if (pod.phase == "Running" && pod.is_ready()) ++ready;
  }
  p.ready_pods = ready;
  p.replicas = ceil_replicas(ratio * static_cast<double>(ready));
  p.rule = "ceil(ratio x ready pods)";
  p.steps.push_back("ratio " + ratio_text(ratio) + " is outside the tolerance (" + settings_.tolerance_text() + ")");
  p.steps.push_back("ready pods (Running and Ready): " + std::to_string(ready) + " of " + pods_word(static_cast<std::int64_t>(pods.size())) + " selected");
  p.steps.push_back("ceil(" + ratio_text(ratio) + " x " + std::to_string(ready) + ") = " + std::to_string(p.replicas));
  return p;
}

Proposal ReplicaCalculator::per_pod_count(std::int32_t status_replicas, std::int64_t usage,
                                          std::int64_t target_per_pod, Proposal p) const {
  p.replicas = status_replicas;
  const double ratio =
      static_cast<double>(usage) / (static_cast<double>(target_per_pod) * static_cast<double>(status_replicas));
  p.usage_ratio = ratio;
  p.steps.push_back("ratio = " + quantity_text(usage) + " / (" + quantity_text(target_per_pod) + " x " +
                    std::to_string(status_replicas) + " replicas) = " + ratio_text(ratio));
  if (!settings_.within_tolerance(ratio)) {
    p.replicas = ceil_replicas(static_cast<double>(usage) / static_cast<double>(target_per_pod));
    p.rule = "ceil(total / target per pod)";
    p.steps.push_back("outside the tolerance (" + settings_.tolerance_text() + "): ceil(" + quantity_text(usage) + " / " +
                      quantity_text(target_per_pod) + ") = " + std::to_string(p.replicas));
  } else {
    p.rule = "within tolerance: keep the current count";
    p.steps.push_back("within the tolerance (" + settings_.tolerance_text() + "): keep " + std::to_string(status_replicas));
  }
  p.current_milli = status_replicas == 0
                        ? 0
                        : static_cast<std::int64_t>(std::ceil(static_cast<double>(usage) / static_cast<double>(status_replicas)));
  return p;
}

Proposal ReplicaCalculator::object_value(std::int32_t current_replicas, std::int64_t usage, std::int64_t target,
                                         const std::vector<PodState>& pods) const {
  Proposal p;
  p.current_milli = usage;
  const double ratio = static_cast<double>(usage) / static_cast<double>(target);
  p.steps.push_back("ratio = " + quantity_text(usage) + " / " + quantity_text(target) + " = " + ratio_text(ratio));
  return usage_ratio_count(current_replicas, ratio, pods, std::move(p));
}

Proposal ReplicaCalculator::object_average_value(std::int32_t status_replicas, std::int64_t usage,
                                                 std::int64_t target_per_pod) const {
  return per_pod_count(status_replicas, usage, target_per_pod, Proposal{});
}

namespace {
std::int64_t sum_of(const std::vector<std::int64_t>& values, std::vector<std::string>& steps) {
  std::int64_t total = 0;
  std::string terms;
  for (std::int64_t v : values) {
    if (v > 0 && total > std::numeric_limits<std::int64_t>::max() - v) {
      total = std::numeric_limits<std::int64_t>::max();
      break;
    }
    total += v;
    terms += (terms.empty() ? "" : " + ") + quantity_text(v);
  }
  if (values.size() > 1) steps.push_back("sum over " + std::to_string(values.size()) + " series: " + terms + " = " + quantity_text(total));
  return total;
}
}  // namespace

Proposal ReplicaCalculator::external_value(std::int32_t current_replicas, const std::vector<std::int64_t>& values,
                                           std::int64_t target, const std::vector<PodState>& pods) const {
  Proposal p;
  const std::int64_t usage = sum_of(values, p.steps);
  p.current_milli = usage;
  const double ratio = static_cast<double>(usage) / static_cast<double>(target);
  p.steps.push_back("ratio = " + quantity_text(usage) + " / " + quantity_text(target) + " = " + ratio_text(ratio));
  return usage_ratio_count(current_replicas, ratio, pods, std::move(p));
}

Proposal ReplicaCalculator::external_average_value(std::int32_t status_replicas, const std::vector<std::int64_t>& values,
                                                   std::int64_t target_per_pod) const {
  Proposal p;
  const std::int64_t usage = sum_of(values, p.steps);
  return per_pod_count(status_replicas, usage, target_per_pod, std::move(p));
}

// The end of every pods-based proposal once missing and unready pods were counted in: the adjusted
// ratio keeps the current count when within tolerance or when it reverses the direction of the
// first ratio, and so does a count that would move the other way.
Proposal ReplicaCalculator::settle_adjusted(Proposal p, std::int32_t current_replicas, double ratio, double new_ratio,
                                            std::size_t counted) const {
  if (settings_.within_tolerance(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
    p.replicas = current_replicas;
    p.rule = settings_.within_tolerance(new_ratio) ? "adjusted ratio within tolerance: keep the current count"
                                                   : "adjusted ratio reverses the direction: keep the current count";
    p.steps.push_back(p.rule + " (" + std::to_string(current_replicas) + ")");
    return p;
  }
  const std::int32_t proposed = ceil_replicas(new_ratio * static_cast<double>(counted));
  if ((new_ratio < 1.0 && proposed > current_replicas) || (new_ratio > 1.0 && proposed < current_replicas)) {
    p.replicas = current_replicas;
    p.rule = "pod count reverses the direction: keep the current count";
    p.steps.push_back("ceil(" + ratio_text(new_ratio) + " x " + std::to_string(counted) + ") = " +
                      std::to_string(proposed) + " would move the other way: keep " + std::to_string(current_replicas));
    return p;
  }
  p.replicas = proposed;
  p.rule = "ceil(adjusted ratio x counted pods)";
  p.steps.push_back("ceil(" + ratio_text(new_ratio) + " x " + std::to_string(counted) + ") = " + std::to_string(proposed));
  return p;
}

Proposal ReplicaCalculator::pod_average_value(std::int32_t current_replicas, PodMetrics metrics, std::int64_t target,
                                              const std::vector<PodState>& pods, const std::string& resource) const {
  if (pods.empty()) throw CalculationError("no pods returned by selector while calculating replica count");
  Proposal p;
  const PodGroups groups = group_pods(pods, metrics, resource, settings_);
  note_groups(p, groups);
  for (const auto& name : groups.ignored) metrics.erase(name);
  for (const auto& name : groups.unready) metrics.erase(name);
  if (metrics.empty()) throw CalculationError("did not receive metrics for targeted pods (pods might be unready)");

  auto [ratio, average] = usage_ratio(metrics, target);
  p.usage_ratio = ratio;
  p.current_milli = average;
  p.steps.push_back("average of " + pods_word(static_cast<std::int64_t>(metrics.size())) + " = " + quantity_text(average) +
                    "; ratio = " + quantity_text(average) + " / " + quantity_text(target) + " = " + ratio_text(ratio));
  const bool scale_up_with_unready = !groups.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (settings_.within_tolerance(ratio)) {
      p.replicas = current_replicas;
      p.rule = "within tolerance: keep the current count";
      p.steps.push_back("within the tolerance (" + settings_.tolerance_text() + "): keep " + std::to_string(current_replicas));
      return p;
    }
    p.replicas = ceil_replicas(ratio * static_cast<double>(groups.ready));
    p.rule = "ceil(ratio x ready pods)";
    p.steps.push_back("ceil(" + ratio_text(ratio) + " x " + std::to_string(groups.ready) + " ready) = " + std::to_string(p.replicas));
    return p;
  }
  if (!groups.missing.empty()) {
    if (ratio < 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetricValue{target, std::nullopt, {}};
      p.steps.push_back("scale-down: the pods without a value count as using the target (" + quantity_text(target) + ")");
    } else if (ratio > 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetricValue{0, std::nullopt, {}};
      p.steps.push_back("scale-up: the pods without a value count as using 0");
    }
  }
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready) metrics[name] = PodMetricValue{0, std::nullopt, {}};
    p.steps.push_back("scale-up: the unready pods count as using 0");
  }
  const auto [new_ratio, new_average] = usage_ratio(metrics, target);
  p.adjusted_ratio = new_ratio;
  p.steps.push_back("adjusted average over " + pods_word(static_cast<std::int64_t>(metrics.size())) + " = " +
                    quantity_text(new_average) + "; ratio = " + ratio_text(new_ratio));
  return settle_adjusted(std::move(p), current_replicas, ratio, new_ratio, metrics.size());
}

Proposal ReplicaCalculator::resource_utilization(std::int32_t current_replicas, PodMetrics metrics,
                                                 std::int32_t target_percent, const std::vector<PodState>& pods,
                                                 const std::string& resource, const std::string& container) const {
  if (pods.empty()) throw CalculationError("no pods returned by selector while calculating replica count");
  Proposal p;
  const PodGroups groups = group_pods(pods, metrics, resource, settings_);
  note_groups(p, groups);
  for (const auto& name : groups.ignored) metrics.erase(name);
  for (const auto& name : groups.unready) metrics.erase(name);
  if (metrics.empty()) throw CalculationError("did not receive metrics for targeted pods (pods might be unready)");

  // calculateRequests: every selected pod's request (of every container, or of the named one).
  std::map<std::string, std::int64_t> requests;
  for (const auto& pod : pods) {
    std::int64_t request = 0;
    bool found = container.empty();
    for (const auto& c : pod.containers) {
      if (!container.empty() && c.name != container) continue;
      auto r = c.requests_milli.find(resource);
      if (r == c.requests_milli.end()) {
        throw CalculationError("missing request for " + resource + " in container " + c.name + " of Pod " + pod.name);
      }
      request += r->second;
      found = true;
    }
    if (!found) throw CalculationError("container " + container + " not found in Pod " + pod.name);
    requests[pod.name] = request;
  }

  const Utilization u = utilization_ratio(metrics, requests, target_percent);
  p.usage_ratio = u.ratio;
  p.current_utilization = u.percent;
  p.current_milli = u.raw_average;
  p.steps.push_back("utilization = " + std::to_string(u.percent) + "% of the requests (average " +
                    quantity_text(u.raw_average) + " a pod); ratio = " + std::to_string(u.percent) + " / " +
                    std::to_string(target_percent) + " = " + ratio_text(u.ratio));
  const bool scale_up_with_unready = !groups.unready.empty() && u.ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (settings_.within_tolerance(u.ratio)) {
      p.replicas = current_replicas;
      p.rule = "within tolerance: keep the current count";
      p.steps.push_back("within the tolerance (" + settings_.tolerance_text() + "): keep " + std::to_string(current_replicas));
      return p;
    }
    p.replicas = ceil_replicas(u.ratio * static_cast<double>(groups.ready));
    p.rule = "ceil(ratio x ready pods)";
    p.steps.push_back("ceil(" + ratio_text(u.ratio) + " x " + std::to_string(groups.ready) + " ready) = " + std::to_string(p.replicas));
    return p;
  }
  if (!groups.missing.empty()) {
    if (u.ratio < 1.0) {
      const std::int64_t fallback = settings_.fallback_at_least_target ? std::max<std::int64_t>(100, target_percent) : 100;
      for (const auto& name : groups.missing) metrics[name] = PodMetricValue{requests[name] * fallback / 100, std::nullopt, {}};
      p.steps.push_back("scale-down: the pods without a value count as using " + std::to_string(fallback) + "% of their request");
    } else if (u.ratio > 1.0) {
      for (const auto& name : groups.missing) metrics[name] = PodMetricValue{0, std::nullopt, {}};
      p.steps.push_back("scale-up: the pods without a value count as using 0");
    }
  }
  if (scale_up_with_unready) {
    for (const auto& name : groups.unready) metrics[name] = PodMetricValue{0, std::nullopt, {}};
    p.steps.push_back("scale-up: the unready pods count as using 0");
  }
  const Utilization adjusted = utilization_ratio(metrics, requests, target_percent);
  p.adjusted_ratio = adjusted.ratio;
  p.steps.push_back("adjusted utilization over " + pods_word(static_cast<std::int64_t>(metrics.size())) + " = " +
                    std::to_string(adjusted.percent) + "%; ratio = " + ratio_text(adjusted.ratio));
  const double ratio = u.ratio;
  const double new_ratio = adjusted.ratio;
  return settle_adjusted(std::move(p), current_replicas, ratio, new_ratio, metrics.size());
}

}  // namespace sma::hpa
