// When a failed call to the API server is worth repeating, and how long to wait first. Reads
// (GET) are repeated on 429, 5xx and any transport failure; writes (POST) only where the server
// cannot have acted on them: a failed connect, 429 and 503.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "lib/http/http_fetcher.h"

namespace sma::kube {

enum class CallKind { Read, Write };

bool worth_retrying_status(int status, CallKind kind);
bool worth_retrying_failure(http::FetchError::Kind failure, CallKind kind);

// Exponential backoff: initial * 2^(retry-1), scaled by a jitter factor in [0.5, 1.5) so clients
// that failed together do not come back together. `retry` counts from 1; `jitter` is in [0, 1).
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        double jitter);

// A Retry-After header in delay-seconds form, capped at 5 s so one call cannot stall for long.
// nullopt for an absent or HTTP-date value (the backoff applies then).
std::optional<std::chrono::milliseconds> retry_after_delay(std::string_view header);

}  // namespace sma::kube
