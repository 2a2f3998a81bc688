// The Prometheus HTTP API as Sysdig (under /prometheus) and Prometheus serve it: instant queries
// and label values. Failures arrive as MetricsError (see backend_call.h).
#pragma once

#include <string>
#include <vector>

#include "lib/api/timestamp.h"
#include "providers/backend_call.h"
#include "providers/promql/promql_response.h"

namespace sma::providers::promql {

class PromqlClient {
 public:
  // endpoint.base_url is the API root: "https://app.sysdigcloud.com/prometheus" or "http://prom:9090".
  explicit PromqlClient(BackendEndpoint endpoint);

  // POST /api/v1/query with query and time as a form, so long pod lists fit.
  http::OutgoingRequest instant_query_request(const std::string& query, api::Clock::time_point time) const;
  // Bounded by the API request's deadline as well as the backend timeout.
  // reuse_for: how long the value cache may reuse the answer (the rule's cacheTTL; unset: --cache-ttl).
  // The parsed answer, shared with every request that reuses the same cached backend answer.
  std::shared_ptr<const std::vector<PromqlSample>> instant_query(const std::string& query, api::Clock::time_point time,
                                          const api::Deadline& deadline = {},
                                          std::optional<std::chrono::milliseconds> reuse_for = std::nullopt,
                                          bool follow_up = false) const;

  // GET /api/v1/label/__name__/values
  std::vector<std::string> metric_names() const;

  const BackendEndpoint& endpoint() const { return endpoint_; }

 private:
  BackendEndpoint endpoint_;
};

}  // namespace sma::providers::promql
