#include "cmd/adapter_options.h"

#include <cstdlib>

namespace sma::cmd {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string(value);
}

}  // namespace

void register_flags(FlagSet& flags, AdapterOptions& o) {
  flags.add_port("secure-port", &o.secure_port, "HTTPS port the metrics APIs are served on (0 picks a free port)");
  flags.add_string("bind-address", &o.bind_address, "address to listen on for the secure port");
  flags.add_string("tls-cert-file", &o.tls_cert_file,
                   "PEM serving certificate (with intermediates); a self-signed pair is generated when not given");
  flags.add_string("tls-private-key-file", &o.tls_private_key_file, "PEM private key matching --tls-cert-file");
  flags.add_string("serving-cert-secret", &o.serving_cert_secret,
                   "Secret (NAME in the adapter's namespace, or NAMESPACE/NAME) holding the serving certificate: "
                   "made with its own CA when missing, "
                   "renewed and rotated by the adapter, its CA injected into --ca-bundle-apiservices (instead of "
                   "--tls-cert-file; needs a Kubernetes connection)");
  flags.add_string("serving-cert-service", &o.serving_cert_service,
                   "Service the aggregator reaches the adapter through (NAME in the Secret's namespace, or "
                   "NAMESPACE/NAME); its DNS names go into the serving certificate");
  flags.add_string("serving-cert-hosts", &o.serving_cert_hosts,
                   "comma-separated extra DNS names for the serving certificate");
  flags.add_duration("serving-cert-validity", &o.serving_cert_validity,
                     "lifetime of a serving certificate the adapter makes (renewed at two thirds of it)");
  flags.add_duration("serving-cert-ca-validity", &o.serving_cert_ca_validity,
                     "lifetime of the CA the adapter makes (rotated at two thirds of it)");
  flags.add_duration("serving-cert-check-interval", &o.serving_cert_check_interval,
                     "how often the Secret and the APIServices' caBundle are checked (sooner after a failure)");
  flags.add_bool("serving-cert-replace-unusable", &o.serving_cert_replace_unusable,
                 "replace a Secret whose certificate or keys cannot be used (bad PEM, mismatched key) with a new pair "
                 "(false: log it and leave it for a person to fix)");
  flags.add_string("ca-bundle-apiservices", &o.ca_bundle_apiservices,
                   "comma-separated APIServices whose caBundle gets the serving certificate's CA "
                   "(with --serving-cert-secret; empty: none)");
  flags.add_bool("insecure-allow-anonymous", &o.insecure_allow_anonymous,
                 "serve requests without authentication (development and tests only)");
  flags.add_string("log-level", &o.log_level, "debug, info, warning or error");
  flags.add_string("metrics-bind-address", &o.metrics_bind_address,
                   "host:port (e.g. :8080) of a plain-HTTP port serving only /metrics, /healthz, /livez and /readyz, "
                   "without authentication (off when empty)");
  flags.add_duration("shutdown-delay", &o.shutdown_delay,
                     "after SIGTERM, keep serving (with /readyz failing) this long so endpoints stop routing here");
  flags.add_duration("shutdown-grace", &o.shutdown_grace, "then how long in-flight requests get to finish");
  flags.add_duration("request-timeout", &o.request_timeout,
                     "deadline of a whole API request (pod listing, backend calls and waits for them); past it the "
                     "answer is a 504 Timeout Status (0: no deadline)");

  flags.add_string("backend", &o.backend,
                   "default metrics backend: sysdig, prometheus or push (default sysdig when a Sysdig token is "
                   "configured, else push)");
  flags.add_string("config", &o.config_file, "YAML rules file (see docs/configuration.md)");
  flags.add_string("sysdig-endpoint", &o.sysdig_endpoint,
                   "Sysdig Monitor base URL, e.g. https://app.sysdigcloud.com (env SDC_ENDPOINT)");
  flags.add_string("sysdig-token-file", &o.sysdig_token_file,
                   "file holding the Sysdig Monitor API token, re-read when it changes (env SDC_TOKEN holds the "
                   "token itself)");
  flags.add_string("sysdig-api", &o.sysdig_api, "promql, or data for on-prem installs without the PromQL API");
  flags.add_string("sysdig-ca-file", &o.sysdig_ca_file, "PEM CA bundle for an on-prem Sysdig certificate");
  flags.add_string("cluster-name", &o.cluster_name, "cluster every query is scoped to (env CLUSTER_NAME)");
  flags.add_string("prometheus-url", &o.prometheus_url, "base URL of a Prometheus server for the prometheus backend");
  flags.add_string("prometheus-token-file", &o.prometheus_token_file, "bearer token file for --prometheus-url");
  flags.add_duration("query-offset", &o.query_offset,
                     "how far in the past Sysdig queries are evaluated, to cover ingestion delay");
  flags.add_duration("backend-timeout", &o.backend_timeout,
                     "deadline of one backend call (cut to what is left of --request-timeout)");
  flags.add_string("max-backend-concurrency", &o.max_backend_concurrency,
                   "most backend calls in flight at once, all backends together; a call waits for a free slot "
                   "until its request's deadline, then is answered 503 (0: no cap)");
  flags.add_duration("discovery-interval", &o.discovery_interval, "how often metric names are refreshed for discovery");
  flags.add_duration("push-ttl", &o.push_ttl, "how long a pushed value is served (0 keeps values forever)");
  flags.add_duration("cache-ttl", &o.cache_ttl,
                     "how long a backend answer is reused; identical queries in flight share one call (0 turns "
                     "the cache off)");
  flags.add_duration("max-staleness", &o.max_staleness,
                     "when the backend fails, serve the last answer if it is younger than this (0: never)");
  flags.add_duration("batch-window", &o.batch_window,
                     "pods/* requests for the same metric and namespace arriving within this time share one backend "
                     "query over all their pods (0: off)");
  flags.add_bool("merge-queries", &o.merge_queries,
                 "once two objects (or namespaces) ask for the same metric within a minute, answer all of them from "
                 "one backend query grouped by namespace and object, refreshed every --refresh-interval while asked "
                 "(PromQL backends; docs/configuration.md)");
  flags.add_duration("refresh-interval", &o.refresh_interval,
                     "how often a merged query is asked again; a merged answer is at most this old plus the query "
                     "offset");
  flags.add_string("backend-max-body", &o.backend_max_body,
                   "largest backend answer read (e.g. 16Mi); a larger one fails the request without being buffered");
  flags.add_string("cache-max-entries", &o.cache_max_entries, "most backend answers kept (least recently used go)");
  flags.add_bool("pod-watch", &o.pod_watch,
                 "keep the pods of each namespace pods/* asks about in memory, kept current by a watch "
                 "(false: list pods from the Kubernetes API on every pods/* request)");
  flags.add_string("pod-watch-scope", &o.pod_watch_scope,
                   "namespace: a list and a watch (one connection to the API server) per namespace pods/* asks "
                   "about; cluster: one list and one watch of every pod; auto: per namespace until more than "
                   "--pod-watch-cluster-above namespaces are watched, then the cluster");
  flags.add_string("pod-watch-cluster-above", &o.pod_watch_cluster_above,
                   "with --pod-watch-scope=auto, how many namespaces are watched one by one at most");
  flags.add_bool("legacy-workload-names", &o.legacy_workload_names,
                 "accept the old adapter's object names \"deployment;kuard\" (workload type;name)");
  flags.add_string("kubeconfig", &o.kubeconfig,
                   "kubeconfig for the Kubernetes API when not running in a cluster (pods/* label selectors)");
  flags.add_string("requestheader-client-ca-file", &o.requestheader_client_ca_file,
                   "CA that signs the front proxy's client certificate (default: from the "
                   "kube-system/extension-apiserver-authentication ConfigMap)");
  flags.add_string("requestheader-allowed-names", &o.requestheader_allowed_names,
                   "comma-separated CNs allowed as front proxy (default: from the ConfigMap; empty allows any)");
  flags.add_string("requestheader-username-headers", &o.requestheader_username_headers,
                   "comma-separated headers carrying the user (default: from the ConfigMap, else X-Remote-User)");
  flags.add_string("requestheader-group-headers", &o.requestheader_group_headers,
                   "comma-separated headers carrying groups (default: from the ConfigMap, else X-Remote-Group)");
  flags.add_string("requestheader-extra-headers-prefix", &o.requestheader_extra_headers_prefix,
                   "comma-separated prefixes of extra-attribute headers (default: from the ConfigMap, else "
                   "X-Remote-Extra-)");
  flags.add_string("client-ca-file", &o.client_ca_file,
                   "CA for users' own client certificates: user = CN, groups = O (default: from the ConfigMap)");
  flags.add_duration("authentication-token-webhook-cache-ttl", &o.token_cache_ttl,
                     "how long TokenReview answers are cached");
  flags.add_duration("authorization-cache-ttl", &o.authorization_cache_ttl,
                     "how long SubjectAccessReview answers (allowed and denied) are cached");
  flags.add_string("authorization-always-allow-paths", &o.always_allow_paths,
                   "comma-separated paths served without authentication or authorization");
  flags.add_bool("version", &o.version, "print the version and exit");
}

