// The pods of each namespace pods/* asks about: listed once, then kept current by a watch, so that
// answering a pods/* request reads memory instead of listing pods from the API server each time.
#pragma once

#include <chrono>
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

struct PodCacheOptions {
  // How long after its watch broke a namespace's pods are still answered from memory. Past it,
  // requests for that namespace fail (Unavailable) until the watch is back.
  std::chrono::milliseconds max_staleness{60000};
  // A namespace nobody asked about for this long is forgotten and its watch ends (checked whenever
  // a watch ends or an event arrives, so it can take up to one watch timeout longer).
  std::chrono::milliseconds idle{std::chrono::minutes(10)};
  std::chrono::milliseconds initial_backoff{500};  // before retrying a broken watch or list; doubles
  std::chrono::milliseconds max_backoff{30000};
  // Told about every failed watch or list, and when a watch is back; for the log.
  std::function<void(const std::string& message)> on_problem;
};

// What the cache holds for one namespace, for tests and diagnostics.
struct NamespacePodsState {
  bool listed = false;    // the first list succeeded
  bool watching = false;  // a watch is open now
  std::size_t pods = 0;
  std::string resource_version;
  int lists = 0;  // lists made, the first one included
};

class PodCache {
 public:
  PodCache(KubeClient& client, PodCacheOptions options);
  ~PodCache();  // ends every watch and waits for its thread
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

 private:
  struct Namespace;
  std::shared_ptr<Namespace> entry(const std::string& namespace_);
  void watch_loop(Namespace& space);
  void relist(Namespace& space);

  KubeClient& client_;
  PodCacheOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Namespace>> namespaces_;
};

}  // namespace sma::kube
