#include "providers/rule_dispatcher.h"

#include <set>

#include "providers/backend_rules.h"

namespace sma::providers {

RuleDispatcher::RuleDispatcher(std::shared_ptr<const config::ConfigSource> config,
                               std::map<std::string, MetricsProvider*> backends)
    : config_(std::move(config)), backends_(std::move(backends)) {}

MetricsProvider& RuleDispatcher::backend(const config::ResolvedRule& rule) const {
  auto it = backends_.find(rule.backend);
  if (it == backends_.end()) {
    std::string hint = rule.backend == "prometheus" ? " (set --prometheus-url)"
                       : rule.backend == "sysdig"   ? " (set --sysdig-endpoint and a token)"
                       : rule.backend == "push"     ? " (start with --enable-push)"
                                                    : "";
    throw MetricsError(MetricsError::Kind::Unavailable,
                       "the " + rule.origin + " uses the " + rule.backend + " backend, which is not configured" + hint);
  }
  return *it->second;
}

api::MetricValue RuleDispatcher::get_metric_by_name(const ObjectQuery& query) {
  return backend(custom_rule_or_not_found(*config_->get(), query.metric, query.resource)).get_metric_by_name(query);
}

std::vector<api::MetricValue> RuleDispatcher::get_metric_by_selector(const SelectorQuery& query) {
  return backend(custom_rule_or_not_found(*config_->get(), query.metric, query.resource)).get_metric_by_selector(query);
}

std::vector<api::ExternalMetricValue> RuleDispatcher::get_external_metric(const ExternalQuery& query) {
  return backend(external_rule_or_not_found(*config_->get(), query.metric)).get_external_metric(query);
}

std::vector<api::CustomMetricInfo> RuleDispatcher::list_custom_metrics() {
  std::set<api::CustomMetricInfo> all;
  std::set<MetricsProvider*> seen;
  for (const auto& [name, provider] : backends_) {
    if (!seen.insert(provider).second) continue;
    for (auto& info : provider->list_custom_metrics()) all.insert(std::move(info));
  }
  return {all.begin(), all.end()};
}

std::vector<api::ExternalMetricInfo> RuleDispatcher::list_external_metrics() {
  std::set<api::ExternalMetricInfo> all;
  std::set<MetricsProvider*> seen;
  for (const auto& [name, provider] : backends_) {
    if (!seen.insert(provider).second) continue;
    for (auto& info : provider->list_external_metrics()) all.insert(std::move(info));
  }
  return {all.begin(), all.end()};
}

}  // namespace sma::providers
