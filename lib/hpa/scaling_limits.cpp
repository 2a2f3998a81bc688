#include "lib/hpa/scaling_limits.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sma::hpa {
namespace {

std::string policy_text(const ScalingPolicy& policy) {
  return std::to_string(policy.value) + (policy.type == ScalingPolicy::Type::Pods ? " pods" : "%") + " per " +
         std::to_string(policy.period_seconds) + "s";
}

// calculateScaleUpLimitWithScalingRules with no scale events in any period.
std::int32_t scale_up_limit(std::int32_t current, const ScalingRules& rules, std::vector<std::string>& steps) {
  if (rules.select_policy == SelectPolicy::Disabled) {
    steps.push_back("scaleUp selectPolicy Disabled: no scale-up");
    return current;
  }
  const bool pick_min = rules.select_policy == SelectPolicy::Min;
  std::int32_t result = pick_min ? std::numeric_limits<std::int32_t>::max() : std::numeric_limits<std::int32_t>::min();
  std::string each;
  for (const auto& policy : rules.policies) {
    std::int32_t proposed = policy.type == ScalingPolicy::Type::Pods
                                ? current + policy.value
                                : static_cast<std::int32_t>(std::ceil(static_cast<double>(current) *
                                                                      (1 + static_cast<double>(policy.value) / 100)));
    each += (each.empty() ? "" : ", ") + policy_text(policy) + " -> " + std::to_string(proposed);
    result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  steps.push_back("scaleUp policies from " + std::to_string(current) + ": " + each + "; selectPolicy " +
                  select_policy_name(rules.select_policy) + " -> at most " + std::to_string(result));
  return result;
}

// calculateScaleDownLimitWithBehaviors with no scale events in any period.
std::int32_t scale_down_limit(std::int32_t current, const ScalingRules& rules, std::vector<std::string>& steps) {
  if (rules.select_policy == SelectPolicy::Disabled) {
    steps.push_back("scaleDown selectPolicy Disabled: no scale-down");
    return current;
  }
  const bool pick_min_change = rules.select_policy == SelectPolicy::Min;
  std::int32_t result =
      pick_min_change ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int32_t>::max();
  std::string each;
  for (const auto& policy : rules.policies) {
    std::int32_t proposed = policy.type == ScalingPolicy::Type::Pods
                                ? current - policy.value
                                : static_cast<std::int32_t>(static_cast<double>(current) *
                                                            (1 - static_cast<double>(policy.value) / 100));
    each += (each.empty() ? "" : ", ") + policy_text(policy) + " -> " + std::to_string(proposed);
    result = pick_min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  steps.push_back("scaleDown policies from " + std::to_string(current) + ": " + each + "; selectPolicy " +
                  select_policy_name(rules.select_policy) + " -> at least " + std::to_string(result));
  return result;
}

}  // namespace

LimitedCount limit_without_behavior(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                                    std::int32_t max_replicas) {
  LimitedCount out;
  // calculateScaleUpLimit: max(2 x current, 4).
  const auto scale_up = static_cast<std::int32_t>(std::max(2.0 * static_cast<double>(current), 4.0));
  out.steps.push_back("no behavior: a scale-up is limited to max(2 x " + std::to_string(current) + ", 4) = " +
                      std::to_string(scale_up));
  std::int32_t maximum = max_replicas;
  std::string reason = "TooManyReplicas";
  std::string message = "the desired replica count is more than the maximum replica count";
  if (max_replicas > scale_up) {
    maximum = scale_up;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  if (desired < min_replicas) {
    out.replicas = min_replicas;
    out.reason = "TooFewReplicas";
    out.message = "the desired replica count is less than the minimum replica count";
  } else if (desired > maximum) {
    out.replicas = maximum;
    out.reason = reason;
    out.message = message;
  } else {
    out.replicas = desired;
    out.reason = "DesiredWithinRange";
    out.message = "the desired count is within the acceptable range";
  }
  return out;
}

LimitedCount limit_with_behavior(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                                 std::int32_t max_replicas, const Behavior& behavior) {
  LimitedCount out;
  out.replicas = desired;
  out.reason = "DesiredWithinRange";
  out.message = "the desired count is within the acceptable range";
  if (desired > current) {
    std::int32_t limit = std::max(scale_up_limit(current, behavior.scale_up, out.steps), current);
    std::int32_t maximum = max_replicas;
    std::string reason = "TooManyReplicas";
    std::string message = "the desired replica count is more than the maximum replica count";
    if (maximum > limit) {
      maximum = limit;
      reason = "ScaleUpLimit";
      message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (desired > maximum) {
      out.replicas = maximum;
      out.reason = reason;
      out.message = message;
    }
  } else if (desired < current) {
    std::int32_t limit = std::min(scale_down_limit(current, behavior.scale_down, out.steps), current);
    std::int32_t minimum = min_replicas;
    std::string reason = "TooFewReplicas";
    std::string message = "the desired replica count is less than the minimum replica count";
    if (minimum < limit) {
      minimum = limit;
      reason = "ScaleDownLimit";
      message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (desired < minimum) {
      out.replicas = minimum;
      out.reason = reason;
      out.message = message;
    }
  }
  return out;
}

std::string stabilization_note(const std::optional<Behavior>& behavior, std::int32_t current, std::int32_t desired,
                               std::chrono::seconds downscale_window) {
  if (desired < current) {
    std::int64_t window = downscale_window.count();
    if (behavior && behavior->scale_down.stabilization_window_seconds) {
      window = *behavior->scale_down.stabilization_window_seconds;
    }
    if (window <= 0) return "";
    return "scale-down stabilization (" + std::to_string(window) +
           "s): the controller scales down only to the highest recommendation of the last " + std::to_string(window) +
           "s, so " + std::to_string(desired) + " holds only if the metrics stayed this low that long";
  }
  if (desired > current && behavior && behavior->scale_up.stabilization_window_seconds.value_or(0) > 0) {
    const auto window = *behavior->scale_up.stabilization_window_seconds;
    return "scale-up stabilization (" + std::to_string(window) +
           "s): the controller scales up only to the lowest recommendation of the last " + std::to_string(window) +
           "s, so " + std::to_string(desired) + " holds only if the metrics stayed this high that long";
  }
  return "";
}

}  // namespace sma::hpa
