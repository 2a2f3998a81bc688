// The value of a computed metric's expression, given its operands' values. Anything that is not a
// finite number fails with a message naming the operation and its operands, so the answer is an
// error, never a number made up from a division by zero.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "lib/config/metric_expression.h"

namespace sma::providers::computed {

// "division by zero in `requests / ready_pods`: ready_pods is 0".
struct EvaluationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `operands` holds a value for every name of expression.operands() (a missing one is a logic
// error: std::out_of_range). Throws EvaluationError when an operation has no finite result.
double evaluate(const config::MetricExpression& expression, const std::map<std::string, double>& operands);

}  // namespace sma::providers::computed
