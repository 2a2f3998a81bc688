// Builds the backends the options and rules ask for, and the dispatcher in front of them. Owns
// everything it builds; the serving code only sees a MetricsProvider (and the push writer).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cmd/adapter_options.h"
#include "lib/cache/query_cache.h"
#include "lib/config/adapter_config.h"
#include "lib/config/config_source.h"
#include "lib/http/http_fetcher.h"
#include "lib/kube/kube_client.h"
#include "lib/kube/pod_cache.h"
#include "lib/kube/resource_kind_lookup.h"
#include "providers/backend_call.h"
#include "providers/backend_slots.h"
#include "providers/computed/computed_provider.h"
#include "providers/exec/exec_provider.h"
#include "providers/promql/promql_provider.h"
#include "providers/push/push_provider.h"
#include "providers/rule_dispatcher.h"
#include "providers/sysdig_data/data_api_provider.h"
#include "providers/write_routing.h"

namespace sma::cmd {

class BackendSet {
 public:
  // Throws std::runtime_error (or config::ConfigError) with a one-line reason. kube (may be null)
  // lists pods for pods/* and must outlive the set. A transport, when given, replaces the network
  // for every backend: `explain` records requests instead of sending.
  BackendSet(const AdapterOptions& options, kube::KubeClient* kube,
             std::optional<providers::Transport> transport = std::nullopt);
  ~BackendSet();

  providers::MetricsProvider& provider() { return *dispatcher_; }
  // Writes reach the push backend only for metrics it serves (RoutedWriter); null without push.
  providers::MetricsWriter* writer() { return writer_.get(); }
  std::shared_ptr<const config::AdapterConfig> config() const { return config_->get(); }
  // Re-reads the rules file. A file that does not load, or names a backend this process did not
  // build, is rejected: the configuration in force stays, and the reason is returned.
  bool reload_config(std::string& problem);
  // Starts the background refresh of metric names for discovery.
  void start_discovery();
  // Where each configured backend points, for the start-up log (never a token).
  std::string describe() const;

 private:
  // The network (timed into the backend metrics), behind the value cache; only real calls take
  // one of the backend call slots.
  providers::Transport transport_for(std::unique_ptr<http::HttpFetcher>& fetcher, http::FetcherOptions options,
                                     const std::string& backend_name);
  // `send` (timed into the backend metrics) behind the value cache; only real calls take a slot.
  providers::Transport guarded(std::function<http::FetchResult(const http::OutgoingRequest&)> send,
                               const std::string& backend_name);
  // Runs exec rules' commands (reading objects through the Kubernetes client for input: object).
  providers::Transport exec_transport();
  providers::PodLister pod_lister();
  providers::KindLookup kind_lookup();
  void build_sysdig(const AdapterOptions& options);
  void build_prometheus(const AdapterOptions& options);

  std::optional<providers::Transport> transport_override_;
  std::unique_ptr<cache::QueryCache> cache_;
  std::unique_ptr<providers::BackendSlots> slots_;  // one cap for every backend
  std::shared_ptr<config::ConfigSource> config_;
  std::string config_file_;
  std::string default_backend_;
  std::set<std::string> built_backends_;
  std::unique_ptr<http::HttpFetcher> sysdig_fetcher_;
  std::unique_ptr<http::HttpFetcher> prometheus_fetcher_;
  kube::KubeClient* kube_;
  std::unique_ptr<kube::PodCache> pod_cache_;  // null: pods/* lists pods on every request
  std::unique_ptr<kube::ResourceKindLookup> kinds_;
  std::unique_ptr<providers::push::PushProvider> push_;
  std::unique_ptr<providers::promql::PromqlProvider> sysdig_promql_;
  std::unique_ptr<providers::sysdig_data::DataApiProvider> sysdig_data_;
  std::unique_ptr<providers::promql::PromqlProvider> prometheus_;
  std::unique_ptr<providers::exec::ExecProvider> exec_;
  std::unique_ptr<providers::computed::ComputedProvider> computed_;
  std::unique_ptr<providers::RuleDispatcher> dispatcher_;
  std::unique_ptr<providers::RoutedWriter> writer_;
  std::map<std::string, std::string> descriptions_;
};

}  // namespace sma::cmd
