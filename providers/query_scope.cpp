#include "providers/query_scope.h"

namespace sma::providers {
namespace {

void add(QueryScope& scope, const std::string& label, std::vector<std::string> values) {
  if (label.empty()) return;  // a mapping may leave e.g. the cluster label out (plain Prometheus)
  scope.constraints.push_back({label, std::move(values)});
}

// The cluster constraint only when a cluster name is configured: plain Prometheus is usually
// one cluster and carries no cluster label.
void add_cluster(QueryScope& scope, const config::LabelMapping& labels, const std::string& cluster) {
  if (!cluster.empty()) add(scope, labels.cluster, {cluster});
}

std::string resource_label(const config::LabelMapping& labels, const api::GroupResource& resource,
                           const std::string& metric, const std::string& name) {
  std::string label = labels.label_for(resource);
  if (label.empty()) {
    throw MetricsError(MetricsError::Kind::NotFound,
                       "the server could not find the metric " + metric + " for " + resource.to_string() + " " + name +
                           ": no backend label is mapped to " + resource.to_string() + " (see labels in the config)");
  }
  return label;
}

}  // namespace

QueryScope object_scope(const config::LabelMapping& labels, const std::string& cluster, const ObjectQuery& query) {
  QueryScope scope;
  add_cluster(scope, labels, cluster);
  if (query.resource == api::GroupResource{"namespaces", ""}) {
    add(scope, labels.namespace_, {query.name});
    scope.group_label = labels.namespace_;
    return scope;
  }
  if (!query.namespace_.empty()) add(scope, labels.namespace_, {query.namespace_});
  auto semicolon = query.name.find(';');
  if (semicolon != std::string::npos) {  // legacy "deployment;kuard", validated by the router
    add(scope, labels.workload_type, {query.name.substr(0, semicolon)});
    add(scope, labels.workload_name, {query.name.substr(semicolon + 1)});
    scope.group_label = labels.workload_name;
    return scope;
  }
  std::string label = resource_label(labels, query.resource, query.metric, query.name);
  add(scope, label, {query.name});
  scope.group_label = label;
  return scope;
}

QueryScope resource_scope(const config::LabelMapping& labels, const std::string& cluster,
                          const std::string& namespace_, const api::GroupResource& resource,
                          const std::string& metric) {
  QueryScope scope;
  add_cluster(scope, labels, cluster);
  if (!namespace_.empty()) add(scope, labels.namespace_, {namespace_});
  scope.group_label = resource_label(labels, resource, metric, "*");
  return scope;
}

QueryScope pods_scope(const config::LabelMapping& labels, const std::string& cluster, const std::string& namespace_,
                      std::vector<std::string> pod_names) {
  QueryScope scope;
  add_cluster(scope, labels, cluster);
  if (!namespace_.empty()) add(scope, labels.namespace_, {namespace_});
  std::string pod_label = labels.label_for({"pods", ""});
  if (pod_label.empty()) {
    throw MetricsError(MetricsError::Kind::NotFound, "no backend label is mapped to pods (see labels in the config)");
  }
  add(scope, pod_label, std::move(pod_names));
  scope.group_label = pod_label;
  return scope;
}

QueryScope external_scope(const config::LabelMapping& labels, const std::string& cluster,
                          const std::string& namespace_) {
  QueryScope scope;
  add_cluster(scope, labels, cluster);
  if (!namespace_.empty()) add(scope, labels.namespace_, {namespace_});
  return scope;
}

std::string describe_scope(const QueryScope& scope) {
  std::string text;
  for (const auto& constraint : scope.constraints) {
    if (!text.empty()) text += ", ";
    text += constraint.label;
    if (constraint.values.size() == 1) {
      text += "=\"" + constraint.values.front() + "\"";
    } else {
      text += " in (" + std::to_string(constraint.values.size()) + " values)";
    }
  }
  return text.empty() ? "any series" : text;
}

void reject_scope_labels(const config::AdapterConfig& config, const api::LabelSelector& selector,
                         const char* parameter) {
  auto is_scope_label = [](const config::LabelMapping& labels, const std::string& key) {
    bool scoped = key == labels.cluster || key == labels.namespace_ || key == labels.workload_name ||
                  key == labels.workload_type;
    for (const auto& [resource, label] : labels.resources) scoped = scoped || key == label;
    return scoped;
  };
  for (const auto& requirement : selector.requirements()) {
    const std::string& key = requirement.key;
    if (is_scope_label(config.promql_labels, key) || is_scope_label(config.prometheus_labels, key) ||
        is_scope_label(config.data_api_labels, key)) {
      throw MetricsError(MetricsError::Kind::BadRequest,
                         std::string(parameter) + " may not select on " + key +
                             ": the adapter scopes every query to its cluster, namespace and object itself");
    }
  }
}

}  // namespace sma::providers