void apply_environment(const FlagSet& flags, AdapterOptions& o) {
  if (!flags.was_set("sysdig-endpoint")) o.sysdig_endpoint = environment("SDC_ENDPOINT");
  if (!flags.was_set("cluster-name")) o.cluster_name = environment("CLUSTER_NAME");
  if (o.sysdig_token_file.empty()) o.sysdig_token = environment("SDC_TOKEN");
  if (o.backend.empty()) {
    bool has_token = !o.sysdig_token.empty() || !o.sysdig_token_file.empty();
    o.backend = has_token ? "sysdig" : "push";
  }
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::optional<std::size_t> backend_max_body_bytes(const AdapterOptions& o) {
  std::string_view text = o.backend_max_body;
  std::size_t unit = 1;
  for (const auto& [suffix, factor] : {std::pair<std::string_view, std::size_t>{"Ki", 1024},
                                       {"Mi", 1024 * 1024},
                                       {"Gi", 1024 * 1024 * 1024}}) {
    if (text.size() > 2 && text.substr(text.size() - 2) == suffix) {
      unit = factor;
      text.remove_suffix(2);
      break;
    }
  }
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t bytes = std::stoul(std::string(text)) * unit;
  if (bytes == 0) return std::nullopt;
  return bytes;
}

std::string backend_problem(const AdapterOptions& o) {
  if (o.backend != "sysdig" && o.backend != "prometheus" && o.backend != "push") {
    return "unknown --backend \"" + o.backend + "\" (available: sysdig, prometheus, push)";
  }
  if (o.sysdig_api != "promql" && o.sysdig_api != "data") {
    return "unknown --sysdig-api \"" + o.sysdig_api + "\" (available: promql, data)";
  }
  if (o.backend == "prometheus" && o.prometheus_url.empty()) return "--backend prometheus needs --prometheus-url";
  if (o.cache_max_entries.empty() || o.cache_max_entries.size() > 9 ||
      o.cache_max_entries.find_first_not_of("0123456789") != std::string::npos) {
    return "invalid --cache-max-entries \"" + o.cache_max_entries + "\": expected a whole number";
  }
  if (!backend_max_body_bytes(o)) {
    return "invalid --backend-max-body \"" + o.backend_max_body + "\": expected bytes, e.g. 16Mi, 512Ki or 1048576";
  }
  if (o.pod_watch_scope != "auto" && o.pod_watch_scope != "namespace" && o.pod_watch_scope != "cluster") {
    return "unknown --pod-watch-scope \"" + o.pod_watch_scope + "\" (available: auto, namespace, cluster)";
  }
  if (o.pod_watch_cluster_above.empty() || o.pod_watch_cluster_above.size() > 6 ||
      o.pod_watch_cluster_above.find_first_not_of("0123456789") != std::string::npos) {
    return "invalid --pod-watch-cluster-above \"" + o.pod_watch_cluster_above + "\": expected a whole number";
  }
  if (o.max_backend_concurrency.empty() || o.max_backend_concurrency.size() > 6 ||
      o.max_backend_concurrency.find_first_not_of("0123456789") != std::string::npos) {
    return "invalid --max-backend-concurrency \"" + o.max_backend_concurrency +
           "\": expected a whole number (0: no cap)";
  }
  return {};
}

}  // namespace sma::cmd
