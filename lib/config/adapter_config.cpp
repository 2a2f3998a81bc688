#include "lib/config/adapter_config.h"

#include <algorithm>

#include <re2/re2.h>

namespace sma::config {
namespace {

const std::map<std::string, Aggregation>& aggregation_names() {
  static const std::map<std::string, Aggregation> names = {
      {"sum", Aggregation::Sum}, {"avg", Aggregation::Avg}, {"max", Aggregation::Max}, {"min", Aggregation::Min}};
  return names;
}

const std::map<std::string, TimeAggregation>& time_aggregation_names() {
  static const std::map<std::string, TimeAggregation> names = {
      {"avg", TimeAggregation::Avg}, {"sum", TimeAggregation::Sum},   {"max", TimeAggregation::Max},
      {"min", TimeAggregation::Min}, {"last", TimeAggregation::Last}, {"rate", TimeAggregation::Rate}};
  return names;
}

template <typename Map, typename Value>
std::string name_of(const Map& names, Value v) {
  for (const auto& [name, value] : names) {
    if (value == v) return name;
  }
  return "";
}

ResolvedRule resolve(const AdapterConfig& config, const MetricRule* rule) {
  ResolvedRule r;
  r.rule = rule;
  r.backend = config.default_backend;
  r.aggregation = config.default_aggregation;
  r.time_aggregation = config.default_time_aggregation;
  r.window = config.default_window;
  r.query_offset = config.default_query_offset;
  r.origin = "defaults";
  if (rule == nullptr) return r;
  if (!rule->backend.empty()) r.backend = rule->backend;
  if (rule->aggregation) r.aggregation = *rule->aggregation;
  if (rule->time_aggregation) r.time_aggregation = *rule->time_aggregation;
  if (rule->window) r.window = *rule->window;
  if (rule->query_offset) r.query_offset = rule->query_offset;
  r.cache_ttl = rule->cache_ttl;
  r.series = rule->series;
  r.query = rule->query;
  r.namespaced = rule->namespaced;
  r.absent_as = rule->absent_as;
  r.origin = "rule at " + (config.source.empty() ? std::string("config") : config.source) + ":" +
             std::to_string(rule->line);
  return r;
}

}  // namespace

std::string to_string(Aggregation a) { return name_of(aggregation_names(), a); }
std::string to_string(TimeAggregation t) { return name_of(time_aggregation_names(), t); }

std::optional<Aggregation> parse_aggregation(const std::string& text) {
  auto it = aggregation_names().find(text);
  if (it == aggregation_names().end()) return std::nullopt;
  return it->second;
}

std::optional<TimeAggregation> parse_time_aggregation(const std::string& text) {
  auto it = time_aggregation_names().find(text);
  if (it == time_aggregation_names().end()) return std::nullopt;
  return it->second;
}

std::string LabelMapping::label_for(const api::GroupResource& resource) const {
  auto it = resources.find(resource.to_string());
  return it == resources.end() ? std::string{} : it->second;
}

LabelMapping default_promql_labels() {
  LabelMapping m;
  m.cluster = "kube_cluster_name";
  m.namespace_ = "kube_namespace_name";
  m.workload_name = "kube_workload_name";
  m.workload_type = "kube_workload_type";
  m.resources = {
      {"pods", "kube_pod_name"},
      {"services", "kube_service_name"},
      {"nodes", "kube_node_name"},
      {"namespaces", "kube_namespace_name"},
      {"deployments.apps", "kube_deployment_name"},
      {"statefulsets.apps", "kube_statefulset_name"},
      {"daemonsets.apps", "kube_daemonset_name"},
      {"replicasets.apps", "kube_replicaset_name"},
      {"jobs.batch", "kube_job_name"},
  };
  return m;
}

LabelMapping default_prometheus_labels() {
  LabelMapping m;
  m.cluster = "cluster";
  m.namespace_ = "namespace";
  m.workload_name = "workload";
  m.workload_type = "workload_type";
  m.resources = {
      {"pods", "pod"},
      {"services", "service"},
      {"nodes", "node"},
      {"namespaces", "namespace"},
      {"deployments.apps", "deployment"},
      {"statefulsets.apps", "statefulset"},
      {"daemonsets.apps", "daemonset"},
      {"replicasets.apps", "replicaset"},
      {"jobs.batch", "job_name"},
  };
  return m;
}

LabelMapping default_data_api_labels() {
  LabelMapping m;
  m.cluster = "kubernetes.cluster.name";
  m.namespace_ = "kubernetes.namespace.name";
  m.workload_name = "kubernetes.workload.name";
  m.workload_type = "kubernetes.workload.type";
  m.resources = {
      {"pods", "kubernetes.pod.name"},
      {"services", "kubernetes.service.name"},
      {"nodes", "kubernetes.node.name"},
      {"namespaces", "kubernetes.namespace.name"},
      {"deployments.apps", "kubernetes.deployment.name"},
      {"statefulsets.apps", "kubernetes.statefulSet.name"},
      {"daemonsets.apps", "kubernetes.daemonSet.name"},
      {"replicasets.apps", "kubernetes.replicaSet.name"},
      {"jobs.batch", "kubernetes.job.name"},
  };
  return m;
}

bool MetricRule::covers(const std::string& metric_name) const {
  if (!metric.empty()) return metric == metric_name;
  return metric_regex && re2::RE2::FullMatch(metric_name, *metric_regex);
}

std::string MetricRule::expression_position(std::string_view text, std::size_t offset) const {
  if (!expr_spot.exact) return std::to_string(expr_spot.line) + ":" + std::to_string(expr_spot.column);
  int line = expr_spot.line;
  int column = expr_spot.column;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = expr_spot.column;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

bool AdapterConfig::has_custom_rules() const {
  return std::any_of(rules.begin(), rules.end(), [](const MetricRule& r) { return !r.external; });
}

bool AdapterConfig::has_external_rules() const {
  return std::any_of(rules.begin(), rules.end(), [](const MetricRule& r) { return r.external; });
}

std::optional<ResolvedRule> AdapterConfig::resolve_custom(const std::string& metric,
                                                          const api::GroupResource& resource) const {
  if (!has_custom_rules()) return resolve(*this, nullptr);
  for (const auto& rule : rules) {
    if (rule.external || !rule.covers(metric)) continue;
    if (!rule.resources.empty() && std::find(rule.resources.begin(), rule.resources.end(), resource) == rule.resources.end()) {
      continue;
    }
    return resolve(*this, &rule);
  }
  return std::nullopt;
}

std::optional<ResolvedRule> AdapterConfig::resolve_external(const std::string& metric) const {
  if (!has_external_rules()) return resolve(*this, nullptr);
  for (const auto& rule : rules) {
    if (rule.external && rule.covers(metric)) return resolve(*this, &rule);
  }
  return std::nullopt;
}

}  // namespace sma::config
