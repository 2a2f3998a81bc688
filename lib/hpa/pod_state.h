// What the HPA controller reads of each pod its target selects: phase, deletion, the Ready
// condition and its last transition, the start time, and the containers' requests (for
// Utilization targets). Read from a PodList as the API server writes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sma::hpa {

using Clock = std::chrono::system_clock;

struct PodContainer {
  std::string name;
  std::map<std::string, std::int64_t> requests_milli;  // resources.requests, in thousandths
};

struct PodState {
  std::string name;
  std::string phase = "Running";  // Pending, Running, Succeeded, Failed, Unknown
  bool deleting = false;          // metadata.deletionTimestamp is set
  std::optional<bool> ready;      // condition Ready: true/false; nullopt when the pod has none
  std::optional<Clock::time_point> ready_transition;  // lastTransitionTime of that condition
  std::optional<Clock::time_point> start_time;        // status.startTime
  // spec.containers, then init containers with restartPolicy Always (sidecars), whose requests
  // the controller also counts.
  std::vector<PodContainer> containers;

  // podutil.IsPodReady: the Ready condition is True.
  bool is_ready() const { return ready.value_or(false); }
};

// The items of a PodList JSON document. Throws HpaError naming what is malformed.
std::vector<PodState> read_pod_list(std::string_view json);

}  // namespace sma::hpa
