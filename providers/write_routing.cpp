#include "providers/write_routing.h"

namespace sma::providers {
namespace {

// Where reads of the metric go, said the way the rules file says it.
std::string served_by(const config::AdapterConfig& config, const config::ResolvedRule& rule) {
  if (rule.rule != nullptr) return "the " + rule.backend + " backend (" + rule.origin + ")";
  std::string where = config.source.empty() ? "--backend" : "defaults.backend in " + config.source + " or --backend";
  return "the " + rule.backend + " backend (the default backend: " + where + ")";
}

[[noreturn]] void refuse(const std::string& what, const config::AdapterConfig& config,
                         const config::ResolvedRule& rule, const std::string& push_backend) {
  throw MetricsError(MetricsError::Kind::BadRequest,
                     "refusing to store a value for " + what + ": it is served by " + served_by(config, rule) +
                         ", not by " + push_backend + ", so the value would never be read; route it to " +
                         push_backend + " with a rule before that one, or stop writing it");
}

}  // namespace

RoutedWriter::RoutedWriter(std::shared_ptr<const config::ConfigSource> config, MetricsWriter& push,
                           std::string push_backend)
    : config_(std::move(config)), push_(push), push_backend_(std::move(push_backend)) {}

void RoutedWriter::write_object_value(const ObjectQuery& target, std::string_view body) {
  const auto config = config_->get();
  // A metric no rule exposes is stored as before: reads answer 404 until a rule exposes it.
  if (auto rule = config->resolve_custom(target.metric, target.resource); rule && rule->backend != push_backend_) {
    refuse("the metric " + target.metric + " of " + target.resource.to_string(), *config, *rule, push_backend_);
  }
  push_.write_object_value(target, body);
}

void RoutedWriter::write_external_value(const std::string& namespace_, const std::string& metric,
                                        std::string_view body) {
  const auto config = config_->get();
  if (auto rule = config->resolve_external(metric); rule && rule->backend != push_backend_) {
    refuse("the external metric " + metric, *config, *rule, push_backend_);
  }
  push_.write_external_value(namespace_, metric, body);
}

}  // namespace sma::providers
