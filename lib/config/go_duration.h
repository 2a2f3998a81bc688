// Durations written the way Kubernetes flags and configs write them (Go's time.ParseDuration):
// "500ms", "10s", "1m30s", "1h", "0".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sma::config {

// Units ns, us (or µs), ms, s, m, h; decimal fractions allowed ("1.5s"); no sign. nullopt when
// malformed or beyond ~292 years.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// "1m30s", "500ms", "0s": the shortest Go-style spelling, for --help defaults and logs.
std::string format_go_duration(std::chrono::nanoseconds d);

}  // namespace sma::config
