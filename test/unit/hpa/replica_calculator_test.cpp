// The replica calculator against a table: each case is what the HPA controller's
// replica_calculator.go computes for the same input (count and the rule that decided).
#include <catch2/catch.hpp>

#include <functional>

#include "lib/hpa/replica_calculator.h"
#include "test/unit/hpa/pod_fixtures.h"

namespace sma::hpa {
namespace {

using namespace test;

struct Case {
  const char* name;
  std::function<Proposal()> run;
  std::int32_t expected;
  const char* rule;  // a phrase the proposal's rule contains
};

ReplicaCalculator calc(CalculatorSettings s = settings()) { return ReplicaCalculator(s); }

CalculatorSettings absolute_test(double tolerance = 0.1) {
  auto s = settings();
  s.tolerance_test = ToleranceTest::AbsoluteDistance;
  s.scale_up_tolerance = s.scale_down_tolerance = tolerance;
  return s;
}

std::vector<PodState> ready_pods(int n) {
  std::vector<PodState> pods;
  for (int i = 0; i < n; ++i) pods.push_back(pod("p" + std::to_string(i)));
  return pods;
}

PodState two_containers(const std::string& name) {
  PodState p = pod(name);
  p.containers = {PodContainer{"app", {{"cpu", 500}}}, PodContainer{"sidecar", {{"cpu", 500}}}};
  return p;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      // Object, Value: ratio x ready pods.
      {"object Value 150/100 with 3 ready pods", [] { return calc().object_value(3, 150000, 100000, ready_pods(3)); }, 5,
       "ceil(ratio x ready pods)"},
      {"object Value 105/100 is within the tolerance", [] { return calc().object_value(3, 105000, 100000, ready_pods(3)); },
       3, "within tolerance"},
      {"object Value exactly +10% is inside the >= 1.33 range test",
       [] { return calc().object_value(3, 110000, 100000, ready_pods(3)); }, 3, "within tolerance"},
      {"object Value exactly +10% is outside the <= 1.32 |1 - ratio| test (floating point)",
       [] { return calc(absolute_test()).object_value(3, 110000, 100000, ready_pods(3)); }, 4, "ceil(ratio x ready pods)"},
      {"object Value just outside: 111/100", [] { return calc().object_value(3, 111000, 100000, ready_pods(3)); }, 4,
       "ceil(ratio x ready pods)"},
      {"object Value exactly -10% is inside both tests", [] { return calc(absolute_test()).object_value(3, 90000, 100000, ready_pods(3)); },
       3, "within tolerance"},
      {"object Value just below -10%: 89/100 with 10 ready pods",
       [] { return calc().object_value(10, 89000, 100000, ready_pods(10)); }, 9, "ceil(ratio x ready pods)"},
      {"object Value counts only Running and Ready pods",
       [] {
         return calc().object_value(3, 200000, 100000, {pod("a"), pod("b"), not_ready(pod("c"))});
       },
       4, "ceil(ratio x ready pods)"},
      {"object Value from zero replicas: ceil(ratio)", [] { return calc().object_value(0, 250000, 100000, {}); }, 3,
       "from zero replicas"},
      {"object AverageValue: ceil(900 / 100)", [] { return calc().object_average_value(3, 900000, 100000); }, 9,
       "ceil(total / target per pod)"},
      {"object AverageValue 310 over 3 x 100 is within the tolerance",
       [] { return calc().object_average_value(3, 310000, 100000); }, 3, "within tolerance"},
      {"object AverageValue divides by status.replicas", [] { return calc().object_average_value(4, 200000, 100000); }, 2,
       "ceil(total / target per pod)"},
      // External.
      {"external Value sums the series: (10 + 20 + 30) / 20 x 2 ready",
       [] { return calc().external_value(2, {10000, 20000, 30000}, 20000, ready_pods(2)); }, 6, "ceil(ratio x ready pods)"},
      {"external AverageValue: ceil(1500 / 30)", [] { return calc().external_average_value(10, {1500000}, 30000); }, 50,
       "ceil(total / target per pod)"},
      {"external AverageValue 310 over 10 x 30 is within the tolerance",
       [] { return calc().external_average_value(10, {310000}, 30000); }, 10, "within tolerance"},
      {"external AverageValue scale-down: ceil(45 / 30)", [] { return calc().external_average_value(10, {45000}, 30000); },
       2, "ceil(total / target per pod)"},
      {"external Value within the tolerance keeps the count",
       [] { return calc().external_value(4, {50000, 52000}, 100000, ready_pods(4)); }, 4, "within tolerance"},
      // Pods metrics.
      {"pods average 20 over 10, all ready",
       [] {
         return calc().pod_average_value(3, {{"a", value(20000)}, {"b", value(20000)}, {"c", value(20000)}}, 10000,
                                         {pod("a"), pod("b"), pod("c")}, "");
       },
       6, "ceil(ratio x ready pods)"},
      {"pods average 10.1 over 10 is within the tolerance",
       [] {
         return calc().pod_average_value(3, {{"a", value(10500)}, {"b", value(10000)}, {"c", value(9800)}}, 10000,
                                         {pod("a"), pod("b"), pod("c")}, "");
       },
       3, "within tolerance"},
      {"pods average is an integer division of milli-values (4m / 3 = 1m)",
       [] {
         return calc().pod_average_value(3, {{"a", value(1)}, {"b", value(1)}, {"c", value(2)}}, 1,
                                         {pod("a"), pod("b"), pod("c")}, "");
       },
       3, "within tolerance"},
      {"pods scale-up: a pod without a value counts as 0",
       [] {
         return calc().pod_average_value(3, {{"a", value(30000)}, {"b", value(30000)}}, 10000, {pod("a"), pod("b"), pod("c")}, "");
       },
       6, "ceil(adjusted ratio x counted pods)"},
      {"pods scale-down: a pod without a value counts at the target",
       [] {
         return calc().pod_average_value(3, {{"a", value(2000)}, {"b", value(2000)}}, 10000, {pod("a"), pod("b"), pod("c")}, "");
       },
       2, "ceil(adjusted ratio x counted pods)"},
      {"pods scale-down with a pod without a value lands within the tolerance",
       [] {
         return calc().pod_average_value(3, {{"a", value(9000)}, {"b", value(9000)}}, 10000, {pod("a"), pod("b"), pod("c")}, "");
       },
       3, "adjusted ratio within tolerance"},
      {"pods scale-up: a Pending pod counts as 0",
       [] {
         return calc().pod_average_value(3, {{"a", value(20000)}, {"b", value(20000)}}, 10000,
                                         {pod("a"), pod("b"), with_phase(pod("c"), "Pending")}, "");
       },
       4, "ceil(adjusted ratio x counted pods)"},
      {"pods scale-down: a Pending pod is left out",
       [] {
         return calc().pod_average_value(3, {{"a", value(5000)}, {"b", value(5000)}}, 10000,
                                         {pod("a"), pod("b"), with_phase(pod("c"), "Pending")}, "");
       },
       1, "ceil(ratio x ready pods)"},
      {"pods: a Running pod that is not Ready still counts for custom metrics",
       [] {
         return calc().pod_average_value(2, {{"a", value(20000)}, {"b", value(20000)}}, 10000, {pod("a"), not_ready(pod("b"))},
                                         "");
       },
       4, "ceil(ratio x ready pods)"},
      {"pods: failed and deleted pods are left out",
       [] {
         return calc().pod_average_value(3, {{"a", value(20000)}, {"b", value(100000)}, {"c", value(100000)}}, 10000,
                                         {pod("a"), with_phase(pod("b"), "Failed"), deleting(pod("c"))}, "");
       },
       2, "ceil(ratio x ready pods)"},
      {"pods: a Succeeded pod counts as one without a value (before 1.38)",
       [] {
         return calc().pod_average_value(2, {{"a", value(15000)}, {"b", value(15000)}}, 10000,
                                         {pod("a"), pod("b"), with_phase(pod("c"), "Succeeded")}, "");
       },
       2, "adjusted ratio within tolerance"},
      {"pods: a Succeeded pod is left out (1.38)",
       [] {
         auto s = settings();
         s.ignore_succeeded_pods = true;
         return calc(s).pod_average_value(2, {{"a", value(15000)}, {"b", value(15000)}}, 10000,
                                          {pod("a"), pod("b"), with_phase(pod("c"), "Succeeded")}, "");
       },
       3, "ceil(ratio x ready pods)"},
      {"pods: pods without values turn a scale-up into a scale-down: keep",
       [] {
         return calc().pod_average_value(4, {{"a", value(12000)}, {"b", value(12000)}}, 10000,
                                         {pod("a"), pod("b"), pod("c"), pod("d")}, "");
       },
       4, "reverses the direction"},
      // Resource metrics.
      {"cpu Utilization 90% against 60%",
       [] {
         return calc().resource_utilization(2, {{"a", value(450)}, {"b", value(450)}}, 60, {pod("a"), pod("b")}, "cpu", "");
       },
       3, "ceil(ratio x ready pods)"},
      {"cpu Utilization 61% against 60% is within the tolerance",
       [] {
         return calc().resource_utilization(2, {{"a", value(310)}, {"b", value(300)}}, 60, {pod("a"), pod("b")}, "cpu", "");
       },
       2, "within tolerance"},
      {"cpu: a pod still starting and not ready counts as 0 on a scale-up",
       [] {
         return calc().resource_utilization(3, {{"a", value(500)}, {"b", value(500)}, {"c", value(500)}}, 50,
                                            {pod("a"), pod("b"), started(pod("c"), 60, false, 0)}, "cpu", "");
       },
       4, "ceil(adjusted ratio x counted pods)"},
      {"cpu: a pod past its initialization that was ready before counts",
       [] {
         return calc().resource_utilization(3, {{"a", value(500)}, {"b", value(500)}, {"c", value(500)}}, 50,
                                            {pod("a"), pod("b"), started(pod("c"), 600, false, 300)}, "cpu", "");
       },
       6, "ceil(ratio x ready pods)"},
      {"cpu: a pod past its initialization that never became ready counts as 0 on a scale-up",
       [] {
         return calc().resource_utilization(3, {{"a", value(500)}, {"b", value(500)}, {"c", value(500)}}, 50,
                                            {pod("a"), pod("b"), started(pod("c"), 600, false, 10)}, "cpu", "");
       },
       4, "ceil(adjusted ratio x counted pods)"},
      {"memory: readiness is not checked for other resources",
       [] {
         return calc().pod_average_value(2, {{"a", value(2000)}, {"b", value(2000)}}, 1000,
                                         {pod("a"), started(pod("b"), 60, false, 0)}, "memory");
       },
       4, "ceil(ratio x ready pods)"},
      {"Utilization 200%: a pod without a value counts at the target on a scale-down (>= 1.26)",
       [] {
         return calc().resource_utilization(3, {{"a", value(20)}, {"b", value(20)}}, 200, {pod("a", 100), pod("b", 100), pod("c", 100)},
                                            "cpu", "");
       },
       2, "ceil(adjusted ratio x counted pods)"},
      {"Utilization 200% before 1.26: a pod without a value counts at 100% of its request",
       [] {
         auto s = settings();
         s.fallback_at_least_target = false;
         return calc(s).resource_utilization(3, {{"a", value(20)}, {"b", value(20)}}, 200,
                                             {pod("a", 100), pod("b", 100), pod("c", 100)}, "cpu", "");
       },
       1, "ceil(adjusted ratio x counted pods)"},
      {"ContainerResource: only the named container's request counts",
       [] {
         return calc().resource_utilization(2, {{"a", value(450)}, {"b", value(450)}}, 60, {two_containers("a"), two_containers("b")},
                                            "cpu", "app");
       },
       3, "ceil(ratio x ready pods)"},
      {"Resource: every container's request counts",
       [] {
         return calc().resource_utilization(2, {{"a", value(450)}, {"b", value(450)}}, 60, {two_containers("a"), two_containers("b")},
                                            "cpu", "");
       },
       2, "ceil(ratio x ready pods)"},
      // Tolerances.
      {"tolerance 0: a 1% change scales", [] {
         auto s = settings();
         s.scale_up_tolerance = s.scale_down_tolerance = 0;
         return calc(s).object_value(3, 101000, 100000, ready_pods(3));
       },
       4, "ceil(ratio x ready pods)"},
      {"scale-down tolerance 0.2 keeps a ratio of 0.85", [] {
         auto s = settings();
         s.scale_down_tolerance = 0.2;
         return calc(s).object_value(3, 85000, 100000, ready_pods(3));
       },
       3, "within tolerance"},
      {"scale-up tolerance 0.5 keeps 1.4, the scale-down one still moves 0.85", [] {
         auto s = settings();
         s.scale_up_tolerance = 0.5;
         return calc(s).object_value(10, 85000, 100000, ready_pods(10));
       },
       9, "ceil(ratio x ready pods)"},
      {"--horizontal-pod-autoscaler-tolerance 0.05 (<= 1.32): 1.06 scales",
       [] { return calc(absolute_test(0.05)).object_value(3, 106000, 100000, ready_pods(3)); }, 4, "ceil(ratio x ready pods)"},
  };
  return table;
}

TEST_CASE("the replica calculator table: counts and rules as the HPA controller's") {
  REQUIRE(cases().size() >= 40);
  for (const auto& c : cases()) {
    INFO(c.name);
    Proposal p = c.run();
    CHECK(p.replicas == c.expected);
    CHECK_THAT(p.rule, Catch::Contains(c.rule));
    CHECK_FALSE(p.steps.empty());
  }
}

TEST_CASE("the calculator refuses what the controller refuses, in its words") {
  auto message = [](const std::function<void()>& run) {
    try {
      run();
    } catch (const CalculationError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message([] { calc().object_value(3, 200000, 100000, {}); }), Catch::Contains("no pods returned by selector"));
  CHECK_THAT(message([] { calc().pod_average_value(3, {{"a", value(1)}}, 1000, {}, ""); }),
             Catch::Contains("no pods returned by selector"));
  CHECK_THAT(message([] {
               calc().pod_average_value(2, {{"a", value(1)}}, 1000,
                                        {with_phase(pod("a"), "Pending"), with_phase(pod("b"), "Pending")}, "");
             }),
             Catch::Contains("did not receive metrics for targeted pods"));
  CHECK_THAT(message([] {
               PodState bare = pod("b");
               bare.containers = {PodContainer{"app", {}}};
               calc().resource_utilization(2, {{"a", value(100)}, {"b", value(100)}}, 50, {pod("a"), bare}, "cpu", "");
             }),
             Catch::Contains("missing request for cpu in container app of Pod b"));
  CHECK_THAT(message([] {
               calc().resource_utilization(2, {{"a", value(100)}, {"b", value(100)}}, 50, {two_containers("a"), pod("b")},
                                           "cpu", "sidecar");
             }),
             Catch::Contains("container sidecar not found in Pod b"));
}

TEST_CASE("the pods without a value and the unready ones are named in the proposal") {
  Proposal p = calc().pod_average_value(3, {{"a", value(20000)}}, 10000,
                                        {pod("a"), pod("b"), with_phase(pod("c"), "Pending"), with_phase(pod("d"), "Failed")}, "");
  CHECK(p.ready_pods == 1);
  CHECK(p.missing_pods == std::vector<std::string>{"b"});
  CHECK(p.unready_pods == std::vector<std::string>{"c"});
  CHECK(p.ignored_pods == std::vector<std::string>{"d"});
  REQUIRE(p.adjusted_ratio.has_value());
  CHECK(*p.adjusted_ratio == Approx(20000.0 / 3 / 10000).epsilon(0.001));
}

}  // namespace
}  // namespace sma::hpa
