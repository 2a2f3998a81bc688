// Computed metrics: a rule's `expr` over other metrics. Each operand is read through its own rule
// (its backend, the value cache, the backend call slots) for the same object, selector or external
// query, all operands in parallel; the expression is then evaluated on the values.
//
//  - object: one value per operand, one answer;
//  - pods/* (any selector query): per object, over the objects every operand answered for; an
//    object one operand lacks is left out (it has no value), unless the rule's absentAs stands in
//    for the missing operand;
//  - external: each operand's series are summed (as the HPA sums an External metric's items), one
//    answer without labels.
// An operand without a value is absentAs when the rule sets it, else the answer is an error naming
// the operand; an operation without a finite result (division by zero, overflow) is an error naming
// it. Never a number made up in their place.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "lib/config/config_source.h"
#include "providers/pod_lister.h"
#include "providers/provider.h"
#include "providers/rule_dispatcher.h"

namespace sma::providers::computed {

class ComputedProvider final : public MetricsProvider {
 public:
  // `backends`: every other backend by its rules' name (they outlive this). Operands are read
  // through a dispatcher over them and this provider, so an operand may be computed too (cycles are
  // refused when the rules load).
  ComputedProvider(std::shared_ptr<const config::ConfigSource> config, std::map<std::string, MetricsProvider*> backends,
                   KindLookup kinds);

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

 private:
  std::shared_ptr<const config::ConfigSource> config_;
  KindLookup kinds_;
  std::unique_ptr<RuleDispatcher> operands_;
};

}  // namespace sma::providers::computed
