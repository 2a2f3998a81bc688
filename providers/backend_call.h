// One place where a call to a metrics backend (Sysdig, Prometheus) is sent and where every way it
// can fail becomes a MetricsError with a message an operator can act on. Never a made-up value:
// failures surface as 503/500, not as numbers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lib/config/secret_token.h"
#include "lib/http/http_fetcher.h"
#include "providers/provider.h"

namespace sma::providers {

// Sends a request. Production uses an HttpFetcher; `explain` substitutes one that only records.
using Transport = std::function<http::FetchResult(const http::OutgoingRequest&)>;

struct BackendEndpoint {
  std::string name;      // "Sysdig" or "Prometheus", for messages
  std::string base_url;  // no trailing slash
  config::SecretToken token;  // may be unconfigured (plain Prometheus)
  Transport transport;
};

// Reads a backend's own error text out of an error body, when it has one.
using ErrorMessageReader = std::function<std::optional<std::string>(std::string_view body)>;

// Adds Authorization and Accept, sends, and returns a 2xx answer. Otherwise throws MetricsError:
// transport failures, 401/403, 404, 429 and 5xx are Unavailable (503); a timeout once
// request.deadline has passed is Timeout (504); an oversized body and other statuses are Internal
// (500). A MetricsError from the transport (no free backend call slot) passes through. Messages
// never contain the token.
http::FetchResult call_backend(const BackendEndpoint& endpoint, http::OutgoingRequest request,
                               const ErrorMessageReader& read_error);

// "https://app.sysdigcloud.com/api/" -> "https://app.sysdigcloud.com"
std::string normalize_sysdig_endpoint(std::string endpoint);

}  // namespace sma::providers
