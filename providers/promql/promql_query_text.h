// The PromQL text of one query: the rule's template with its placeholders filled, or the default
// shape  <aggregation> by (<group>) (<time-function>(<series>{<matchers>}[<window>])).
#pragma once

#include <string>
#include <vector>

#include "lib/config/adapter_config.h"
#include "providers/promql/promql_builder.h"
#include "providers/query_scope.h"

namespace sma::providers::promql {

// Scope constraints as matchers: one value is "=", several an anchored "=~" alternation.
std::vector<Matcher> scope_matchers(const QueryScope& scope);

// Template placeholders: <<.Series>>, <<.LabelMatchers>> (the matchers without braces),
// <<.GroupBy>> (the scope's group label, may be empty), <<.Window>> (a PromQL duration).
std::string query_text(const config::ResolvedRule& rule, const std::string& series,
                       const std::vector<Matcher>& matchers, const std::string& group_label);

}  // namespace sma::providers::promql
