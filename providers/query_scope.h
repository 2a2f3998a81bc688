// Which series a query may see, stated once for every backend: the cluster, the namespace, and the
// object (or the listed pods). PromQL turns a scope into matchers, the Data API into filter clauses.
#pragma once

#include <string>
#include <vector>

#include "lib/api/label_selector.h"
#include "lib/config/adapter_config.h"
#include "providers/provider.h"

namespace sma::providers {

struct ScopeConstraint {
  std::string label;
  std::vector<std::string> values;  // one value: equality; several: one of them
};

struct QueryScope {
  std::vector<ScopeConstraint> constraints;
  std::string group_label;  // the label that tells objects apart in the answer; empty for external
};

// A named object (or the namespace object itself, or a legacy "type;name" workload). NotFound when
// the resource has no label in the mapping.
QueryScope object_scope(const config::LabelMapping& labels, const std::string& cluster, const ObjectQuery& query);

// Every object of a resource in a namespace (`*` without a selector), grouped by its label.
QueryScope resource_scope(const config::LabelMapping& labels, const std::string& cluster,
                          const std::string& namespace_, const api::GroupResource& resource, const std::string& metric);

// Exactly these pods of a namespace, grouped by pod.
QueryScope pods_scope(const config::LabelMapping& labels, const std::string& cluster, const std::string& namespace_,
                      std::vector<std::string> pod_names);

// External metrics: the cluster, and the namespace when the rule asks for it.
QueryScope external_scope(const config::LabelMapping& labels, const std::string& cluster, const std::string& namespace_);

// The scope as a person reads it in an error: kube_cluster_name="prod", kube_namespace_name="default", ...
std::string describe_scope(const QueryScope& scope);

// A metricLabelSelector / external labelSelector may select series, never re-scope them: keys that
// name a scope label (cluster, namespace, workload or any resource label) of any backend's mapping
// are a BadRequest, so no spelling of "another namespace" slips through whichever backend answers.
void reject_scope_labels(const config::AdapterConfig& config, const api::LabelSelector& selector, const char* parameter);

}  // namespace sma::providers
