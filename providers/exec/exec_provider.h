// The exec backend: a rule names a command; each API request runs it (through the value cache and
// the backend call slots, like any backend call) with the request as a JSON document on stdin, and
// serves what it prints. Failures are answered as Status, never as a number: a command that exits
// non-zero or is killed 503 (with the first line of its stderr), one that runs past its timeout
// 503 (504 past the request's deadline), output that is too large or not the documented shape 500.
// docs/user-logic.md describes the document, the outputs and what a command can see.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lib/config/config_source.h"
#include "providers/backend_call.h"
#include "providers/pod_lister.h"
#include "providers/provider.h"

namespace sma::providers::exec {

class ExecProvider final : public MetricsProvider {
 public:
  // transport runs EXEC requests (exec_call.h): a CommandRunner behind the value cache and the
  // backend call slots, or `explain`'s recorder. pods lists the pods a selector picks; kinds finds
  // the version of resources outside the built-in table; kubernetes says whether the Kubernetes API
  // is there to read objects from (input: object).
  ExecProvider(std::shared_ptr<const config::ConfigSource> config, Transport transport, PodLister pods, KindLookup kinds,
               bool kubernetes, std::function<api::Clock::time_point()> now = api::Clock::now);

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

 private:
  // Runs the request; every failure becomes a MetricsError naming the rule.
  std::string run(const config::ResolvedRule& rule, const http::OutgoingRequest& request) const;
  // The API path of one object, or of the objects of a resource in a namespace (name empty);
  // empty when the resource's version is unknown.
  std::string object_path(const api::GroupResource& resource, const std::string& namespace_, const std::string& name) const;
  const config::ExecSpec& spec_of(const config::ResolvedRule& rule) const;

  std::shared_ptr<const config::ConfigSource> config_;
  Transport transport_;
  PodLister pods_;
  KindLookup kinds_;
  bool kubernetes_;
  std::function<api::Clock::time_point()> now_;
};

}  // namespace sma::providers::exec
