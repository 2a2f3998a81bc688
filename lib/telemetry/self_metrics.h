// The adapter's own metrics, in Prometheus text format on /metrics (prometheus-cpp). One registry
// per process; every layer records into it through these few calls, so no layer needs to know
// another's internals. Names carry the prefix sysdig_metrics_adapter_.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sma::telemetry {

class SelfMetrics {
 public:
  static SelfMetrics& instance();

  // API requests. kind: object, selector, external, discovery, openapi, write, health, metrics, other;
  // version: v1beta1, v1beta2, external.v1beta1 or none.
  void request_started();
  // A request the I/O thread could not answer from memory: it goes to a worker (in flight again there).
  void request_handed_off();
  void request_finished(std::string_view kind, std::string_view version, int code, double seconds);

  // Backend calls. outcome: success, error (an HTTP error status), unavailable (no answer).
  void backend_call(std::string_view backend, std::string_view outcome, double seconds);
  // Calls waiting for a free slot under --max-backend-concurrency (+1 when one starts waiting, -1
  // when it stops), and calls refused because no slot came free within their request's deadline.
  void backend_call_waiting(int delta);
  void backend_slot_refused();

  void cache_hit();
  void cache_miss();
  void cache_coalesced();
  void cache_stale_served();
  void cache_evicted();
  // How old the values of one answer are (its oldest: seconds since the backend produced it).
  void served_value_age(double seconds);
  void discovery_refreshed(std::string_view backend, double unix_seconds);

  // The serving certificate in force: when it expires, as Unix time; source: file, secret or
  // self-signed (one series, for the source in force).
  void serving_certificate(std::string_view source, double not_after_unix);
  // When the authority of the serving certificate Secret expires (--serving-cert-secret only).
  void serving_certificate_authority(double not_after_unix);
  // One operation on the serving certificate Secret (read, create, update) and how it ended
  // (success, conflict, forbidden, error).
  void serving_secret_operation(std::string_view operation, std::string_view outcome);
  // The last CA injection into one APIService: outcome unchanged, patched, not_found or failed.
  // The gauge of that outcome is 1 and the others 0, so the last outcome can be read and alerted on.
  void ca_injection(std::string_view apiservice, std::string_view outcome);

  // The pod cache (pods/*): namespaces watched, pods held, watch connections open, whether one
  // cluster-wide watch is in use; and each failed watch or list.
  void pod_cache(double namespaces, double pods, double watches_open, bool cluster_wide);
  void pod_watch_problem();
  // exec rules (per rule, "adapter.yaml:12"): one run of a command and how it ended (success,
  // exit_status, signal, timeout, output_too_large, spawn_failed), and an output that could not be
  // read as the documented shape (counted apart: the run itself succeeded).
  void exec_call(std::string_view rule, std::string_view outcome, double seconds);
  void exec_output_rejected(std::string_view rule);

  // Runs before every render(), to read state that is cheaper to sample than to track (the pod
  // cache's). Set once, before serving.
  void on_render(std::function<void()> sample);

  // The Prometheus text exposition of everything above.
  std::string render() const;

 private:
  SelfMetrics();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sma::telemetry
