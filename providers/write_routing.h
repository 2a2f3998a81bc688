// Writes (/write-metrics, /write-external-metrics) reach the push backend only for metrics that the
// push backend serves. A value written for a metric whose rule sends reads elsewhere (a catch-all
// `.*` rule on Sysdig, say) would be stored and never read: such a write is refused with 400 naming
// the metric, the backend that serves it and the rule, so the mistake shows at the first write.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lib/config/config_source.h"
#include "providers/provider.h"

namespace sma::providers {

class RoutedWriter final : public MetricsWriter {
 public:
  // `push` (the push backend's writer) outlives this; `push_backend` is its name in the rules.
  RoutedWriter(std::shared_ptr<const config::ConfigSource> config, MetricsWriter& push,
               std::string push_backend = "push");

  void write_object_value(const ObjectQuery& target, std::string_view body) override;
  void write_external_value(const std::string& namespace_, const std::string& metric, std::string_view body) override;

 private:
  std::shared_ptr<const config::ConfigSource> config_;
  MetricsWriter& push_;
  std::string push_backend_;
};

}  // namespace sma::providers
