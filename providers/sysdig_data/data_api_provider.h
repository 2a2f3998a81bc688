// Serves metrics from Sysdig's legacy Data API (on-prem installs without the PromQL API). Each API
// request becomes exactly one POST /api/data, filtered by cluster, namespace and object; pods/*
// segments by pod name with paging large enough for every listed pod.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "lib/config/adapter_config.h"
#include "lib/config/config_source.h"
#include "providers/metric_catalog.h"
#include "providers/pod_lister.h"
#include "providers/provider.h"
#include "providers/query_batcher.h"
#include "providers/query_scope.h"
#include "providers/sysdig_data/data_api_client.h"

namespace sma::providers::sysdig_data {

struct DataApiProviderOptions {
  std::string backend = "sysdig";
  std::string cluster_name;
  std::chrono::milliseconds discovery_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds batch_window{0};  // as PromqlProviderOptions::batch_window
};

class DataApiProvider final : public MetricsProvider {
 public:
  DataApiProvider(DataApiProviderOptions options, std::shared_ptr<const config::ConfigSource> config,
                  DataApiClient client, PodLister pods, KindLookup kinds = {});

  void start_discovery();

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

 private:
  // Why an object query found no data: the scope it searched and, when the whole cluster has none
  // of the metric, that (a wrong CLUSTER_NAME looks exactly like this).
  std::string no_data_reason(const config::ResolvedRule& rule, const config::LabelMapping& labels,
                             const std::string& metric, const QueryScope& scope, const api::Deadline& deadline) const;
  DataApiQuery base_query(const config::ResolvedRule& rule, const std::string& metric, const QueryScope& scope,
                          const api::LabelSelector& series_selector) const;

  DataApiProviderOptions options_;
  std::shared_ptr<const config::ConfigSource> config_;
  DataApiClient client_;
  PodLister pods_;
  KindLookup kinds_;
  MetricCatalog catalog_;
  QueryBatcher<std::vector<DataRow>> batcher_;
};

}  // namespace sma::providers::sysdig_data
