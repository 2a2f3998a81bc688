// Sysdig's legacy Data API: POST /api/data and the metric catalogue at /api/v2/metrics/descriptors.
// Failures arrive as MetricsError (see backend_call.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "providers/backend_call.h"
#include "providers/sysdig_data/data_api_request.h"
#include "providers/sysdig_data/data_api_response.h"

namespace sma::providers::sysdig_data {

class DataApiClient {
 public:
  // endpoint.base_url is the Sysdig endpoint root, e.g. "https://app.sysdigcloud.com".
  explicit DataApiClient(BackendEndpoint endpoint);

  // Bounded by the API request's deadline as well as the backend timeout.
  // reuse_for: how long the value cache may reuse the answer (the rule's cacheTTL; unset: --cache-ttl).
  // The parsed answer, shared with every request that reuses the same cached backend answer.
  std::shared_ptr<const std::vector<DataRow>> query(const DataApiQuery& query, const api::Deadline& deadline = {},
                             std::optional<std::chrono::milliseconds> reuse_for = std::nullopt,
                             bool follow_up = false) const;
  // Ids of every metric (not tag) in the catalogue, page by page.
  std::vector<std::string> metric_ids() const;

  const BackendEndpoint& endpoint() const { return endpoint_; }

 private:
  BackendEndpoint endpoint_;
};

}  // namespace sma::providers::sysdig_data
