// Reads the Prometheus HTTP API envelope ({"status":"success","data":{...}}), which Sysdig's
// PromQL API and Prometheus share. Untrusted input: every shape is checked.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/label_selector.h"

namespace sma::providers::promql {

struct PromqlSample {
  api::Labels labels;        // including __name__ when the backend kept it
  double timestamp = 0;      // Unix seconds
  std::string value;         // as sent: "0.58", "NaN", "+Inf", "1e+21"
};

class PromqlResponseError : public std::runtime_error {
 public:
  // Api: {"status":"error",...} (error_type holds errorType). Malformed: not the documented shape.
  enum class Kind { Api, Malformed };
  PromqlResponseError(Kind kind, std::string error_type, const std::string& message)
      : std::runtime_error(message), kind_(kind), error_type_(std::move(error_type)) {}
  Kind kind() const { return kind_; }
  const std::string& error_type() const { return error_type_; }

 private:
  Kind kind_;
  std::string error_type_;
};

// An instant query answer. resultType "vector" gives its samples; "scalar" gives one sample with no
// labels; anything else (matrix, string) is Malformed for an instant query.
std::vector<PromqlSample> parse_instant_query_response(std::string_view body);

// /label/<name>/values: the data array of strings.
std::vector<std::string> parse_label_values_response(std::string_view body);

}  // namespace sma::providers::promql
