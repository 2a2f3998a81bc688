#include "cmd/backend_set.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "lib/api/no_wait.h"
#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"
#include "providers/exec/exec_call.h"

namespace sma::cmd {
namespace {

constexpr const char* kDefaultSysdigEndpoint = "https://app.sysdigcloud.com";

// The backends the default and the rules name: only those are built (and checked).
std::set<std::string> used_backends(const config::AdapterConfig& config) {
  std::set<std::string> used{config.default_backend};
  for (const auto& rule : config.rules) {
    if (!rule.backend.empty()) used.insert(rule.backend);
  }
  return used;
}

providers::MetricsError from_kube_error(const kube::KubeError& e, const api::Deadline& deadline) {
  if (deadline.expired()) {
    return providers::MetricsError(providers::MetricsError::Kind::Timeout,
                                   std::string("listing pods from the Kubernetes API did not finish within the "
                                               "request's deadline (--request-timeout): ") + e.what());
  }
  auto kind = e.kind() == kube::KubeError::Kind::Invalid ? providers::MetricsError::Kind::Internal
                                                          : providers::MetricsError::Kind::Unavailable;
  return providers::MetricsError(kind, std::string("listing pods from the Kubernetes API failed: ") + e.what());
}

// Merged queries: refreshed every --refresh-interval while asked (0 or --merge-queries=false: off);
// a failed refresh keeps serving the last answer no longer than --max-staleness allows a stale value.
providers::QueryFamilyOptions family_options(const AdapterOptions& options) {
  providers::QueryFamilyOptions families;
  families.refresh = options.merge_queries ? options.refresh_interval : std::chrono::milliseconds(0);
  families.max_age = std::max(options.max_staleness, 2 * options.refresh_interval);
  families.on_problem = [](const std::string& message) { telemetry::log_warning(message); };
  return families;
}

}  // namespace

BackendSet::BackendSet(const AdapterOptions& options, kube::KubeClient* kube,
                       std::optional<providers::Transport> transport)
    : transport_override_(std::move(transport)), kube_(kube) {
  cache::QueryCacheOptions cache_options;
  cache_options.ttl = options.cache_ttl;
  cache_options.max_staleness = options.max_staleness;
  cache_options.max_entries = std::stoul(options.cache_max_entries);
  cache_ = std::make_unique<cache::QueryCache>(cache_options);
  slots_ = std::make_unique<providers::BackendSlots>(std::stoul(options.max_backend_concurrency));
  config_file_ = options.config_file;
  default_backend_ = options.backend;
  auto initial = std::make_shared<config::AdapterConfig>(
      config_file_.empty() ? config::AdapterConfig{} : config::load_config_file(config_file_));
  if (initial->default_backend.empty()) initial->default_backend = default_backend_;
  config_ = std::make_shared<config::ConfigSource>(initial);

  if (kube_) {
    descriptions_["kubernetes"] = kube_->connection().source;
    kinds_ = std::make_unique<kube::ResourceKindLookup>(*kube_);
    // A one-shot command (explain) has a transport override and no use for a long-lived watch.
    if (options.pod_watch && !transport_override_) {
      kube::PodCacheOptions pod_options;
      // At least 5 s: the moment between a watch the API server ends and the next one must never
      // fail a request, whatever --max-staleness says about values.
      pod_options.max_staleness = std::max<std::chrono::milliseconds>(options.max_staleness, std::chrono::seconds(5));
      pod_options.on_problem = [](const std::string& message) {
        telemetry::log_warning(message);
        if (message.find(" is back") == std::string::npos && message.find("switching to") == std::string::npos) {
          telemetry::SelfMetrics::instance().pod_watch_problem();
        }
      };
      pod_options.scope = options.pod_watch_scope == "namespace" ? kube::PodWatchScope::Namespace
                          : options.pod_watch_scope == "cluster" ? kube::PodWatchScope::Cluster
                                                                 : kube::PodWatchScope::Auto;
      pod_options.cluster_watch_above = std::stoul(options.pod_watch_cluster_above);
      pod_cache_ = std::make_unique<kube::PodCache>(*kube_, std::move(pod_options));
      telemetry::SelfMetrics::instance().on_render([cache = pod_cache_.get()] {
        kube::PodCacheState state = cache->state();
        telemetry::SelfMetrics::instance().pod_cache(static_cast<double>(state.namespaces), static_cast<double>(state.pods),
                                                     static_cast<double>(state.watches_open), state.cluster_wide);
      });
    }
  }

  auto used = used_backends(*initial);
  built_backends_ = used;
  std::map<std::string, providers::MetricsProvider*> backends;
  if (used.count("push")) {
    push_ = std::make_unique<providers::push::PushProvider>(options.push_ttl);
    backends["push"] = push_.get();
    descriptions_["push"] = "in-process values";
  }
  if (used.count("sysdig")) {
    build_sysdig(options);
    backends["sysdig"] = sysdig_promql_ ? static_cast<providers::MetricsProvider*>(sysdig_promql_.get())
                                        : static_cast<providers::MetricsProvider*>(sysdig_data_.get());
  }
  if (used.count("prometheus")) {
    build_prometheus(options);
    backends["prometheus"] = prometheus_.get();
  }
  // exec and computed cost nothing until a rule uses them: always built, so a reload may add such rules.
  exec_ = std::make_unique<providers::exec::ExecProvider>(config_, exec_transport(), pod_lister(), kind_lookup(),
                                                          kube_ != nullptr);
  backends["exec"] = exec_.get();
  computed_ = std::make_unique<providers::computed::ComputedProvider>(config_, backends, kind_lookup());
  backends["computed"] = computed_.get();
  built_backends_.insert({"exec", "computed"});
  if (used.count("exec")) descriptions_["exec"] = "commands of exec rules";
  dispatcher_ = std::make_unique<providers::RuleDispatcher>(config_, std::move(backends));
  if (push_) writer_ = std::make_unique<providers::RoutedWriter>(config_, *push_);
}

BackendSet::~BackendSet() {
  if (pod_cache_) telemetry::SelfMetrics::instance().on_render({});  // it reads the cache about to go
}

providers::Transport BackendSet::transport_for(std::unique_ptr<http::HttpFetcher>& fetcher,
                                               http::FetcherOptions options, const std::string& backend_name) {
  if (transport_override_) return *transport_override_;
  fetcher = std::make_unique<http::HttpFetcher>(std::move(options));
  http::HttpFetcher* raw = fetcher.get();
  return guarded([raw](const http::OutgoingRequest& request) { return raw->fetch(request); }, backend_name);
}

providers::Transport BackendSet::exec_transport() {
  if (transport_override_) return *transport_override_;
  providers::exec::ObjectReader objects;
  if (kube_) {
    kube::KubeClient* kube = kube_;
    objects = [kube](const std::string& path, const api::Deadline& deadline) {
      try {
        auto answer = kube->exchange("GET", path);
        if (answer.status >= 200 && answer.status < 300) return answer.body;
        if (answer.status == 404) {
          throw providers::MetricsError(providers::MetricsError::Kind::NotFound,
                                        "the Kubernetes API has no " + path + " (input: object reads it)");
        }
        throw kube->error_for("GET", path, answer);
      } catch (const kube::KubeError& e) {
        auto error = from_kube_error(e, deadline);
        throw providers::MetricsError(error.kind(), std::string("reading the described object for an exec rule: ") +
                                                        e.what());
      }
    };
  }
  auto runner = std::make_shared<providers::exec::CommandRunner>(std::move(objects));
  return guarded([runner](const http::OutgoingRequest& request) { return (*runner)(request); }, "exec");
}

providers::Transport BackendSet::guarded(std::function<http::FetchResult(const http::OutgoingRequest&)> raw,
                                         const std::string& backend_name) {
  providers::BackendSlots* slots = slots_.get();
  auto send = [raw = std::move(raw), slots, backend_name](const http::OutgoingRequest& request) {
    api::WaitScope waiting;  // for a slot, then for the answer
    // Held until the answer is read; throws MetricsError(Unavailable) when none frees in time.
    auto slot = slots->acquire(request.deadline);
    auto& metrics = telemetry::SelfMetrics::instance();
    auto started = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    try {
      auto result = raw(request);
      metrics.backend_call(backend_name, result.status >= 200 && result.status < 300 ? "success" : "error", seconds());
      return result;
    } catch (const http::FetchError&) {
      metrics.backend_call(backend_name, "unavailable", seconds());
      throw;
    }
  };
  cache::QueryCache* cache = cache_.get();
  // What may be answered from a stale value: the backend being down or refusing us, not a bad query.
  auto backend_failed = [](const http::FetchResult& r) {
    return r.status == 401 || r.status == 403 || r.status == 429 || r.status >= 500;
  };
  return [send, cache, backend_failed](const http::OutgoingRequest& request) {
    return cache->get(cache::backend_query_key(request), [&] { return send(request); }, backend_failed,
                      request.deadline, request.reuse_for);
  };
}

providers::PodLister BackendSet::pod_lister() {
  if (!kube_) return {};
  kube::KubeClient* kube = kube_;
  kube::PodCache* cache = pod_cache_.get();
  return [kube, cache](const std::string& ns, const api::LabelSelector& selector, const api::Deadline& deadline) {
    try {
      return cache ? cache->pod_names(ns, selector, deadline) : kube->list_pod_names(ns, selector, deadline);
    } catch (const kube::KubeError& e) {
      throw from_kube_error(e, deadline);
    }
  };
}

providers::KindLookup BackendSet::kind_lookup() {
  if (!kinds_) return {};
  kube::ResourceKindLookup* kinds = kinds_.get();
  return [kinds](const api::GroupResource& resource) { return kinds->lookup(resource); };
}

void BackendSet::build_sysdig(const AdapterOptions& options) {
  if (options.sysdig_token.empty() && options.sysdig_token_file.empty()) {
    throw std::runtime_error("the sysdig backend needs an API token: set SDC_TOKEN or --sysdig-token-file");
  }
  if (options.cluster_name.empty()) {
    throw std::runtime_error("the sysdig backend needs the cluster name every query is scoped to: set CLUSTER_NAME "
                             "or --cluster-name");
  }
  http::FetcherOptions fetch;
  fetch.timeout = options.backend_timeout;
  fetch.max_body_bytes = *backend_max_body_bytes(options);  // checked with the other options at start
  fetch.ca_file = options.sysdig_ca_file;
  std::string endpoint =
      providers::normalize_sysdig_endpoint(options.sysdig_endpoint.empty() ? kDefaultSysdigEndpoint : options.sysdig_endpoint);
  providers::BackendEndpoint backend{"Sysdig", endpoint,
                                     options.sysdig_token_file.empty()
                                         ? config::SecretToken::literal(options.sysdig_token)
                                         : config::SecretToken::from_file(options.sysdig_token_file),
                                     transport_for(sysdig_fetcher_, fetch, "sysdig")};
  descriptions_["sysdig"] = endpoint + " (" + options.sysdig_api + " API, cluster " + options.cluster_name + ")";
  if (options.sysdig_api == "data") {
    providers::sysdig_data::DataApiProviderOptions data;
    data.cluster_name = options.cluster_name;
    data.discovery_interval = options.discovery_interval;
    data.batch_window = options.batch_window;
    sysdig_data_ = std::make_unique<providers::sysdig_data::DataApiProvider>(
        data, config_, providers::sysdig_data::DataApiClient(std::move(backend)), pod_lister(), kind_lookup());
    return;
  }
  backend.base_url += "/prometheus";
  providers::promql::PromqlProviderOptions promql;
  promql.backend = "sysdig";
  promql.cluster_name = options.cluster_name;
  promql.sysdig_metric_names = true;
  promql.default_query_offset = std::chrono::duration_cast<std::chrono::seconds>(options.query_offset);
  promql.discovery_interval = options.discovery_interval;
  promql.batch_window = options.batch_window;
  promql.families = family_options(options);
  sysdig_promql_ = std::make_unique<providers::promql::PromqlProvider>(
      promql, config_, providers::promql::PromqlClient(std::move(backend)), pod_lister(), kind_lookup());
}

void BackendSet::build_prometheus(const AdapterOptions& options) {
  if (options.prometheus_url.empty()) {
    throw std::runtime_error("a rule or --backend uses the prometheus backend: set --prometheus-url");
  }
  http::FetcherOptions fetch;
  fetch.timeout = options.backend_timeout;
  fetch.max_body_bytes = *backend_max_body_bytes(options);  // checked with the other options at start
  std::string url = options.prometheus_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  providers::BackendEndpoint backend{"Prometheus", url,
                                     options.prometheus_token_file.empty()
                                         ? config::SecretToken{}
                                         : config::SecretToken::from_file(options.prometheus_token_file),
                                     transport_for(prometheus_fetcher_, fetch, "prometheus")};
  descriptions_["prometheus"] = url + (options.cluster_name.empty() ? "" : " (cluster " + options.cluster_name + ")");
  providers::promql::PromqlProviderOptions promql;
  promql.backend = "prometheus";
  promql.cluster_name = options.cluster_name;  // empty: no cluster matcher
  promql.sysdig_metric_names = false;
  promql.default_query_offset = std::chrono::seconds(0);  // Prometheus has no ingestion delay to cover
  promql.discovery_interval = options.discovery_interval;
  promql.batch_window = options.batch_window;
  promql.families = family_options(options);
  prometheus_ = std::make_unique<providers::promql::PromqlProvider>(
      promql, config_, providers::promql::PromqlClient(std::move(backend)), pod_lister(), kind_lookup());
}

bool BackendSet::reload_config(std::string& problem) {
  if (config_file_.empty()) {
    problem = "no --config file to reload";
    return false;
  }
  std::shared_ptr<config::AdapterConfig> next;
  try {
    next = std::make_shared<config::AdapterConfig>(config::load_config_file(config_file_));
  } catch (const std::exception& e) {
    problem = e.what();
    return false;
  }
  if (next->default_backend.empty()) next->default_backend = default_backend_;
  for (const auto& backend : used_backends(*next)) {
    if (!built_backends_.count(backend)) {
      problem = config_file_ + ": uses the " + backend + " backend, which this process was not started with";
      return false;
    }
  }
  config_->set(next);
  return true;
}

void BackendSet::start_discovery() {
  if (sysdig_promql_) sysdig_promql_->start_discovery();
  if (sysdig_data_) sysdig_data_->start_discovery();
  if (prometheus_) prometheus_->start_discovery();
}

std::string BackendSet::describe() const {
  std::string out;
  for (const auto& [name, text] : descriptions_) out += (out.empty() ? "" : "; ") + name + ": " + text;
  return out;
}

}  // namespace sma::cmd
