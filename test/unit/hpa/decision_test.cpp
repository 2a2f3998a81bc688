// The whole reconciliation step: early exits, the maximum over metrics, failed metrics, and the
// limits (minReplicas/maxReplicas, the fixed rule without behavior, behavior policies).
#include <catch2/catch.hpp>

#include <functional>

#include "lib/hpa/simulation.h"
#include "test/unit/hpa/pod_fixtures.h"

namespace sma::hpa {
namespace {

using namespace test;

MetricSpec object_metric(const std::string& name, std::int64_t target_milli) {
  MetricSpec m;
  m.type = MetricType::Object;
  m.name = name;
  m.described_object = {"v1", "Service", "kuard"};
  m.target = {TargetType::Value, target_milli, 0, "100"};
  return m;
}

MetricReading reading(std::int64_t milli) {
  MetricReading r;
  r.object_milli = milli;
  return r;
}

MetricReading failed(const std::string& why) {
  MetricReading r;
  r.error = why;
  return r;
}

// An HPA with one Object metric (target 100) per reading, `current` ready pods, min/max.
SimulationInput input(std::int32_t current, std::vector<MetricReading> readings, std::int32_t min = 1,
                      std::int32_t max = 100) {
  SimulationInput in;
  in.hpa.name = "kuard";
  in.hpa.namespace_ = "default";
  in.hpa.scale_target = {"apps/v1", "Deployment", "kuard"};
  in.hpa.min_replicas = min;
  in.hpa.max_replicas = max;
  for (std::size_t i = 0; i < readings.size(); ++i) in.hpa.metrics.push_back(object_metric("m" + std::to_string(i), 100000));
  in.readings = std::move(readings);
  in.spec_replicas = in.status_replicas = current;
  for (int i = 0; i < current; ++i) in.pods.push_back(pod("p" + std::to_string(i)));
  in.settings = settings();
  return in;
}

Behavior default_behavior() {
  Behavior b;
  b.scale_up.stabilization_window_seconds = 0;
  b.scale_up.policies = {{ScalingPolicy::Type::Pods, 4, 15}, {ScalingPolicy::Type::Percent, 100, 15}};
  b.scale_down.policies = {{ScalingPolicy::Type::Percent, 100, 15}};
  return b;
}

SimulationInput with_behavior(SimulationInput in, const std::function<void(Behavior&)>& change) {
  Behavior b = default_behavior();
  change(b);
  in.hpa.behavior = b;
  return in;
}

struct Case {
  const char* name;
  SimulationInput in;
  std::int32_t expected;
  const char* reason;  // the limit's reason, or a phrase of the early exit or the notes
};

std::vector<Case> cases() {
  using P = ScalingPolicy;
  return {
      {"no behavior: a scale-up is limited to max(2 x 3, 4)", input(3, {reading(700000)}), 6, "ScaleUpLimit"},
      {"no behavior: from 1 replica up to 4", input(1, {reading(1000000)}), 4, "ScaleUpLimit"},
      {"no behavior: within the rate, clamped by maxReplicas", input(3, {reading(270000)}, 1, 5), 5, "TooManyReplicas"},
      {"no behavior: a scale-down stops at minReplicas", input(3, {reading(10000)}, 2), 2, "TooFewReplicas"},
      {"no behavior: a scale-down is not rate limited", input(10, {reading(10000)}), 1, "DesiredWithinRange"},
      {"behavior defaults: 4 pods or 100% a period, Max", with_behavior(input(3, {reading(700000)}), [](Behavior&) {}), 7,
       "ScaleUpLimit"},
      {"behavior scaleUp selectPolicy Min", with_behavior(input(3, {reading(700000)}),
                                                          [](Behavior& b) { b.scale_up.select_policy = SelectPolicy::Min; }),
       6, "ScaleUpLimit"},
      {"behavior scaleUp Disabled", with_behavior(input(3, {reading(700000)}),
                                                  [](Behavior& b) { b.scale_up.select_policy = SelectPolicy::Disabled; }),
       3, "ScaleUpLimit"},
      {"behavior scaleUp Pods 1 per 60s", with_behavior(input(3, {reading(700000)}),
                                                        [](Behavior& b) { b.scale_up.policies = {{P::Type::Pods, 1, 60}}; }),
       4, "ScaleUpLimit"},
      {"behavior scaleUp Percent rounds up: 10% of 7 is 8",
       with_behavior(input(7, {reading(500000)}), [](Behavior& b) { b.scale_up.policies = {{P::Type::Percent, 10, 60}}; }), 8,
       "ScaleUpLimit"},
      {"behavior: maxReplicas below the rate limit", with_behavior(input(3, {reading(700000)}, 1, 5), [](Behavior&) {}), 5,
       "TooManyReplicas"},
      {"behavior scaleDown Percent 50", with_behavior(input(10, {reading(20000)}),
                                                      [](Behavior& b) { b.scale_down.policies = {{P::Type::Percent, 50, 60}}; }),
       5, "ScaleDownLimit"},
      {"behavior scaleDown Pods 1 and Percent 50, Max takes the larger change",
       with_behavior(input(10, {reading(20000)}),
                     [](Behavior& b) { b.scale_down.policies = {{P::Type::Pods, 1, 60}, {P::Type::Percent, 50, 60}}; }),
       5, "ScaleDownLimit"},
      {"behavior scaleDown Pods 1 and Percent 50, Min takes the smaller change",
       with_behavior(input(10, {reading(20000)}),
                     [](Behavior& b) {
                       b.scale_down.policies = {{P::Type::Pods, 1, 60}, {P::Type::Percent, 50, 60}};
                       b.scale_down.select_policy = SelectPolicy::Min;
                     }),
       9, "ScaleDownLimit"},
      {"behavior scaleDown Disabled", with_behavior(input(10, {reading(20000)}),
                                                    [](Behavior& b) { b.scale_down.select_policy = SelectPolicy::Disabled; }),
       10, "ScaleDownLimit"},
      {"behavior scaleDown Percent rounds down: 10% off 7 is 6",
       with_behavior(input(7, {reading(10000)}), [](Behavior& b) { b.scale_down.policies = {{P::Type::Percent, 10, 60}}; }),
       6, "ScaleDownLimit"},
      {"behavior: minReplicas above the scale-down limit",
       with_behavior(input(10, {reading(20000)}, 4), [](Behavior&) {}), 4, "TooFewReplicas"},
      {"current above maxReplicas: set to maxReplicas, metrics unread", input(12, {reading(100000)}, 1, 10), 10,
       "above Spec.MaxReplicas"},
      {"current below minReplicas: set to minReplicas", input(1, {reading(100000)}, 2), 2, "below Spec.MinReplicas"},
      {"target at zero replicas: scaling disabled", input(0, {reading(900000)}), 0, "scaling is disabled"},
      {"the highest proposal wins", input(3, {reading(120000), reading(150000)}), 5, "DesiredWithinRange"},
      {"a failed metric does not stop a scale-up on the others", input(3, {failed("backend down"), reading(200000)}), 6,
       "scales on the others"},
      {"a failed metric stops a scale-down", input(3, {failed("backend down"), reading(10000)}), 3,
       "does not scale down while any metric fails"},
      {"every metric failed: no scaling", input(3, {failed("backend down")}), 3, "no metric could be computed"},
  };
}

std::string reason_of(const Decision& d) {
  std::string all = d.early_exit;
  if (d.limited) all += " " + d.limited->reason;
  for (const auto& note : d.notes) all += " " + note;
  return all;
}

TEST_CASE("the decision table: limits, behavior policies, early exits and failed metrics") {
  for (const auto& c : cases()) {
    INFO(c.name);
    Decision d = simulate(c.in);
    CHECK(d.desired_replicas == c.expected);
    CHECK_THAT(reason_of(d), Catch::Contains(c.reason));
  }
}

TEST_CASE("per-HPA tolerances apply from 1.33 and are ignored before") {
  SimulationInput in = with_behavior(input(3, {reading(140000)}), [](Behavior& b) { b.scale_up.tolerance = 0.5; });
  Decision honoured = simulate(in);
  CHECK(honoured.desired_replicas == 3);
  CHECK(honoured.scale_up_tolerance == 0.5);
  in.per_hpa_tolerance = false;
  Decision ignored = simulate(in);
  CHECK(ignored.desired_replicas == 5);
  CHECK_THAT(reason_of(ignored), Catch::Contains("tolerance ignored"));
}

TEST_CASE("the stabilization window is reported, not applied") {
  Decision down = simulate(input(10, {reading(20000)}));
  CHECK(down.desired_replicas == 2);
  CHECK_THAT(down.stabilization, Catch::Contains("scale-down stabilization (300s)"));
  SimulationInput up = with_behavior(input(3, {reading(200000)}), [](Behavior& b) { b.scale_up.stabilization_window_seconds = 60; });
  CHECK_THAT(simulate(up).stabilization, Catch::Contains("scale-up stabilization (60s)"));
  CHECK(simulate(input(3, {reading(200000)})).stabilization.empty());
}

}  // namespace
}  // namespace sma::hpa
