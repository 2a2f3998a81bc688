// The push backend: values written over HTTP (/write-metrics, /write-external-metrics) and served
// back until they expire. It keeps everything in this process, so it suits development, tests and
// single-replica use; replicas do not share pushed values.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "providers/provider.h"
#include "providers/push/push_body.h"

namespace sma::providers::push {

class PushProvider final : public MetricsProvider, public MetricsWriter {
 public:
  using SteadyClock = std::chrono::steady_clock;
  // ttl 0 keeps values forever. The clocks are injectable so expiry can be tested without sleeping.
  explicit PushProvider(std::chrono::milliseconds ttl,
                        std::function<SteadyClock::time_point()> steady_now = SteadyClock::now,
                        std::function<api::Clock::time_point()> wall_now = api::Clock::now);

  std::vector<api::CustomMetricInfo> list_custom_metrics() override;
  std::vector<api::ExternalMetricInfo> list_external_metrics() override;
  api::MetricValue get_metric_by_name(const ObjectQuery& query) override;
  std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) override;
  std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) override;

  void write_object_value(const ObjectQuery& target, std::string_view body) override;
  void write_external_value(const std::string& namespace_, const std::string& metric, std::string_view body) override;

 private:
  struct Sample {
    api::Quantity value;
    api::Clock::time_point timestamp;
    SteadyClock::time_point written;
  };
  // One object: its labels and its series, keyed by metric then by the series' labels.
  struct ObjectEntry {
    api::Labels labels;
    std::map<std::string, std::map<api::Labels, Sample>> series;
  };
  // namespace, resource, name
  using ObjectKey = std::tuple<std::string, api::GroupResource, std::string>;
  // namespace, metric
  using ExternalKey = std::tuple<std::string, std::string>;

  bool expired(const Sample& s, SteadyClock::time_point now) const;
  void purge_expired_locked(SteadyClock::time_point now);
  // Sums the object's series of `metric` that match the selector; false when none is live.
  bool object_value_locked(const ObjectKey& key, const ObjectEntry& entry, const std::string& metric,
                           const api::LabelSelector& metric_selector, SteadyClock::time_point now,
                           api::MetricValue& out) const;

  std::chrono::milliseconds ttl_;
  std::function<SteadyClock::time_point()> steady_now_;
  std::function<api::Clock::time_point()> wall_now_;
  std::mutex mutex_;
  std::map<ObjectKey, ObjectEntry> objects_;
  std::map<ExternalKey, std::map<api::Labels, Sample>> externals_;
};

}  // namespace sma::providers::push
