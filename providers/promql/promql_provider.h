// Serves metrics from a PromQL backend: Sysdig's Prometheus-compatible API, or a plain Prometheus.
// Each API request becomes exactly one instant query, scoped by cluster, namespace and object;
// pods/* lists the selected pods first and sends one query grouped by pod.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "lib/config/adapter_config.h"
#include "lib/config/config_source.h"
#include "providers/metric_catalog.h"
#include "providers/pod_lister.h"
#include "providers/promql/promql_client.h"
#include "providers/provider.h"
#include "providers/query_batcher.h"
#include "providers/query_families.h"
#include "providers/query_scope.h"

namespace sma::providers::promql {

struct PromqlProviderOptions {
  std::string backend = "sysdig";   // the rules' backend name this provider serves; "prometheus"
                                    // uses the config's Prometheus label names
  std::string cluster_name;         // empty: no cluster matcher (single-cluster Prometheus)
  bool sysdig_metric_names = true;  // map dotted legacy ids to Sysdig's PromQL names
  std::chrono::seconds default_query_offset{0};
  std::chrono::milliseconds discovery_interval{std::chrono::minutes(5)};
  // pods/* requests for the same metric and namespace arriving this close together share one query
  // (0: off).
  std::chrono::milliseconds batch_window{0};
  // Requests for the same metric across objects and namespaces merged into one query, refreshed
  // ahead (refresh 0: off).
  QueryFamilyOptions families;
};

// A merged answer: every object's sample of one family's query, by namespace.
struct MergedSamples {
  std::shared_ptr<const std::vector<PromqlSample>> samples;
  std::unordered_map<std::string, std::vector<const PromqlSample*>> by_namespace;
};

class PromqlProvider final : public MetricsProvider {
 public:
  PromqlProvider(PromqlProviderOptions options, std::shared_ptr<const config::ConfigSource> config,
                 PromqlClient client, PodLister pods, KindLookup kinds,
                 std::function<api::Clock::time_point()> now = api::Clock::now);

  // Starts refreshing the metric names for discovery in the background.
  void start_discovery();

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

 private:
  std::string series_name(const config::ResolvedRule& rule, const std::string& metric) const;
  // The query text; a name or selector PromQL cannot express is a BadRequest.
  std::string build_query(const config::ResolvedRule& rule, const std::string& series, const QueryScope& scope,
                          const api::LabelSelector& series_selector) const;
  const config::LabelMapping& labels(const config::AdapterConfig& config) const;
  api::Clock::time_point evaluation_time(const config::ResolvedRule& rule) const;
  // Why an object query found no series: the scope it searched and, when the whole cluster has no
  // series of the metric, that (a wrong CLUSTER_NAME looks exactly like this).
  std::string no_series_reason(const config::ResolvedRule& rule, const config::LabelMapping& labels,
                               const std::string& series, const QueryScope& scope, const api::Deadline& deadline) const;
  std::shared_ptr<const std::vector<PromqlSample>> run(const config::ResolvedRule& rule, const std::string& query,
                                const api::Deadline& deadline) const;
  // The merged answer of the family this request belongs to, or null: the request asks for its own
  // objects. `group_label`: the object label the family groups by, with the namespace label.
  std::shared_ptr<const MergedSamples> merged(const config::ResolvedRule& rule, const config::LabelMapping& labels,
                                              const std::string& series, const std::string& kind,
                                              const api::GroupResource& resource, const std::string& namespace_,
                                              const std::string& member, const std::string& group_label,
                                              const api::LabelSelector& metric_selector, const api::Deadline& deadline);

  PromqlProviderOptions options_;
  std::shared_ptr<const config::ConfigSource> config_;
  PromqlClient client_;
  PodLister pods_;
  KindLookup kinds_;
  std::function<api::Clock::time_point()> now_;
  MetricCatalog catalog_;
  QueryBatcher<std::vector<PromqlSample>> batcher_;
  QueryFamilies<MergedSamples> families_;  // last: its refresher thread stops first
};

}  // namespace sma::providers::promql
