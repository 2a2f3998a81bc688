// Reads Data API answers: {"start":..,"end":..,"data":[{"t":..,"d":[keys..., value]}]} and
// errors {"message":"...","request_id":"..."}. Untrusted input: every shape is checked.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sma::providers::sysdig_data {

struct DataRow {
  std::int64_t t = 0;             // Unix seconds
  std::vector<std::string> keys;  // the segment's key values, in request order
  double value = 0;               // the aggregated metric (finite; rows with null values are dropped)
};

struct DataApiResponseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// key_count is the number of key metrics the request asked for; each d must then hold
// key_count strings followed by one number (or null, which drops the row).
std::vector<DataRow> parse_data_response(std::string_view body, std::size_t key_count);

// The "message" of an error body, when the body is one.
std::optional<std::string> parse_error_message(std::string_view body);

struct MetricDescriptor {
  std::string id;
  std::string metric_type;  // "counter", "gauge", "tag", ...
};

struct DescriptorPage {
  std::int64_t total = 0;
  std::vector<MetricDescriptor> descriptors;
};

// GET /api/v2/metrics/descriptors answer.
DescriptorPage parse_descriptors_response(std::string_view body);

}  // namespace sma::providers::sysdig_data
