#include "providers/backend_rules.h"

#include "lib/api/builtin_resources.h"

namespace sma::providers {
namespace {

bool namespaced_resource(const api::GroupResource& resource) {
  auto known = api::builtin_resource_kind(resource);
  return known ? known->namespaced : true;
}

std::string backend_of(const config::AdapterConfig& config, const config::MetricRule* rule) {
  return rule != nullptr && !rule->backend.empty() ? rule->backend : config.default_backend;
}

std::string rules_source(const config::AdapterConfig& config) {
  return config.source.empty() ? "the configuration" : config.source;
}

}  // namespace

api::ObjectReference describe_object(const KindLookup& kinds, const api::GroupResource& resource,
                                     const std::string& namespace_, const std::string& name) {
  if (!api::builtin_resource_kind(resource) && kinds) {
    if (auto found = kinds(resource)) return {found->kind, found->namespaced ? namespace_ : "", name, found->api_version};
  }
  return api::described_object(resource, namespace_, name);
}

config::ResolvedRule custom_rule_or_not_found(const config::AdapterConfig& config, const std::string& metric,
                                              const api::GroupResource& resource) {
  auto rule = config.resolve_custom(metric, resource);
  if (!rule) {
    throw MetricsError(MetricsError::Kind::NotFound, "the server could not find the metric " + metric + " for " +
                                                         resource.to_string() + ": no rule in " +
                                                         rules_source(config) + " exposes it");
  }
  return *rule;
}

config::ResolvedRule external_rule_or_not_found(const config::AdapterConfig& config, const std::string& metric) {
  auto rule = config.resolve_external(metric);
  if (!rule) {
    throw MetricsError(MetricsError::Kind::NotFound, "the server could not find the external metric " + metric +
                                                         ": no rule in " + rules_source(config) + " exposes it");
  }
  return *rule;
}

std::vector<api::CustomMetricInfo> custom_metric_infos(const config::AdapterConfig& config,
                                                       const config::LabelMapping& labels, const std::string& backend,
                                                       const std::vector<std::string>& known_names) {
  std::set<api::CustomMetricInfo> infos;
  auto add = [&](const std::string& metric, const std::vector<api::GroupResource>& resources) {
    if (resources.empty()) {
      for (const auto& [resource, label] : labels.resources) {
        auto gr = api::GroupResource::parse(resource);
        infos.insert({gr, metric, namespaced_resource(gr)});
      }
    }
    for (const auto& gr : resources) infos.insert({gr, metric, namespaced_resource(gr)});
  };
  if (!config.has_custom_rules()) {
    if (backend_of(config, nullptr) == backend) {
      for (const auto& name : known_names) add(name, {});
    }
    return {infos.begin(), infos.end()};
  }
  for (const auto& rule : config.rules) {
    if (rule.external || backend_of(config, &rule) != backend) continue;
    if (!rule.metric.empty()) {
      add(rule.metric, rule.resources);  // named explicitly: listed even before the backend reports it
      continue;
    }
    for (const auto& name : known_names) {
      if (rule.covers(name)) add(name, rule.resources);
    }
  }
  return {infos.begin(), infos.end()};
}

std::vector<api::ExternalMetricInfo> external_metric_infos(const config::AdapterConfig& config,
                                                           const std::string& backend,
                                                           const std::vector<std::string>& known_names) {
  std::set<api::ExternalMetricInfo> infos;
  if (!config.has_external_rules()) {
    if (backend_of(config, nullptr) == backend) {
      for (const auto& name : known_names) infos.insert({name});
    }
    return {infos.begin(), infos.end()};
  }
  for (const auto& rule : config.rules) {
    if (!rule.external || backend_of(config, &rule) != backend) continue;
    if (!rule.metric.empty()) {
      infos.insert({rule.metric});
      continue;
    }
    for (const auto& name : known_names) {
      if (rule.covers(name)) infos.insert({name});
    }
  }
  return {infos.begin(), infos.end()};
}

ObjectSelection select_objects(const config::LabelMapping& labels, const std::string& cluster,
                               const SelectorQuery& query, const PodLister& pods) {
  ObjectSelection selection;
  bool is_pods = query.resource == api::GroupResource{"pods", ""};
  if (is_pods && pods) {
    selection.wanted = pods(query.namespace_, query.object_selector, query.deadline);
    selection.nothing_selected = selection.wanted.empty();
    if (!selection.nothing_selected) selection.scope = pods_scope(labels, cluster, query.namespace_, selection.wanted);
    return selection;
  }
  if (!query.object_selector.empty()) {
    if (is_pods) {
      throw MetricsError(MetricsError::Kind::Unavailable,
                         "selecting pods by label needs the Kubernetes API: run in a cluster or pass --kubeconfig");
    }
    throw MetricsError(MetricsError::Kind::BadRequest, "labelSelector is supported for pods only; address " +
                                                           query.resource.to_string() + " by name instead of \"*\"");
  }
  selection.scope = resource_scope(labels, cluster, query.namespace_, query.resource, query.metric);
  return selection;
}

}  // namespace sma::providers
