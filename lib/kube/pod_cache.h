// The pods of each namespace pods/* asks about: listed once, then kept current by a watch, so that
// answering a pods/* request reads memory instead of listing pods from the API server each time.
//
// Watches hold no thread: they are asynchronous reads on the HTTP client's few threads, and one
// timer thread reopens them. Per namespace, each watched namespace costs one connection to the API
// server; above `cluster_watch_above` watched namespaces (scope Auto) the cache switches to one
// watch of every pod in the cluster, one connection whatever the number of namespaces
// (docs/configuration.md weighs the two).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/api/deadline.h"
#include "lib/api/label_selector.h"
#include "lib/kube/interned_labels.h"
#include "lib/kube/kube_client.h"

namespace sma::kube {

enum class PodWatchScope {
  Namespace,  // a list and a watch for each namespace asked about
  Cluster,    // one list and one watch of every pod in the cluster
  Auto,       // per namespace until more than cluster_watch_above are watched, then the cluster
};

struct PodCacheOptions {
  // How long after its watch broke a namespace's pods are still answered from memory. Past it,
  // requests for that namespace fail (Unavailable) until the watch is back.
  std::chrono::milliseconds max_staleness{60000};
  // A namespace nobody asked about for this long is forgotten and its watch ends (checked whenever
  // a watch ends or an event arrives, so it can take up to one watch timeout longer). With the
  // cluster-wide watch, its pods stay (they arrive anyway) but it no longer counts as watched.
  std::chrono::milliseconds idle{std::chrono::minutes(10)};
  std::chrono::milliseconds initial_backoff{500};  // before retrying a broken watch or list; doubles
  std::chrono::milliseconds max_backoff{30000};
  PodWatchScope scope = PodWatchScope::Auto;
  std::size_t cluster_watch_above = 50;
  // Told about every failed watch or list, when a watch is back, and of a switch of scope; for the log.
  std::function<void(const std::string& message)> on_problem;
};

// What the cache holds for one namespace, for tests and diagnostics.
struct NamespacePodsState {
  bool listed = false;    // the first list succeeded
  bool watching = false;  // a watch is open now (the namespace's own, or the cluster's)
  std::size_t pods = 0;
  std::string resource_version;  // of the watch that keeps it current
  int lists = 0;  // lists made, the first one included
};

// The cache as a whole, for tests, diagnostics and /metrics.
struct PodCacheState {
  bool cluster_wide = false;      // one watch of the whole cluster is in use
  std::size_t namespaces = 0;     // namespaces asked about and not yet idle
  std::size_t watches_open = 0;   // connections held open to the API server for watches
  std::size_t pods = 0;           // pods held
};

class PodCache {
 public:
  PodCache(KubeClient& client, PodCacheOptions options);
  ~PodCache();  // ends every watch and waits for its last handler
  PodCache(const PodCache&) = delete;
  PodCache& operator=(const PodCache&) = delete;

  // The names of the running pods of `namespace_` matching `selector`, sorted. The first call for a namespace
  // lists it (concurrent first calls share that list) and starts its watch. An empty namespace
  // (all namespaces) is listed each time. Throws KubeError when the first list fails, or
  // (Unavailable) when the namespace's watch has been broken for longer than max_staleness.
  // A first list ends by `deadline`.
  std::vector<std::string> pod_names(const std::string& namespace_, const api::LabelSelector& selector,
                                     const api::Deadline& deadline = {});

  std::optional<NamespacePodsState> state(const std::string& namespace_) const;
  PodCacheState state() const;

 private:
  struct Store;
  struct Feed;
  struct Runtime;
  std::shared_ptr<Store> store_for(const std::string& namespace_);
  std::vector<std::string> first_list(const std::shared_ptr<Store>& store, const api::LabelSelector& selector,
                                      const api::Deadline& deadline);
  void open_watch(const std::shared_ptr<Feed>& feed);
  bool on_event(Feed& feed, const struct PodWatchEvent& event);
  void on_watch_end(const std::shared_ptr<Feed>& feed, const std::optional<KubeError>& error);
  void relist(const std::shared_ptr<Feed>& feed);
  void retry_later(const std::shared_ptr<Feed>& feed, const std::string& problem, bool then_relist);
  void install_cluster(PodSnapshot snapshot, const std::shared_ptr<Feed>& feed);
  void maybe_go_cluster_wide();
  void go_cluster_wide();
  void settle_cluster_switch();
  void report(const std::string& message) const;

  KubeClient& client_;
  const PodCacheOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Store>> stores_;  // guarded by mutex_
  std::shared_ptr<Feed> cluster_;    // guarded by mutex_; set once the cluster-wide watch is chosen
  bool cluster_listed_ = false;      // guarded by mutex_
  // Auto scope: the switch to the cluster's watch made its first list, or failed to (guarded by
  // mutex_); first lists of namespaces wait for it instead of each listing and watching on its own.
  bool cluster_switch_settled_ = true;
  std::condition_variable cluster_switch_;
  std::mutex cluster_list_mutex_;    // held by the one caller making the cluster's first list
  std::unique_ptr<Runtime> runtime_;  // the timer thread and the list pool; last, stopped first
};

}  // namespace sma::kube
