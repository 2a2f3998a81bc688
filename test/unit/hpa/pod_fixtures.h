// Pods for the calculator tests, at a fixed "now".
#pragma once

#include <chrono>
#include <string>

#include "lib/hpa/pod_state.h"
#include "lib/hpa/replica_calculator.h"

namespace sma::hpa::test {

inline Clock::time_point test_now() { return Clock::time_point(std::chrono::seconds(1'800'000'000)); }

// Running, Ready since an hour, one container "app" requesting `cpu_request` milli-cpu.
inline PodState pod(const std::string& name, std::int64_t cpu_request = 500) {
  PodState p;
  p.name = name;
  p.phase = "Running";
  p.ready = true;
  p.start_time = test_now() - std::chrono::hours(1);
  p.ready_transition = *p.start_time + std::chrono::seconds(20);
  p.containers = {PodContainer{"app", {{"cpu", cpu_request}}}};
  return p;
}

inline PodState with_phase(PodState p, const std::string& phase) {
  p.phase = phase;
  return p;
}

inline PodState not_ready(PodState p) {
  p.ready = false;
  return p;
}

inline PodState deleting(PodState p) {
  p.deleting = true;
  return p;
}

// Started `seconds` ago; its Ready condition changed `transition_after` seconds after the start.
inline PodState started(PodState p, int seconds, bool ready, int transition_after) {
  p.start_time = test_now() - std::chrono::seconds(seconds);
  p.ready = ready;
  p.ready_transition = *p.start_time + std::chrono::seconds(transition_after);
  return p;
}

// A value sampled a minute ago over a 30 s window.
inline PodMetricValue value(std::int64_t milli) {
  return PodMetricValue{milli, test_now() - std::chrono::seconds(60), std::chrono::seconds(30)};
}

inline CalculatorSettings settings() {
  CalculatorSettings s;
  s.now = test_now();
  return s;
}

}  // namespace sma::hpa::test
