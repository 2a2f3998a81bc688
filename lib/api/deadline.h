// How long an API request may still take. Made once when the request starts and carried with it
// to everything that waits on its behalf (pod listing, backend calls, backend call slots, answers
// coalesced with an identical call in flight), so every wait is bounded by what is left of the
// request rather than by its own full timeout. Header-only: lib/http uses it without linking sma_api.
#pragma once

#include <algorithm>
#include <chrono>

namespace sma::api {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // No deadline: waits are bounded only by their own timeouts (discovery, sub-commands, tests).
  Deadline() = default;

  static Deadline at(Clock::time_point when) {
    Deadline d;
    d.bounded_ = true;
    d.when_ = when;
    return d;
  }
  static Deadline after(std::chrono::milliseconds budget, Clock::time_point now = Clock::now()) {
    return at(now + std::max(budget, std::chrono::milliseconds(0)));
  }

  bool bounded() const { return bounded_; }
  // Clock::time_point::max() when unbounded.
  Clock::time_point when() const { return when_; }
  bool expired(Clock::time_point now = Clock::now()) const { return bounded_ && now >= when_; }

  // What is left, never negative (whole milliseconds, rounded down); milliseconds::max() when unbounded.
  std::chrono::milliseconds remaining(Clock::time_point now = Clock::now()) const {
    if (!bounded_) return std::chrono::milliseconds::max();
    if (now >= when_) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(when_ - now);
  }

  // The budget of one call started now: min(timeout, what is left), never negative.
  std::chrono::milliseconds clamp(std::chrono::milliseconds timeout, Clock::time_point now = Clock::now()) const {
    return std::max(std::chrono::milliseconds(0), std::min(timeout, remaining(now)));
  }

  // When a call started now with `timeout` must be over: the earlier of its own end and the deadline.
  Clock::time_point end_of(std::chrono::milliseconds timeout, Clock::time_point now = Clock::now()) const {
    return std::min(now + timeout, when_);
  }

 private:
  bool bounded_ = false;
  Clock::time_point when_ = Clock::time_point::max();
};

}  // namespace sma::api
