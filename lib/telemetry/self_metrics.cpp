#include "lib/telemetry/self_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cctype>
#include <mutex>
#include <sstream>

namespace sma::telemetry {
namespace {

// Buckets from 100 µs to 10 s: the adapter's own work is sub-millisecond, backends take tens of
// milliseconds, timeouts seconds.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& age_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {1, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600};
  return buckets;
}

std::string text(std::string_view v) { return std::string(v); }

}  // namespace

struct SelfMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_requests_total")
          .Help("API requests by kind, API version and HTTP status code")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& request_duration =
      prometheus::BuildHistogram()
          .Name("sysdig_metrics_adapter_request_duration_seconds")
          .Help("Time to answer an API request, including backend waits")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& in_flight_family =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_requests_in_flight")
          .Help("API requests being answered")
          .Register(*registry);
  prometheus::Gauge& in_flight = in_flight_family.Add({});
  prometheus::Family<prometheus::Counter>& handed_off_family =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_requests_handed_off_total")
          .Help("API requests the I/O thread could not answer from memory (a backend call, a review or a pod list "
                "was needed) and handed to a worker thread; the others were answered without a hand-off")
          .Register(*registry);
  prometheus::Counter& handed_off = handed_off_family.Add({});
  prometheus::Family<prometheus::Counter>& backend_requests =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_backend_requests_total")
          .Help("Calls to metrics backends by backend and outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& backend_duration =
      prometheus::BuildHistogram()
          .Name("sysdig_metrics_adapter_backend_request_duration_seconds")
          .Help("Duration of backend calls")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& slot_waiting_family =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_backend_calls_waiting_for_slot")
          .Help("Backend calls waiting for a free slot (--max-backend-concurrency)")
          .Register(*registry);
  prometheus::Gauge& slot_waiting = slot_waiting_family.Add({});
  prometheus::Family<prometheus::Counter>& slot_refused_family =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_backend_slot_timeouts_total")
          .Help("Backend calls refused (503) because no slot came free within the request's deadline")
          .Register(*registry);
  prometheus::Counter& slot_refused = slot_refused_family.Add({});
  prometheus::Family<prometheus::Counter>& cache_events =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_cache_events_total")
          .Help("Value cache events: hit, miss, coalesced (waited on an identical in-flight query), stale "
                "(served past its TTL because the backend failed), eviction")
          .Register(*registry);
  prometheus::Counter& hits = cache_events.Add({{"event", "hit"}});
  prometheus::Counter& misses = cache_events.Add({{"event", "miss"}});
  prometheus::Counter& coalesced = cache_events.Add({{"event", "coalesced"}});
  prometheus::Counter& stale = cache_events.Add({{"event", "stale"}});
  prometheus::Counter& evictions = cache_events.Add({{"event", "eviction"}});
  prometheus::Family<prometheus::Histogram>& value_age_family =
      prometheus::BuildHistogram()
          .Name("sysdig_metrics_adapter_served_value_age_seconds")
          .Help("Age of served values, one observation per answer (its oldest value): now minus the sample timestamp")
          .Register(*registry);
  prometheus::Histogram& value_age = value_age_family.Add({}, age_buckets());
  prometheus::Family<prometheus::Gauge>& discovery =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_discovery_last_refresh_timestamp_seconds")
          .Help("Unix time of the last successful refresh of a backend's metric names")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& certificate_expiry =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_serving_certificate_expiry_timestamp_seconds")
          .Help("Unix time when the serving certificate in force expires; source: file, secret or self-signed")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& authority_expiry_family =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_serving_certificate_authority_expiry_timestamp_seconds")
          .Help("Unix time when the authority in the serving certificate Secret (--serving-cert-secret) expires")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& secret_operations =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_serving_secret_operations_total")
          .Help("Reads and writes of the serving certificate Secret (--serving-cert-secret) by outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& injection =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_apiservice_ca_injection")
          .Help("1 for the outcome of the last caBundle check of each APIService (unchanged, patched, not_found, "
                "failed), 0 for the others")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& pod_cache_family =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_pod_cache")
          .Help("The pods/* pod cache: namespaces watched (asked about recently), pods held, watches open (connections "
                "to the API server), cluster_wide (1 when one watch of every pod is in use)")
          .Register(*registry);
  prometheus::Gauge& pod_namespaces = pod_cache_family.Add({{"value", "namespaces"}});
  prometheus::Gauge& pod_count = pod_cache_family.Add({{"value", "pods"}});
  prometheus::Gauge& pod_watches = pod_cache_family.Add({{"value", "watches_open"}});
  prometheus::Gauge& pod_cluster_wide = pod_cache_family.Add({{"value", "cluster_wide"}});
  prometheus::Family<prometheus::Counter>& pod_watch_problems_family =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_pod_watch_problems_total")
          .Help("Pod watches or lists that failed (each is retried with backoff; see the warning in the log)")
          .Register(*registry);
  prometheus::Counter& pod_watch_problems = pod_watch_problems_family.Add({});
  prometheus::Family<prometheus::Counter>& exec_calls =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_exec_calls_total")
          .Help("Commands of exec rules run, by rule (file:line) and how they ended: success, exit_status, signal, "
                "timeout, output_too_large, spawn_failed")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& exec_duration =
      prometheus::BuildHistogram()
          .Name("sysdig_metrics_adapter_exec_call_duration_seconds")
          .Help("How long the commands of exec rules ran, by rule")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& exec_rejected =
      prometheus::BuildCounter()
          .Name("sysdig_metrics_adapter_exec_output_rejected_total")
          .Help("Outputs of exec rules' commands that were not the documented shape (answered 500), by rule")
          .Register(*registry);
  std::mutex render_mutex;
  std::function<void()> render_hook;  // guarded by render_mutex
  prometheus::Family<prometheus::Gauge>& build_info =
      prometheus::BuildGauge()
          .Name("sysdig_metrics_adapter_build_info")
          .Help("Always 1; the labels say which build is running")
          .Register(*registry);
};

