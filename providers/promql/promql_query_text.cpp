#include "providers/promql/promql_query_text.h"

namespace sma::providers::promql {
namespace {

std::string time_function(config::TimeAggregation t) {
  switch (t) {
    case config::TimeAggregation::Avg: return "avg_over_time";
    case config::TimeAggregation::Sum: return "sum_over_time";
    case config::TimeAggregation::Max: return "max_over_time";
    case config::TimeAggregation::Min: return "min_over_time";
    case config::TimeAggregation::Last: return "last_over_time";
    case config::TimeAggregation::Rate: return "rate";
  }
  return "avg_over_time";
}

void replace_all(std::string& text, const std::string& placeholder, const std::string& value) {
  for (auto pos = text.find(placeholder); pos != std::string::npos; pos = text.find(placeholder, pos + value.size())) {
    text.replace(pos, placeholder.size(), value);
  }
}

}  // namespace

std::vector<Matcher> scope_matchers(const QueryScope& scope) {
  std::vector<Matcher> matchers;
  for (const auto& c : scope.constraints) {
    if (c.values.size() == 1) {
      matchers.push_back({c.label, Matcher::Op::Equal, c.values.front()});
    } else {
      matchers.push_back({c.label, Matcher::Op::RegexMatch, regex_alternation(c.values)});
    }
  }
  return matchers;
}

std::string query_text(const config::ResolvedRule& rule, const std::string& series,
                       const std::vector<Matcher>& matchers, const std::string& group_label) {
  std::string window = duration(rule.window.count());
  if (!rule.query.empty()) {
    // The matchers are the text between the braces of the full selector.
    std::string full = selector(series, matchers);
    std::string inner = full.size() > series.size() + 2 ? full.substr(series.size() + 1, full.size() - series.size() - 2) : "";
    std::string text = rule.query;
    replace_all(text, "<<.Series>>", series);
    replace_all(text, "<<.LabelMatchers>>", inner);
    replace_all(text, "<<.GroupBy>>", group_label);
    replace_all(text, "<<.Window>>", window);
    return text;
  }
  std::string inner = time_function(rule.time_aggregation) + "(" + selector(series, matchers) + "[" + window + "])";
  std::string by = group_label.empty() ? "" : " by (" + group_label + ")";
  return config::to_string(rule.aggregation) + by + " (" + inner + ")";
}

}  // namespace sma::providers::promql
