#include <catch2/catch.hpp>

#include <limits>

#include "providers/computed/expression_evaluation.h"

using namespace sma;
using providers::computed::EvaluationError;
using providers::computed::evaluate;

namespace {

double value(const std::string& text, const std::map<std::string, double>& operands = {}) {
  return evaluate(config::MetricExpression::parse(text), operands);
}

std::string error_of(const std::string& text, const std::map<std::string, double>& operands = {}) {
  try {
    value(text, operands);
  } catch (const EvaluationError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("arithmetic and functions") {
  CHECK(value("1 + 2 * 3") == 7);
  CHECK(value("(1 + 2) * 3") == 9);
  CHECK(value("10 - 4 - 3") == 3);
  CHECK(value("12 / 3 / 2") == 2);
  CHECK(value("-a + +b", {{"a", 2}, {"b", 5}}) == 3);
  CHECK(value("requests / max(ready, 1)", {{"requests", 30}, {"ready", 0}}) == 30);
  CHECK(value("min(a, b, 7)", {{"a", 9}, {"b", 8}}) == 7);
  CHECK(value("abs(a - b)", {{"a", 2}, {"b", 5}}) == 3);
  CHECK(value("clamp(x, 0, 100)", {{"x", 250}}) == 100);
  CHECK(value("clamp(x, 0, 100)", {{"x", -3}}) == 0);
  CHECK(value("messages_ready / publish_rate", {{"messages_ready", 120}, {"publish_rate", 4}}) == 30);
}

TEST_CASE("no number where there is none: the operation and its operands are named") {
  CHECK(error_of("requests / ready_pods", {{"requests", 10}, {"ready_pods", 0}}) ==
        "division by zero in `requests / ready_pods`: ready_pods is 0");
  CHECK(error_of("a / (b - c)", {{"a", 1}, {"b", 2}, {"c", 2}}) == "division by zero in `a / (b - c)`: `(b - c)` is 0");
  CHECK(error_of("a /\n   0", {{"a", 1}}) == "division by zero in `a / 0`");
  CHECK(error_of("a * a", {{"a", 1e300}}) == "`a * a` has no finite value (a is 1e+300, a is 1e+300)");
  CHECK(error_of("clamp(x, 10, 1)", {{"x", 5}}) ==
        "clamp with a lower bound above its upper bound in `clamp(x, 10, 1)`: 10, 1");
  CHECK(error_of("a", {{"a", std::numeric_limits<double>::quiet_NaN()}}) == "a is not a finite number");
  CHECK(error_of("a + 1", {{"a", std::numeric_limits<double>::infinity()}}) == "a is not a finite number");
}
