// What rule-driven backends (PromQL, Data API) share: finding the rule for a request and listing
// the metrics a backend serves for discovery.
#pragma once

#include <algorithm>

#include <set>
#include <string>
#include <vector>

#include "lib/config/adapter_config.h"
#include "providers/pod_lister.h"
#include "providers/provider.h"
#include "providers/query_scope.h"

namespace sma::providers {

// The rule for a request, or MetricsError(NotFound) saying no rule exposes the metric.
config::ResolvedRule custom_rule_or_not_found(const config::AdapterConfig& config, const std::string& metric,
                                              const api::GroupResource& resource);
config::ResolvedRule external_rule_or_not_found(const config::AdapterConfig& config, const std::string& metric);

// Discovery for the backend named `backend`: rules that name a metric are listed as they are; regex
// rules (or, without rules, every name) are matched against the names the backend knows. A rule
// without resources lists every resource the label mapping knows.
std::vector<api::CustomMetricInfo> custom_metric_infos(const config::AdapterConfig& config,
                                                       const config::LabelMapping& labels, const std::string& backend,
                                                       const std::vector<std::string>& known_names);
std::vector<api::ExternalMetricInfo> external_metric_infos(const config::AdapterConfig& config,
                                                           const std::string& backend,
                                                           const std::vector<std::string>& known_names);

// The objects a `*` request covers: the pods the selector picks (listed from Kubernetes), or every
// object of the resource that has data when there is no selector.
struct ObjectSelection {
  QueryScope scope;
  std::vector<std::string> wanted;  // listed pods, sorted; empty = every object the backend has data for
  bool nothing_selected = false;     // the selector matched no pod: answer an empty list, ask nothing

  bool wants(const std::string& name) const { return wanted.empty() || std::binary_search(wanted.begin(), wanted.end(), name); }
};
ObjectSelection select_objects(const config::LabelMapping& labels, const std::string& cluster,
                               const SelectorQuery& query, const PodLister& pods);

}  // namespace sma::providers