SelfMetrics::SelfMetrics() : impl_(std::make_unique<Impl>()) {
#ifdef SMA_VERSION
  impl_->build_info.Add({{"version", SMA_VERSION}}).Set(1);
#else
  impl_->build_info.Add({{"version", "unknown"}}).Set(1);
#endif
}

SelfMetrics& SelfMetrics::instance() {
  static SelfMetrics metrics;
  return metrics;
}

void SelfMetrics::request_started() { impl_->in_flight.Increment(); }

void SelfMetrics::request_handed_off() {
  impl_->in_flight.Decrement();
  impl_->handed_off.Increment();
}

void SelfMetrics::request_finished(std::string_view kind, std::string_view version, int code, double seconds) {
  impl_->in_flight.Decrement();
  impl_->requests.Add({{"kind", text(kind)}, {"version", text(version)}, {"code", std::to_string(code)}}).Increment();
  impl_->request_duration.Add({{"kind", text(kind)}}, latency_buckets()).Observe(seconds);
}

void SelfMetrics::backend_call(std::string_view backend, std::string_view outcome, double seconds) {
  impl_->backend_requests.Add({{"backend", text(backend)}, {"outcome", text(outcome)}}).Increment();
  impl_->backend_duration.Add({{"backend", text(backend)}}, latency_buckets()).Observe(seconds);
}

void SelfMetrics::backend_call_waiting(int delta) { impl_->slot_waiting.Increment(static_cast<double>(delta)); }
void SelfMetrics::backend_slot_refused() { impl_->slot_refused.Increment(); }

void SelfMetrics::cache_hit() { impl_->hits.Increment(); }
void SelfMetrics::cache_miss() { impl_->misses.Increment(); }
void SelfMetrics::cache_coalesced() { impl_->coalesced.Increment(); }
void SelfMetrics::cache_stale_served() { impl_->stale.Increment(); }
void SelfMetrics::cache_evicted() { impl_->evictions.Increment(); }
void SelfMetrics::served_value_age(double seconds) { impl_->value_age.Observe(seconds); }

void SelfMetrics::discovery_refreshed(std::string_view backend, double unix_seconds) {
  // Lower case, as backend calls are labelled ("sysdig", "prometheus"), so the two join on `backend`.
  std::string label(backend);
  for (char& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  impl_->discovery.Add({{"backend", label}}).Set(unix_seconds);
}

void SelfMetrics::serving_certificate(std::string_view source, double not_after_unix) {
  // One series: the source in force. A change of source removes the previous one's.
  for (const char* known : {"file", "secret", "self-signed"}) {
    prometheus::Labels labels{{"source", known}};
    if (known != source && impl_->certificate_expiry.Has(labels)) {
      impl_->certificate_expiry.Remove(&impl_->certificate_expiry.Add(labels));
    }
  }
  impl_->certificate_expiry.Add({{"source", text(source)}}).Set(not_after_unix);
}

void SelfMetrics::serving_certificate_authority(double not_after_unix) {
  impl_->authority_expiry_family.Add({}).Set(not_after_unix);
}

void SelfMetrics::serving_secret_operation(std::string_view operation, std::string_view outcome) {
  impl_->secret_operations.Add({{"operation", text(operation)}, {"outcome", text(outcome)}}).Increment();
}

void SelfMetrics::ca_injection(std::string_view apiservice, std::string_view outcome) {
  for (const char* known : {"unchanged", "patched", "not_found", "failed"}) {
    impl_->injection.Add({{"apiservice", text(apiservice)}, {"outcome", known}}).Set(known == outcome ? 1 : 0);
  }
}

void SelfMetrics::pod_cache(double namespaces, double pods, double watches_open, bool cluster_wide) {
  impl_->pod_namespaces.Set(namespaces);
  impl_->pod_count.Set(pods);
  impl_->pod_watches.Set(watches_open);
  impl_->pod_cluster_wide.Set(cluster_wide ? 1 : 0);
}

void SelfMetrics::pod_watch_problem() { impl_->pod_watch_problems.Increment(); }

void SelfMetrics::exec_call(std::string_view rule, std::string_view outcome, double seconds) {
  impl_->exec_calls.Add({{"rule", text(rule)}, {"outcome", text(outcome)}}).Increment();
  impl_->exec_duration.Add({{"rule", text(rule)}}, latency_buckets()).Observe(seconds);
}

void SelfMetrics::exec_output_rejected(std::string_view rule) {
  impl_->exec_rejected.Add({{"rule", text(rule)}}).Increment();
}

void SelfMetrics::on_render(std::function<void()> sample) {
  std::lock_guard lock(impl_->render_mutex);
  impl_->render_hook = std::move(sample);
}

std::string SelfMetrics::render() const {
  {
    std::lock_guard lock(impl_->render_mutex);
    if (impl_->render_hook) impl_->render_hook();
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace sma::telemetry
