#include "providers/sysdig_data/data_api_provider.h"

#include <map>
#include <set>
#include <stdexcept>

#include "lib/api/builtin_resources.h"
#include "providers/backend_rules.h"

namespace sma::providers::sysdig_data {
namespace {

constexpr long long kResourcePageSize = 1000;  // `*` over services, deployments, ...: enough for a namespace

std::string time_aggregation(config::TimeAggregation t, const std::string& origin) {
  switch (t) {
    case config::TimeAggregation::Avg: return "timeAvg";
    case config::TimeAggregation::Rate: return "timeAvg";  // Sysdig counters average to a per-second rate
    case config::TimeAggregation::Sum: return "sum";
    case config::TimeAggregation::Max: return "max";
    case config::TimeAggregation::Min: return "min";
    case config::TimeAggregation::Last: break;
  }
  throw MetricsError(MetricsError::Kind::BadRequest,
                     "timeAggregation last (" + origin + ") has no Data API form; use avg, sum, max or min");
}

api::Clock::time_point to_time_point(std::int64_t t) { return api::Clock::time_point(std::chrono::seconds(t)); }

}  // namespace

DataApiProvider::DataApiProvider(DataApiProviderOptions options, std::shared_ptr<const config::ConfigSource> config,
                                 DataApiClient client, PodLister pods, KindLookup kinds)
    : options_(std::move(options)),
      config_(std::move(config)),
      client_(std::move(client)),
      pods_(std::move(pods)),
      kinds_(std::move(kinds)),
      catalog_(client_.endpoint().name, [this] { return client_.metric_ids(); }, options_.discovery_interval),
      batcher_(options_.batch_window) {}

void DataApiProvider::start_discovery() { catalog_.start(); }

DataApiQuery DataApiProvider::base_query(const config::ResolvedRule& rule, const std::string& metric,
                                         const QueryScope& scope, const api::LabelSelector& series_selector) const {
  if (!rule.query.empty()) {
    throw MetricsError(MetricsError::Kind::BadRequest,
                       "the " + rule.origin + " has a PromQL query, which the Data API cannot run (--sysdig-api=data)");
  }
  DataApiQuery q;
  q.metric_id = rule.series.empty() ? metric : rule.series;
  q.time_aggregation = time_aggregation(rule.time_aggregation, rule.origin);
  q.group_aggregation = config::to_string(rule.aggregation);
  q.last_seconds = rule.window.count();
  q.sampling_seconds = rule.window.count();
  for (const auto& c : scope.constraints) {
    q.filter.push_back({c.label, c.values.size() == 1 ? FilterClause::Op::Equal : FilterClause::Op::In, c.values});
  }
  try {
    auto extra = clauses_from_selector(series_selector);
    q.filter.insert(q.filter.end(), extra.begin(), extra.end());
  } catch (const std::invalid_argument& e) {
    throw MetricsError(MetricsError::Kind::BadRequest, e.what());
  }
  if (!scope.group_label.empty()) q.segment_by.push_back(scope.group_label);
  return q;
}

api::MetricValue DataApiProvider::get_metric_by_name(const ObjectQuery& query) {
  const auto config = config_->get();
  auto rule = custom_rule_or_not_found(*config, query.metric, query.resource);
  reject_scope_labels(*config, query.metric_selector, "metricLabelSelector");
  auto scope = object_scope(config->data_api_labels, options_.cluster_name, query);
  scope.group_label.clear();  // one object: one value, no segmentation
  auto answer = client_.query(base_query(rule, query.metric, scope, query.metric_selector), query.deadline, rule.cache_ttl);
  const auto& rows = *answer;
  auto described = describe_object(kinds_, query.resource, query.namespace_, query.name);
  if (rows.size() > 1) {
    throw MetricsError(MetricsError::Kind::Internal, "the Data API returned " + std::to_string(rows.size()) +
                                                         " rows for one object of " + query.metric);
  }
  if (rows.empty() || !api::Quantity::from_double(rows.front().value)) {
    if (rule.absent_as) return {described, query.metric, api::Clock::now(), rule.window.count(), *rule.absent_as};
    throw MetricsError(MetricsError::Kind::NotFound, "the server could not find the metric " + query.metric + " for " +
                                                         query.resource.to_string() + " " + query.name + ": " +
                                                         no_data_reason(rule, config->data_api_labels, query.metric,
                                                                        scope, query.deadline));
  }
  return {described, query.metric, to_time_point(rows.front().t), rule.window.count(),
          *api::Quantity::from_double(rows.front().value)};
}

std::string DataApiProvider::no_data_reason(const config::ResolvedRule& rule, const config::LabelMapping& labels,
                                            const std::string& metric, const QueryScope& scope,
                                            const api::Deadline& deadline) const {
  std::string reason = "Sysdig has no data for " + (rule.series.empty() ? metric : rule.series) + " where " +
                       describe_scope(scope);
  if (options_.cluster_name.empty() || labels.cluster.empty()) return reason;
  // One more query, on this path only: does the cluster have the metric at all?
  try {
    QueryScope whole_cluster = external_scope(labels, options_.cluster_name, "");
    if (client_.query(base_query(rule, metric, whole_cluster, {}), deadline, rule.cache_ttl, true)->empty()) {
      reason += "; cluster \"" + options_.cluster_name + "\" has no data for it at all: check CLUSTER_NAME " +
                "(--cluster-name), which must be the " + labels.cluster +
                " that Sysdig reports for this cluster, and that the metric is collected";
    }
  } catch (const std::exception&) {
    // The scope alone still says what was searched.
  }
  return reason;
}

std::vector<api::MetricValue> DataApiProvider::get_metric_by_selector(const SelectorQuery& query) {
  const auto config = config_->get();
  auto rule = custom_rule_or_not_found(*config, query.metric, query.resource);
  reject_scope_labels(*config, query.metric_selector, "metricLabelSelector");
  auto selection = select_objects(config->data_api_labels, options_.cluster_name, query, pods_);
  if (selection.nothing_selected) return {};
  const auto& wanted = selection.wanted;
  std::shared_ptr<const std::vector<DataRow>> answer;
  if (wanted.empty()) {
    auto data_query = base_query(rule, query.metric, selection.scope, query.metric_selector);
    data_query.paging_to = kResourcePageSize - 1;  // without paging Sysdig returns only the top 10 segments
    answer = client_.query(data_query, query.deadline, rule.cache_ttl);
  } else {
    // Requests differing only in their pods can share one query over all of them.
    const std::string key = query.namespace_ + '\n' + query.metric + '\n' + query.metric_selector.to_string();
    answer = batcher_.submit(key, wanted, [&](const std::vector<std::string>& pods) {
      // The batch holds at least this request's pods: the same count means the same pods.
      auto scope = pods.size() == wanted.size()
                       ? selection.scope
                       : pods_scope(config->data_api_labels, options_.cluster_name, query.namespace_, pods);
      auto data_query = base_query(rule, query.metric, scope, query.metric_selector);
      data_query.paging_to = static_cast<long long>(pods.size()) - 1;  // a segment for every listed pod
      return client_.query(data_query, query.deadline, rule.cache_ttl);
    });
  }
  std::map<std::string, api::MetricValue> by_name;
  for (const auto& row : *answer) {
    if (row.keys.empty()) continue;
    const std::string& name = row.keys.front();
    if (!selection.wants(name)) continue;
    auto value = api::Quantity::from_double(row.value);
    if (!value) continue;
    by_name[name] = {describe_object(kinds_, query.resource, query.namespace_, name), query.metric, to_time_point(row.t),
                     rule.window.count(), *value};
  }
  if (rule.absent_as) {
    for (const auto& name : wanted) {
      if (!by_name.count(name)) {
        by_name[name] = {describe_object(kinds_, query.resource, query.namespace_, name), query.metric, api::Clock::now(),
                         rule.window.count(), *rule.absent_as};
      }
    }
  }
  std::vector<api::MetricValue> items;
  items.reserve(by_name.size());
  for (auto& [name, value] : by_name) items.push_back(std::move(value));
  return items;
}

std::vector<api::ExternalMetricValue> DataApiProvider::get_external_metric(const ExternalQuery& query) {
  const auto config = config_->get();
  auto rule = external_rule_or_not_found(*config, query.metric);
  reject_scope_labels(*config, query.metric_selector, "labelSelector");
  auto scope = external_scope(config->data_api_labels, options_.cluster_name, rule.namespaced ? query.namespace_ : "");
  auto answer = client_.query(base_query(rule, query.metric, scope, query.metric_selector), query.deadline, rule.cache_ttl);
  std::vector<api::ExternalMetricValue> items;
  for (const auto& row : *answer) {
    if (auto value = api::Quantity::from_double(row.value)) {
      items.push_back({query.metric, {}, to_time_point(row.t), rule.window.count(), *value});
    }
  }
  if (items.empty() && rule.absent_as) {
    items.push_back({query.metric, {}, api::Clock::now(), rule.window.count(), *rule.absent_as});
  }
  return items;
}

std::vector<api::CustomMetricInfo> DataApiProvider::list_custom_metrics() {
  const auto config = config_->get();
  return custom_metric_infos(*config, config->data_api_labels, options_.backend, catalog_.names());
}

std::vector<api::ExternalMetricInfo> DataApiProvider::list_external_metrics() {
  const auto config = config_->get();
  // The descriptor catalogue names container metrics; external ones are those rules name.
  return external_metric_infos(*config, options_.backend, {});
}

}  // namespace sma::providers::sysdig_data
