// RFC 3339 timestamps in UTC with whole seconds, as metav1.Time marshals them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sma::api {

using Clock = std::chrono::system_clock;

// "2026-01-01T10:00:00Z"; sub-second parts are truncated.
std::string format_rfc3339(Clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"; nullopt if malformed.
std::optional<Clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace sma::api
