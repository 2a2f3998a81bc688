// The last step of the HPA controller (horizontal.go): the metrics' recommendation is brought
// within minReplicas/maxReplicas and the rate limits. Without spec.behavior, a scale-up is limited
// to max(2 x current, 4) (convertDesiredReplicasWithRules); with it, by the scaleUp/scaleDown
// policies and selectPolicy (convertDesiredReplicasWithBehaviorRate). One step from the current
// count with no earlier scale events in the policies' periods: what the controller does when it
// has not scaled this target recently. Stabilization windows need the controller's history of
// recommendations, which a one-off computation does not have: stabilization_note says what they
// would change.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/hpa/hpa_spec.h"

namespace sma::hpa {

struct LimitedCount {
  std::int32_t replicas = 0;
  std::string reason;   // the ScalingLimited condition's reason: DesiredWithinRange, ScaleUpLimit, ...
  std::string message;  // and its message, in the controller's words
  std::vector<std::string> steps;
};

LimitedCount limit_without_behavior(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                                    std::int32_t max_replicas);
LimitedCount limit_with_behavior(std::int32_t current, std::int32_t desired, std::int32_t min_replicas,
                                 std::int32_t max_replicas, const Behavior& behavior);

// What the stabilization window would do to `desired` from `current`, or empty when it cannot
// change anything. `downscale_window` is --horizontal-pod-autoscaler-downscale-stabilization.
std::string stabilization_note(const std::optional<Behavior>& behavior, std::int32_t current, std::int32_t desired,
                               std::chrono::seconds downscale_window);

}  // namespace sma::hpa
