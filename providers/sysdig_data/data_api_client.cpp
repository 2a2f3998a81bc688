#include "providers/sysdig_data/data_api_client.h"

#include <stdexcept>

namespace sma::providers::sysdig_data {
namespace {

constexpr int kDescriptorPageSize = 1000;
constexpr int kMaxDescriptorPages = 100;  // a bound against a backend that never ends the list

[[noreturn]] void unreadable(const BackendEndpoint& endpoint, const std::string& what) {
  throw MetricsError(MetricsError::Kind::Internal,
                     endpoint.name + " backend answered something that is not a Data API response: " + what);
}

}  // namespace

DataApiClient::DataApiClient(BackendEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

std::shared_ptr<const std::vector<DataRow>> DataApiClient::query(const DataApiQuery& query, const api::Deadline& deadline,
                                          std::optional<std::chrono::milliseconds> reuse_for, bool follow_up) const {
  http::OutgoingRequest request;
  request.deadline = deadline;
  request.reuse_for = reuse_for;
  request.follow_up = follow_up;
  request.method = "POST";
  request.url = endpoint_.base_url + "/api/data";
  request.headers.emplace_back("Content-Type", "application/json");
  try {
    request.body = data_api_body(query);
  } catch (const std::invalid_argument& e) {
    throw MetricsError(MetricsError::Kind::BadRequest, e.what());
  }
  auto result = call_backend(endpoint_, request, parse_error_message);
  try {
    const std::size_t keys = query.segment_by.size();
    return result.parsed<std::vector<DataRow>>([keys](std::string_view body) { return parse_data_response(body, keys); });
  } catch (const DataApiResponseError& e) {
    unreadable(endpoint_, e.what());
  }
}

std::vector<std::string> DataApiClient::metric_ids() const {
  std::vector<std::string> ids;
  for (int page = 0; page < kMaxDescriptorPages; ++page) {
    http::OutgoingRequest request;
    request.url = endpoint_.base_url + "/api/v2/metrics/descriptors?limit=" + std::to_string(kDescriptorPageSize) +
                  "&offset=" + std::to_string(page * kDescriptorPageSize);
    auto result = call_backend(endpoint_, request, parse_error_message);
    DescriptorPage descriptors;
    try {
      descriptors = parse_descriptors_response(result.text());
    } catch (const DataApiResponseError& e) {
      unreadable(endpoint_, e.what());
    }
    for (const auto& d : descriptors.descriptors) {
      if (d.metric_type != "tag") ids.push_back(d.id);
    }
    if (descriptors.descriptors.empty() ||
        static_cast<std::int64_t>(page + 1) * kDescriptorPageSize >= descriptors.total) {
      break;
    }
  }
  return ids;
}

}  // namespace sma::providers::sysdig_data
