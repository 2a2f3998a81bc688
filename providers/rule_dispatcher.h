// Lets one adapter serve several backends at once: each request goes to the backend its rule names
// (sysdig, prometheus or push), or to the default backend. Discovery is the union of all backends.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "lib/config/adapter_config.h"
#include "lib/config/config_source.h"
#include "providers/provider.h"

namespace sma::providers {

class RuleDispatcher final : public MetricsProvider {
 public:
  // backends maps a backend name to its provider; the providers outlive the dispatcher.
  RuleDispatcher(std::shared_ptr<const config::ConfigSource> config, std::map<std::string, MetricsProvider*> backends);

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

 private:
  MetricsProvider& backend(const config::ResolvedRule& rule) const;

  std::shared_ptr<const config::ConfigSource> config_;
  std::map<std::string, MetricsProvider*> backends_;
};

}  // namespace sma::providers
