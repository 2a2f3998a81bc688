#include "providers/promql/promql_client.h"

#include <cstdio>

namespace sma::providers::promql {
namespace {

// The "error" text of a Prometheus error envelope, if the body is one.
std::optional<std::string> prometheus_error(std::string_view body) {
  try {
    parse_instant_query_response(std::string(body));
  } catch (const PromqlResponseError& e) {
    if (e.kind() == PromqlResponseError::Kind::Api) return std::string(e.what());
  }
  return std::nullopt;
}

std::string unix_seconds(api::Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  return buf;
}

template <typename T, typename Parse>
T parse_or_fail(const BackendEndpoint& endpoint, Parse parse) {
  try {
    return parse();
  } catch (const PromqlResponseError& e) {
    throw MetricsError(MetricsError::Kind::Internal,
                       endpoint.name + " backend answered something that is not a Prometheus API response: " + e.what());
  }
}

}  // namespace

PromqlClient::PromqlClient(BackendEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

http::OutgoingRequest PromqlClient::instant_query_request(const std::string& query, api::Clock::time_point time) const {
  http::OutgoingRequest request;
  request.method = "POST";
  request.url = endpoint_.base_url + "/api/v1/query";
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body = "query=" + http::form_encode(query) + "&time=" + unix_seconds(time);
  return request;
}

std::shared_ptr<const std::vector<PromqlSample>> PromqlClient::instant_query(const std::string& query, api::Clock::time_point time,
                                                     const api::Deadline& deadline,
                                                     std::optional<std::chrono::milliseconds> reuse_for,
                                                     bool follow_up) const {
  http::OutgoingRequest request = instant_query_request(query, time);
  request.deadline = deadline;
  request.reuse_for = reuse_for;
  request.follow_up = follow_up;
  auto result = call_backend(endpoint_, std::move(request), prometheus_error);
  return parse_or_fail<std::shared_ptr<const std::vector<PromqlSample>>>(endpoint_, [&] {
    return result.parsed<std::vector<PromqlSample>>(
        [](std::string_view body) { return parse_instant_query_response(body); });
  });
}

std::vector<std::string> PromqlClient::metric_names() const {
  http::OutgoingRequest request;
  request.url = endpoint_.base_url + "/api/v1/label/__name__/values";
  auto result = call_backend(endpoint_, request, prometheus_error);
  return parse_or_fail<std::vector<std::string>>(endpoint_, [&] { return parse_label_values_response(result.text()); });
}

}  // namespace sma::providers::promql
