// Builds the body of Sysdig's legacy Data API (POST /api/data) from validated parts. The filter
// language quotes values with single quotes; every value is escaped here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/label_selector.h"

namespace sma::providers::sysdig_data {

struct FilterClause {
  enum class Op { Equal, NotEqual, In, NotIn };
  std::string label;  // "kubernetes.namespace.name"
  Op op = Op::Equal;
  std::vector<std::string> values;  // one value for Equal/NotEqual
};

struct DataApiQuery {
  std::string metric_id;                      // "net.http.request.count"
  std::string time_aggregation = "timeAvg";   // timeAvg, sum, max, min
  std::string group_aggregation = "sum";      // sum, avg, max, min
  std::vector<std::string> segment_by;        // key metrics, e.g. {"kubernetes.pod.name"}
  std::vector<FilterClause> filter;           // joined with "and"
  long long last_seconds = 10;
  long long sampling_seconds = 10;
  std::optional<long long> paging_to;         // paging {"from":0,"to":N}; Sysdig's default is the top 10
  std::string data_source_type = "container";
};

// 'it''s' style is not Sysdig's: a quote or backslash is escaped with a backslash: 'a\'b'.
std::string quote_filter_value(std::string_view value);

// "a = 'x' and b in ('y', 'z')"
std::string filter_text(const std::vector<FilterClause>& clauses);

// The JSON body: {"metrics":[{"id":key}...,{"id":metric,"aggregations":{...}}],"dataSourceType":...,
// "filter":...,"last":...,"sampling":...,"paging":{"from":0,"to":N}?}
std::string data_api_body(const DataApiQuery& query);

// Clauses equivalent to a Kubernetes selector: =, ==, != , in, notin. Exists and !exists have no
// Data API form: std::invalid_argument naming the key.
std::vector<FilterClause> clauses_from_selector(const api::LabelSelector& selector);

}  // namespace sma::providers::sysdig_data
