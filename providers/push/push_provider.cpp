#include "providers/push/push_provider.h"

#include <set>

#include "lib/api/builtin_resources.h"

namespace sma::providers::push {
namespace {

[[noreturn]] void metric_not_found(const std::string& metric, const api::GroupResource& resource,
                                   const std::string& name) {
  throw MetricsError(MetricsError::Kind::NotFound,
                     "the server could not find the metric " + metric + " for " + resource.to_string() + " " + name);
}

}  // namespace

PushProvider::PushProvider(std::chrono::milliseconds ttl, std::function<SteadyClock::time_point()> steady_now,
                           std::function<api::Clock::time_point()> wall_now)
    : ttl_(ttl), steady_now_(std::move(steady_now)), wall_now_(std::move(wall_now)) {}

bool PushProvider::expired(const Sample& s, SteadyClock::time_point now) const {
  return ttl_.count() > 0 && now - s.written >= ttl_;
}

void PushProvider::purge_expired_locked(SteadyClock::time_point now) {
  if (ttl_.count() == 0) return;
  for (auto obj = objects_.begin(); obj != objects_.end();) {
    auto& metrics = obj->second.series;
    for (auto m = metrics.begin(); m != metrics.end();) {
      std::erase_if(m->second, [&](const auto& kv) { return expired(kv.second, now); });
      m = m->second.empty() ? metrics.erase(m) : std::next(m);
    }
    obj = metrics.empty() ? objects_.erase(obj) : std::next(obj);
  }
  for (auto ext = externals_.begin(); ext != externals_.end();) {
    std::erase_if(ext->second, [&](const auto& kv) { return expired(kv.second, now); });
    ext = ext->second.empty() ? externals_.erase(ext) : std::next(ext);
  }
}

bool PushProvider::object_value_locked(const ObjectKey& key, const ObjectEntry& entry, const std::string& metric,
                                       const api::LabelSelector& metric_selector, SteadyClock::time_point now,
                                       api::MetricValue& out) const {
  auto m = entry.series.find(metric);
  if (m == entry.series.end()) return false;
  std::optional<api::Quantity> total;
  api::Clock::time_point newest{};
  for (const auto& [series_labels, sample] : m->second) {
    if (expired(sample, now) || !metric_selector.matches(series_labels)) continue;
    total = total ? api::Quantity::add(*total, sample.value) : sample.value;
    if (!total) {
      throw MetricsError(MetricsError::Kind::Internal, "the sum of the series of metric " + metric + " overflows");
    }
    newest = std::max(newest, sample.timestamp);
  }
  if (!total) return false;
  const auto& [ns, resource, name] = key;
  out = api::MetricValue{api::described_object(resource, ns, name), metric, newest, std::nullopt, *total};
  return true;
}

std::vector<api::CustomMetricInfo> PushProvider::list_custom_metrics() {
  std::lock_guard lock(mutex_);
  auto now = steady_now_();
  purge_expired_locked(now);
  std::set<api::CustomMetricInfo> unique;
  for (const auto& [key, entry] : objects_) {
    const auto& [ns, resource, name] = key;
    for (const auto& [metric, series] : entry.series) unique.insert({resource, metric, !ns.empty()});
  }
  return {unique.begin(), unique.end()};
}

std::vector<api::ExternalMetricInfo> PushProvider::list_external_metrics() {
  std::lock_guard lock(mutex_);
  purge_expired_locked(steady_now_());
  std::set<api::ExternalMetricInfo> unique;
  for (const auto& [key, series] : externals_) unique.insert({std::get<1>(key)});
  return {unique.begin(), unique.end()};
}

api::MetricValue PushProvider::get_metric_by_name(const ObjectQuery& query) {
  std::lock_guard lock(mutex_);
  ObjectKey key{query.namespace_, query.resource, query.name};
  auto it = objects_.find(key);
  api::MetricValue value;
  if (it == objects_.end() ||
      !object_value_locked(key, it->second, query.metric, query.metric_selector, steady_now_(), value)) {
    metric_not_found(query.metric, query.resource, query.name);
  }
  return value;
}

std::vector<api::MetricValue> PushProvider::get_metric_by_selector(const SelectorQuery& query) {
  std::lock_guard lock(mutex_);
  auto now = steady_now_();
  std::vector<api::MetricValue> values;
  // Objects are ordered by (namespace, resource, name): scan just this namespace and resource.
  auto it = objects_.lower_bound(ObjectKey{query.namespace_, query.resource, ""});
  for (; it != objects_.end(); ++it) {
    const auto& [ns, resource, name] = it->first;
    if (ns != query.namespace_ || !(resource == query.resource)) break;
    if (!query.object_selector.matches(it->second.labels)) continue;
    api::MetricValue value;
    if (object_value_locked(it->first, it->second, query.metric, query.metric_selector, now, value)) {
      values.push_back(std::move(value));
    }
  }
  return values;
}

std::vector<api::ExternalMetricValue> PushProvider::get_external_metric(const ExternalQuery& query) {
  std::lock_guard lock(mutex_);
  auto now = steady_now_();
  std::vector<api::ExternalMetricValue> values;
  auto it = externals_.find(ExternalKey{query.namespace_, query.metric});
  if (it == externals_.end()) return values;
  for (const auto& [labels, sample] : it->second) {
    if (expired(sample, now) || !query.metric_selector.matches(labels)) continue;
    values.push_back({query.metric, labels, sample.timestamp, std::nullopt, sample.value});
  }
  return values;
}

void PushProvider::write_object_value(const ObjectQuery& target, std::string_view body) {
  PushedValue pushed = parse_push_body(body);  // throws before anything is stored
  std::lock_guard lock(mutex_);
  auto now = steady_now_();
  purge_expired_locked(now);
  auto& entry = objects_[ObjectKey{target.namespace_, target.resource, target.name}];
  if (!pushed.labels.empty()) entry.labels = std::move(pushed.labels);
  entry.series[target.metric][std::move(pushed.metric_labels)] = Sample{pushed.value, wall_now_(), now};
}

void PushProvider::write_external_value(const std::string& namespace_, const std::string& metric,
                                        std::string_view body) {
  PushedValue pushed = parse_push_body(body);
  if (!pushed.labels.empty()) {
    throw MetricsError(MetricsError::Kind::BadRequest,
                       "invalid value body: an external value has no object, so \"labels\" is not allowed; "
                       "use \"metricLabels\"");
  }
  std::lock_guard lock(mutex_);
  auto now = steady_now_();
  purge_expired_locked(now);
  externals_[ExternalKey{namespace_, metric}][std::move(pushed.metric_labels)] = Sample{pushed.value, wall_now_(), now};
}

}  // namespace sma::providers::push
