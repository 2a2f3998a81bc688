#include "providers/backend_call.h"

#include "lib/telemetry/log.h"

namespace sma::providers {
namespace {

// The endpoint without the query string (PromQL in a GET URL can be long) for messages and logs.
std::string where(const http::OutgoingRequest& request) {
  return request.url.substr(0, request.url.find('?'));
}

[[noreturn]] void fail(MetricsError::Kind kind, const std::string& message) {
  telemetry::log_warning("backend call failed", {{"error", message}});
  throw MetricsError(kind, message);
}

}  // namespace

http::FetchResult call_backend(const BackendEndpoint& endpoint, http::OutgoingRequest request,
                               const ErrorMessageReader& read_error) {
  if (endpoint.token.configured()) {
    std::string token;
    try {
      token = endpoint.token.value();
    } catch (const std::exception& e) {
      fail(MetricsError::Kind::Unavailable, endpoint.name + " backend token unavailable: " + e.what());
    }
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
  request.headers.emplace_back("Accept", "application/json");

  http::FetchResult result;
  try {
    result = endpoint.transport(request);
  } catch (const http::FetchError& e) {
    if (e.kind() == http::FetchError::Kind::BodyTooLarge) {
      fail(MetricsError::Kind::Internal, endpoint.name + " backend answer refused: " + e.what());
    }
    // Out of time for the whole API request, not a backend slower than --backend-timeout.
    if (e.kind() == http::FetchError::Kind::Timeout && request.deadline.expired()) {
      fail(MetricsError::Kind::Timeout, endpoint.name + " backend gave no answer within the request's deadline "
                                                        "(--request-timeout): " + std::string(e.what()));
    }
    fail(MetricsError::Kind::Unavailable, endpoint.name + " backend unavailable: " + e.what());
  }
  if (result.status >= 200 && result.status < 300) return result;

  std::string detail;
  if (read_error) {
    if (auto message = read_error(result.text())) detail = ": " + *message;
  }
  std::string status = "HTTP " + std::to_string(result.status);
  if (result.status == 401 || result.status == 403) {
    fail(MetricsError::Kind::Unavailable, endpoint.name + " backend rejected the API token (" + status +
                                              " from " + where(request) + "); check the token Secret" + detail);
  }
  if (result.status == 404) {
    fail(MetricsError::Kind::Unavailable, endpoint.name + " backend has no " + where(request) + " (" + status +
                                              "); check the endpoint URL" + detail);
  }
  if (result.status == 429 || result.status >= 500) {
    fail(MetricsError::Kind::Unavailable,
         endpoint.name + " backend unavailable: " + status + " from " + where(request) + detail);
  }
  fail(MetricsError::Kind::Internal, endpoint.name + " backend refused the query: " + status + detail);
}

std::string normalize_sysdig_endpoint(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.size() >= 4 && endpoint.compare(endpoint.size() - 4, 4, "/api") == 0) endpoint.resize(endpoint.size() - 4);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

}  // namespace sma::providers
