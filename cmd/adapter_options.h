// Everything the daemon (and its explain/query sub-commands) is configured with: flags, with the
// environment variables operators of the old Sysdig adapter already set (SDC_ENDPOINT, SDC_TOKEN,
// CLUSTER_NAME) as fallbacks. A flag wins over the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cmd/flag_set.h"

namespace sma::cmd {

struct AdapterOptions {
  // Serving
  std::uint16_t secure_port = 6443;
  std::string bind_address = "0.0.0.0";
  std::string tls_cert_file;
  std::string tls_private_key_file;
  bool insecure_allow_anonymous = false;
  // Serving certificate kept in a Secret (docs/install.md): on when serving_cert_secret is set.
  std::string serving_cert_secret;  // NAMESPACE/NAME
  std::string serving_cert_service = "sysdig-metrics-adapter";
  std::string serving_cert_hosts;  // comma-separated extra DNS names
  std::chrono::milliseconds serving_cert_validity{std::chrono::hours(24 * 365)};
  std::chrono::milliseconds serving_cert_ca_validity{std::chrono::hours(24 * 3650)};
  std::chrono::milliseconds serving_cert_check_interval{std::chrono::minutes(1)};
  bool serving_cert_replace_unusable = false;
  std::string ca_bundle_apiservices =
      "v1beta1.custom.metrics.k8s.io,v1beta2.custom.metrics.k8s.io,v1beta1.external.metrics.k8s.io";
  std::string log_level = "info";
  std::string metrics_bind_address;  // ":8080": plain HTTP for /metrics and health only; empty = off
  std::chrono::milliseconds shutdown_delay{std::chrono::seconds(5)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
  // Whole API request, from the worker picking it up to the answer (docs/configuration.md: under
  // the HPA's 15 s sync, above --backend-timeout so one slow backend call fails on its own first).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};

  // Backends
  std::string backend;  // sysdig | prometheus | push; empty: sysdig with a token, else push
  std::string config_file;
  std::string sysdig_endpoint;
  std::string sysdig_token;  // SDC_TOKEN (environment only: a flag would show in `ps`)
  std::string sysdig_token_file;
  std::string sysdig_api = "promql";
  std::string sysdig_ca_file;
  std::string cluster_name;
  std::string prometheus_url;
  std::string prometheus_token_file;
  std::chrono::milliseconds query_offset{std::chrono::seconds(20)};
  std::chrono::milliseconds backend_timeout{std::chrono::seconds(5)};
  std::string max_backend_concurrency = "32";  // all backends together; 0 = no cap
  std::chrono::milliseconds discovery_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds push_ttl{std::chrono::minutes(10)};
  bool legacy_workload_names = false;
  bool pod_watch = true;  // pods/* reads a watched per-namespace pod cache instead of listing each time
  std::string pod_watch_scope = "auto";  // namespace | cluster | auto
  std::string pod_watch_cluster_above = "50";  // auto: namespaces watched at once before one cluster-wide watch

  // Value cache
  std::chrono::milliseconds cache_ttl{std::chrono::seconds(10)};
  std::chrono::milliseconds max_staleness{std::chrono::seconds(60)};
  std::chrono::milliseconds batch_window{0};
  // Requests for one metric across objects and namespaces merged into one query refreshed ahead.
  bool merge_queries = true;
  std::chrono::milliseconds refresh_interval{std::chrono::seconds(10)};
  std::string cache_max_entries = "10000";
  std::string backend_max_body = "16Mi";  // bytes, with an optional Ki, Mi or Gi suffix

  // Kubernetes API
  std::string kubeconfig;

  // Authentication and authorization (flags as Kubernetes' delegated authentication names them)
  std::string requestheader_client_ca_file;
  std::string requestheader_allowed_names;         // comma-separated
  std::string requestheader_username_headers;      // comma-separated
  std::string requestheader_group_headers;
  std::string requestheader_extra_headers_prefix;
  std::string client_ca_file;
  std::chrono::milliseconds token_cache_ttl{std::chrono::seconds(10)};
  std::chrono::milliseconds authorization_cache_ttl{std::chrono::seconds(10)};
  std::string always_allow_paths = "/healthz,/livez,/readyz";

  bool version = false;
};

void register_flags(FlagSet& flags, AdapterOptions& options);

// Fills what the flags left unset from SDC_ENDPOINT, SDC_TOKEN, CLUSTER_NAME, and picks the default
// backend.
void apply_environment(const FlagSet& flags, AdapterOptions& options);

// The one-line reason these options cannot run the daemon, or empty.
std::string backend_problem(const AdapterOptions& options);

// The items of a comma-separated flag value, trimmed of spaces; empty items dropped.
std::vector<std::string> comma_list(const std::string& text);

// --backend-max-body in bytes; nullopt when it is not a whole number with an optional Ki/Mi/Gi suffix.
std::optional<std::size_t> backend_max_body_bytes(const AdapterOptions& options);

}  // namespace sma::cmd
