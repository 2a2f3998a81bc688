#include "providers/promql/promql_provider.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <set>
#include <stdexcept>

#include "lib/api/builtin_resources.h"
#include "providers/backend_rules.h"
#include "providers/promql/promql_query_text.h"
#include "providers/promql/sysdig_metric_names.h"

namespace sma::providers::promql {
namespace {

api::Clock::time_point to_time_point(double unix_seconds) {
  return api::Clock::time_point(std::chrono::duration_cast<api::Clock::duration>(std::chrono::duration<double>(unix_seconds)));
}

// NaN and infinities are never served: such a sample counts as no value.
std::optional<api::Quantity> sample_value(const PromqlSample& sample) { return api::Quantity::parse(sample.value); }

}  // namespace

PromqlProvider::PromqlProvider(PromqlProviderOptions options, std::shared_ptr<const config::ConfigSource> config,
                               PromqlClient client, PodLister pods, KindLookup kinds, std::function<api::Clock::time_point()> now)
    : options_(std::move(options)),
      config_(std::move(config)),
      client_(std::move(client)),
      pods_(std::move(pods)),
      kinds_(std::move(kinds)),
      now_(std::move(now)),
      catalog_(client_.endpoint().name, [this] { return client_.metric_names(); }, options_.discovery_interval),
      batcher_(options_.batch_window),
      families_(options_.families) {}

void PromqlProvider::start_discovery() { catalog_.start(); }

std::string PromqlProvider::series_name(const config::ResolvedRule& rule, const std::string& metric) const {
  if (!rule.series.empty()) return rule.series;
  return options_.sysdig_metric_names ? sysdig_promql_name(metric) : metric;
}

std::string PromqlProvider::build_query(const config::ResolvedRule& rule, const std::string& series,
                                        const QueryScope& scope, const api::LabelSelector& series_selector) const {
  try {
    auto all = scope_matchers(scope);
    auto extra = matchers_from_selector(series_selector);
    all.insert(all.end(), extra.begin(), extra.end());
    return query_text(rule, series, all, scope.group_label);
  } catch (const std::invalid_argument& e) {
    throw MetricsError(MetricsError::Kind::BadRequest, e.what());
  }
}

const config::LabelMapping& PromqlProvider::labels(const config::AdapterConfig& config) const {
  return options_.backend == "prometheus" ? config.prometheus_labels : config.promql_labels;
}

api::Clock::time_point PromqlProvider::evaluation_time(const config::ResolvedRule& rule) const {
  return now_() - rule.query_offset.value_or(options_.default_query_offset);
}

std::string PromqlProvider::no_series_reason(const config::ResolvedRule& rule, const config::LabelMapping& labels,
                                             const std::string& series, const QueryScope& scope,
                                             const api::Deadline& deadline) const {
  const std::string& backend = client_.endpoint().name;
  std::string reason = backend + " has no series " + series + " where " + describe_scope(scope);
  if (options_.cluster_name.empty() || labels.cluster.empty()) return reason;
  // One more query, on this path only: does the cluster have the metric at all?
  try {
    const std::string whole_cluster =
        "count(" + selector(series, {{labels.cluster, Matcher::Op::Equal, options_.cluster_name}}) + ")";
    if (client_.instant_query(whole_cluster, evaluation_time(rule), deadline, rule.cache_ttl, true)->empty()) {
      reason += "; cluster \"" + options_.cluster_name + "\" has no series " + series +
                " at all: check CLUSTER_NAME (--cluster-name), which must be the " + labels.cluster + " that " +
                backend + " reports for this cluster, and that the metric is collected";
    }
  } catch (const std::exception&) {
    // The scope alone still says what was searched.
  }
  return reason;
}

std::shared_ptr<const MergedSamples> PromqlProvider::merged(
    const config::ResolvedRule& rule, const config::LabelMapping& labels, const std::string& series,
    const std::string& kind, const api::GroupResource& resource, const std::string& namespace_,
    const std::string& member, const std::string& group_label, const api::LabelSelector& metric_selector,
    const api::Deadline& deadline) {
  // Only the default query shape is merged: a rule's own template may use <<.GroupBy>> in ways that
  // two labels would break.
  if (!families_.enabled() || !rule.query.empty() || group_label.empty()) return nullptr;
  if (!namespace_.empty() && labels.namespace_.empty()) return nullptr;
  const std::string namespace_label = namespace_.empty() ? std::string() : labels.namespace_;
  const std::string key = kind + ' ' + options_.backend + ' ' + rule.origin + ' ' + series + ' ' +
                          resource.to_string() + ' ' + (namespace_.empty() ? "cluster" : "namespaced") + ' ' +
                          metric_selector.to_string();
  // Every object of the cluster, grouped by namespace and object: one query for every member.
  std::vector<Matcher> matchers;
  try {
    matchers = scope_matchers(external_scope(labels, options_.cluster_name, ""));
    auto extra = matchers_from_selector(metric_selector);
    matchers.insert(matchers.end(), extra.begin(), extra.end());
  } catch (const std::invalid_argument&) {
    return nullptr;  // the request's own query says what is wrong
  }
  const std::string query =
      query_text(rule, series, matchers, namespace_label.empty() ? group_label : namespace_label + "," + group_label);
  auto run_family = [this, rule, query, namespace_label](const api::Deadline& within) -> std::shared_ptr<const MergedSamples> {
    // Fresh each time: the refresh is what keeps the answer current, so the value cache is passed by.
    auto samples = client_.instant_query(query, evaluation_time(rule), within, std::chrono::milliseconds(0));
    auto merged_answer = std::make_shared<MergedSamples>();
    for (const auto& sample : *samples) {
      std::string space;
      if (!namespace_label.empty()) {
        auto found = sample.labels.find(namespace_label);
        if (found == sample.labels.end()) continue;
        space = found->second;
      }
      merged_answer->by_namespace[space].push_back(&sample);
    }
    merged_answer->samples = std::move(samples);
    return merged_answer;
  };
  return families_.answer(key, member, run_family, deadline);
}

std::shared_ptr<const std::vector<PromqlSample>> PromqlProvider::run(const config::ResolvedRule& rule, const std::string& query,
                                              const api::Deadline& deadline) const {
  return client_.instant_query(query, evaluation_time(rule), deadline, rule.cache_ttl);
}

api::MetricValue PromqlProvider::get_metric_by_name(const ObjectQuery& q) {
  const auto config = config_->get();
  auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  reject_scope_labels(*config, q.metric_selector, "metricLabelSelector");
  auto scope = object_scope(labels(*config), options_.cluster_name, q);
  std::string series = series_name(rule, q.metric);
  std::int64_t window = rule.window.count();
  // Merged with the other objects' requests for this metric: read the family's latest answer. An
  // object missing from it asks on its own below (for the 404's details, or absentAs).
  const bool plain_name = q.name.find(';') == std::string::npos && !(q.resource == api::GroupResource{"namespaces", ""});
  if (plain_name) {
    if (auto family = merged(rule, labels(*config), series, "object", q.resource, q.namespace_,
                             q.namespace_ + "/" + q.name, scope.group_label, q.metric_selector, q.deadline)) {
      auto in_namespace = family->by_namespace.find(q.namespace_);
      if (in_namespace != family->by_namespace.end()) {
        const PromqlSample* found = nullptr;
        for (const PromqlSample* s : in_namespace->second) {
          auto name = s->labels.find(scope.group_label);
          if (name == s->labels.end() || name->second != q.name) continue;
          if (found != nullptr) {
            found = nullptr;  // two series for one object: the object's own query reports that
            break;
          }
          found = s;
        }
        if (found != nullptr) {
          if (auto value = sample_value(*found)) {
            return {describe_object(kinds_, q.resource, q.namespace_, q.name), q.metric, to_time_point(found->timestamp),
                    window, *value};
          }
        }
      }
    }
  }
  auto answer = run(rule, build_query(rule, series, scope, q.metric_selector), q.deadline);
  const auto& samples = *answer;

  std::vector<std::pair<api::Quantity, api::Clock::time_point>> values;
  for (const auto& s : samples) {
    if (auto v = sample_value(s)) values.emplace_back(*v, to_time_point(s.timestamp));
  }
  if (values.size() > 1) {
    throw MetricsError(MetricsError::Kind::Internal,
                       "the query for " + q.metric + " returned " + std::to_string(values.size()) +
                           " series for one object; the " + rule.origin + " must aggregate to one value");
  }
  if (values.empty()) {
    if (rule.absent_as) {
      return {describe_object(kinds_, q.resource, q.namespace_, q.name), q.metric, evaluation_time(rule), window,
              *rule.absent_as};
    }
    throw MetricsError(MetricsError::Kind::NotFound,
                       "the server could not find the metric " + q.metric + " for " + q.resource.to_string() + " " +
                           q.name + ": " +
                           (samples.empty() ? no_series_reason(rule, labels(*config), series, scope, q.deadline)
                                            : client_.endpoint().name + " has no finite value for it"));
  }
  return {describe_object(kinds_, q.resource, q.namespace_, q.name), q.metric, values.front().second, window,
          values.front().first};
}

std::vector<api::MetricValue> PromqlProvider::get_metric_by_selector(const SelectorQuery& q) {
  const auto config = config_->get();
  auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  reject_scope_labels(*config, q.metric_selector, "metricLabelSelector");

  auto selection = select_objects(labels(*config), options_.cluster_name, q, pods_);
  if (selection.nothing_selected) return {};
  const auto& scope = selection.scope;
  const auto& wanted = selection.wanted;

  std::string series = series_name(rule, q.metric);
  std::int64_t window = rule.window.count();
  // One answer per object, sorted by name; a later sample of the same object wins. The keys point
  // into the samples and the selection, which outlive the map.
  std::map<std::string_view, std::pair<const PromqlSample*, api::Quantity>> chosen;
  const auto choose = [&](const PromqlSample& s) {
    auto it = s.labels.find(scope.group_label);
    if (it == s.labels.end() || !selection.wants(it->second)) return;
    auto value = sample_value(s);
    if (!value) return;
    chosen.insert_or_assign(it->second, std::pair{&s, std::move(*value)});
  };
  // Merged with the other namespaces' requests for this metric: the family's latest answer.
  std::shared_ptr<const MergedSamples> family =
      merged(rule, labels(*config), series, "selector", q.resource, q.namespace_, q.namespace_, scope.group_label,
             q.metric_selector, q.deadline);
  std::shared_ptr<const std::vector<PromqlSample>> answer;
  if (family) {
    auto in_namespace = family->by_namespace.find(q.namespace_);
    if (in_namespace != family->by_namespace.end()) {
      for (const PromqlSample* s : in_namespace->second) choose(*s);
    }
  } else if (wanted.empty()) {
    answer = run(rule, build_query(rule, series, scope, q.metric_selector), q.deadline);
  } else {
    // Requests differing only in their pods can share one query over all of them.
    const std::string key = q.namespace_ + '\n' + q.metric + '\n' + q.metric_selector.to_string();
    answer = batcher_.submit(key, wanted, [&](const std::vector<std::string>& pods) {
      // The batch holds at least this request's pods: the same count means the same pods.
      if (pods.size() == wanted.size()) return run(rule, build_query(rule, series, scope, q.metric_selector), q.deadline);
      auto batch_scope = pods_scope(labels(*config), options_.cluster_name, q.namespace_, pods);
      return run(rule, build_query(rule, series, batch_scope, q.metric_selector), q.deadline);
    });
  }
  if (answer) {
    for (const auto& s : *answer) choose(s);
  }
  if (rule.absent_as) {
    for (const auto& name : wanted) chosen.try_emplace(name, nullptr, *rule.absent_as);
  }
  std::vector<api::MetricValue> items;
  items.reserve(chosen.size());
  for (auto& [name, choice] : chosen) {
    const PromqlSample* sample = choice.first;
    items.push_back({describe_object(kinds_, q.resource, q.namespace_, std::string(name)), q.metric,
                     sample ? to_time_point(sample->timestamp) : evaluation_time(rule), window, std::move(choice.second)});
  }
  return items;
}

std::vector<api::ExternalMetricValue> PromqlProvider::get_external_metric(const ExternalQuery& q) {
  const auto config = config_->get();
  auto rule = external_rule_or_not_found(*config, q.metric);
  reject_scope_labels(*config, q.metric_selector, "labelSelector");
  auto scope = external_scope(labels(*config), options_.cluster_name, rule.namespaced ? q.namespace_ : "");
  std::string series = series_name(rule, q.metric);
  auto answer = run(rule, build_query(rule, series, scope, q.metric_selector), q.deadline);
  std::int64_t window = rule.window.count();
  std::vector<api::ExternalMetricValue> items;
  for (const auto& s : *answer) {
    auto value = sample_value(s);
    if (!value) continue;
    api::Labels labels = s.labels;
    labels.erase("__name__");
    items.push_back({q.metric, std::move(labels), to_time_point(s.timestamp), window, *value});
  }
  if (items.empty() && rule.absent_as) items.push_back({q.metric, {}, evaluation_time(rule), window, *rule.absent_as});
  return items;
}

std::vector<api::CustomMetricInfo> PromqlProvider::list_custom_metrics() {
  const auto config = config_->get();
  return custom_metric_infos(*config, labels(*config), options_.backend, catalog_.names());
}

std::vector<api::ExternalMetricInfo> PromqlProvider::list_external_metrics() {
  const auto config = config_->get();
  return external_metric_infos(*config, options_.backend, catalog_.names());
}

}  // namespace sma::providers::promql
