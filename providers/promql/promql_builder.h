// Builds PromQL text from validated parts. Every value is quoted and escaped here, never
// concatenated elsewhere, so nothing from a URL can change the shape of a query.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/api/label_selector.h"

namespace sma::providers::promql {

struct Matcher {
  enum class Op { Equal, NotEqual, RegexMatch, RegexNoMatch };
  std::string label;
  Op op = Op::Equal;
  std::string value;  // literal text for Equal/NotEqual, a regex for the Regex ops
};

// A PromQL double-quoted string literal: "a\"b\\c\n".
std::string quote(std::string_view text);

// A regex matching exactly `text` (RE2 metacharacters escaped), to build alternations of names.
std::string regex_literal(std::string_view text);

// "a|b|c" of regex_literal()s, matching exactly one of the values; "" never matches anything
// useful, so callers do not pass an empty list.
std::string regex_alternation(const std::vector<std::string>& values);

// metric{l1="v1",l2=~"x|y"}; the metric name must already be validated.
std::string selector(std::string_view metric, const std::vector<Matcher>& matchers);

// Matchers equivalent to a Kubernetes label selector: = and == -> =, != -> !=, in -> =~ alternation,
// notin -> !~ alternation, exists -> !="", !exists -> ="". Label keys that are not valid Prometheus
// label names ([a-zA-Z_][a-zA-Z0-9_]*) throw std::invalid_argument with the key in the message.
std::vector<Matcher> matchers_from_selector(const api::LabelSelector& selector);

// A Prometheus duration for a window: 30s, 1m, 1h30m (whole seconds, at least 1s).
std::string duration(long long seconds);

}  // namespace sma::providers::promql
