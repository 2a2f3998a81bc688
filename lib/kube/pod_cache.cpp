#include "lib/kube/pod_cache.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <map>
#include <thread>

#include "lib/api/no_wait.h"
#include "lib/http/http_fetcher.h"
#include "lib/kube/pod_watch_event.h"

namespace sma::kube {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kShortestWatch{1};
// Bounded, so that shutdown never waits long on a relist's retries.
constexpr std::chrono::seconds kNamespaceListBudget{10};
constexpr std::chrono::seconds kClusterListBudget{30};

std::string seconds_text(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(duration).count()) + " s";
}

std::string scope_text(const std::string& namespace_) {
  return namespace_.empty() ? std::string("the cluster") : "namespace " + namespace_;
}

}  // namespace

// The pods of one namespace, kept current by a feed: its own, or the cluster's.
struct PodCache::Store {
  explicit Store(std::string name_in) : name(std::move(name_in)) {}

  const std::string name;
  std::mutex list_mutex;  // held by the one caller making the first list

  mutable std::mutex mutex;  // guards everything below
  std::map<std::string, InternedLabels> pods;  // running pods by name
  LabelInterner labels;
  std::size_t strings_after_compaction = 0;
  bool listed = false;
  bool retired = false;  // idle: its watch ended and it holds nothing
  Clock::time_point last_asked{};
  std::shared_ptr<Feed> feed;  // what keeps it current
  int lists = 0;

  std::vector<std::string> matching(const api::LabelSelector& selector) const {
    std::vector<std::string> found;
    const InternedLabels* current = nullptr;
    const api::LabelLookup lookup = [&current](const std::string& key) { return label_value(*current, key); };
    for (const auto& [pod, pod_labels] : pods) {
      current = &pod_labels;
      if (selector.matches(lookup)) found.push_back(pod);
    }
    return found;
  }

  void install(std::vector<PodInfo> listed_pods) {
    pods.clear();
    labels = LabelInterner();
    for (auto& pod : listed_pods) pods.emplace(std::move(pod.name), labels.intern(pod.labels));
    strings_after_compaction = labels.size();
    listed = true;
    ++lists;
  }

  void put(const std::string& pod, const api::Labels& pod_labels) {
    pods[pod] = labels.intern(pod_labels);
    // Strings of pods long gone (old template hashes) pile up over a long watch: start a fresh pool
    // once it has grown well past what was live.
    if (labels.size() > 2 * strings_after_compaction + 1024) {
      LabelInterner fresh;
      for (auto& [name_of_pod, interned] : pods) interned = fresh.intern(interned);
      labels = std::move(fresh);
      strings_after_compaction = labels.size();
    }
  }

  bool asked_within(Clock::time_point now, std::chrono::milliseconds idle) const { return now - last_asked <= idle; }
};

// One list-and-watch: of a namespace (`store` set) or of the whole cluster (namespace_ empty).
struct PodCache::Feed {
  explicit Feed(std::string namespace_in, std::chrono::milliseconds backoff_in)
      : namespace_(std::move(namespace_in)), backoff(backoff_in) {}

  const std::string namespace_;
  std::weak_ptr<Store> store;  // a namespace feed's one store

  mutable std::mutex mutex;  // guards everything below
  std::string resource_version;
  bool watching = false;  // a watch is open
  bool stopping = false;  // no more watches: the cache ends, the namespace went idle, or the cluster took over
  bool failing = false;   // the last attempt failed (for "is back")
  bool gone = false;      // the resourceVersion expired: list again before watching
  bool heard = false;     // an event or bookmark arrived on the current watch
  std::optional<Clock::time_point> opened_at;  // when the API server accepted the current watch
  std::string problem;    // why the current watch ended badly, from an Error event
  // Until when the pods were known to be current: the list, each event or bookmark, and the end of a
  // watch that had run well (not one that failed at once, however often that repeats).
  Clock::time_point current_until;
  std::chrono::milliseconds backoff;
  std::shared_ptr<http::StreamCancel> cancel;
  std::shared_ptr<asio::steady_timer> timer;

  bool fresh(Clock::time_point now, std::chrono::milliseconds max_staleness) const {
    return watching || now - current_until <= max_staleness;
  }
};

// The timer thread, the list pool and the count of callbacks still to come, for the destructor.
struct PodCache::Runtime {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread timer_thread{[this] { io.run(); }};
  asio::thread_pool lists{2};  // relists and the switch to the cluster-wide watch block on HTTP

  std::mutex mutex;
  std::condition_variable idle;
  int outstanding = 0;  // watches, timers and list tasks whose last callback has not run
  bool stopping = false;

  // False once stopping: nothing new is started then.
  bool begin() {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    ++outstanding;
    return true;
  }
  void end() {
    std::lock_guard lock(mutex);
    if (--outstanding == 0) idle.notify_all();
  }
  bool stopped() {
    std::lock_guard lock(mutex);
    return stopping;
  }
};

PodCache::PodCache(KubeClient& client, PodCacheOptions options)
    : client_(client), options_(std::move(options)), runtime_(std::make_unique<Runtime>()) {
  if (options_.scope == PodWatchScope::Cluster) cluster_ = std::make_shared<Feed>("", options_.initial_backoff);
}

PodCache::~PodCache() {
  std::vector<std::shared_ptr<Feed>> feeds;
  {
    std::lock_guard lock(mutex_);
    {
      std::lock_guard runtime_lock(runtime_->mutex);
      runtime_->stopping = true;
    }
    if (cluster_) feeds.push_back(cluster_);
    for (auto& [name, store] : stores_) {
      std::lock_guard store_lock(store->mutex);
      if (store->feed && store->feed != cluster_) feeds.push_back(store->feed);
    }
  }
  for (auto& feed : feeds) {
    std::shared_ptr<http::StreamCancel> cancel;
    {
      std::lock_guard lock(feed->mutex);
      feed->stopping = true;
      cancel = feed->cancel;
      if (feed->timer) feed->timer->cancel();
    }
    if (cancel) cancel->cancel();
  }
  {
    std::unique_lock lock(runtime_->mutex);
    runtime_->idle.wait(lock, [this] { return runtime_->outstanding == 0; });
  }
  runtime_->work.reset();
  runtime_->timer_thread.join();
  runtime_->lists.join();
  // The feeds' timers belong to the timer thread's io_context: they go before it does.
  std::lock_guard lock(mutex_);
  for (auto& [name, store] : stores_) {
    std::lock_guard store_lock(store->mutex);
    if (store->feed) {
      std::lock_guard feed_lock(store->feed->mutex);
      store->feed->timer.reset();
    }
    store->feed.reset();
  }
  if (cluster_) {
    std::lock_guard feed_lock(cluster_->mutex);
    cluster_->timer.reset();
  }
}

void PodCache::report(const std::string& message) const {
  if (options_.on_problem) options_.on_problem(message);
}

std::shared_ptr<PodCache::Store> PodCache::store_for(const std::string& namespace_) {
  std::lock_guard lock(mutex_);
  auto& slot = stores_[namespace_];
  if (slot) {
    std::lock_guard store_lock(slot->mutex);
    if (!slot->retired) return slot;
  }
  slot = std::make_shared<Store>(namespace_);
  if (cluster_ && cluster_listed_) {
    // The cluster's list and watch already know this namespace's pods: none so far.
    std::lock_guard store_lock(slot->mutex);
    slot->listed = true;
    slot->feed = cluster_;
  }
  return slot;
}

std::vector<std::string> PodCache::pod_names(const std::string& namespace_, const api::LabelSelector& selector,
                                             const api::Deadline& deadline) {
  if (namespace_.empty()) {
    api::WaitScope waiting;
    return client_.list_pod_names(namespace_, selector, deadline);
  }
  while (true) {
    std::shared_ptr<Store> store = store_for(namespace_);
    bool retired = false;
    {
      const auto now = Clock::now();
      std::lock_guard lock(store->mutex);
      retired = store->retired;
      if (!retired) {
        store->last_asked = now;
        if (store->listed) {
          std::lock_guard feed_lock(store->feed->mutex);
          if (!store->feed->fresh(now, options_.max_staleness)) {
            throw KubeError(KubeError::Kind::Unavailable,
                            "the pods of namespace " + namespace_ + " are not known: the watch on the Kubernetes " +
                                "API broke off " + seconds_text(now - store->feed->current_until) + " ago");
          }
          return store->matching(selector);
        }
      }
    }
    if (retired) continue;  // forgotten meanwhile: a new entry lists again
    std::vector<std::string> pods = first_list(store, selector, deadline);
    std::lock_guard lock(store->mutex);
    if (!store->retired && store->listed) return pods;
  }
}

std::vector<std::string> PodCache::first_list(const std::shared_ptr<Store>& store, const api::LabelSelector& selector,
                                              const api::Deadline& deadline) {
  api::WaitScope waiting;  // a list, or waiting for someone else's
  std::shared_ptr<Feed> cluster;
  {
    std::unique_lock lock(mutex_);
    if (cluster_ && options_.scope == PodWatchScope::Cluster) cluster = cluster_;
    if (options_.scope == PodWatchScope::Auto && cluster_) {
      // Switching to the cluster's watch: its list is on its way, and waiting for it costs less
      // than a list and a watch of this namespace's own (hundreds of namespaces asked in the
      // seconds the switch takes made hundreds of connections). If it fails, list alone.
      auto settled = [this] { return cluster_switch_settled_; };
      if (deadline.bounded()) {
        // At most half the time left: a slow switch still leaves time for a list of its own.
        const auto now = std::chrono::steady_clock::now();
        cluster_switch_.wait_until(lock, now + (std::max(deadline.when(), now) - now) / 2, settled);
      } else {
        cluster_switch_.wait(lock, settled);
      }
      if (cluster_listed_) {
        lock.unlock();
        std::lock_guard store_lock(store->mutex);
        if (store->listed) return store->matching(selector);
      }
    }
  }
  if (cluster) {
    // One list of every pod, made by the first caller; the others wait for it.
    std::lock_guard first(cluster_list_mutex_);
    bool listed = false;
    {
      std::lock_guard lock(mutex_);
      listed = cluster_listed_;
    }
    if (!listed) {
      install_cluster(client_.list_pod_snapshot("", {}, deadline), cluster);
      open_watch(cluster);
    }
    std::lock_guard lock(store->mutex);
    return store->listed ? store->matching(selector) : std::vector<std::string>{};
  }

  // The first list of a namespace: one caller lists, the others wait for it and then read memory.
  std::lock_guard first(store->list_mutex);
  {
    std::lock_guard lock(store->mutex);
    if (store->retired || store->listed) return store->listed ? store->matching(selector) : std::vector<std::string>{};
  }
  PodSnapshot snapshot = client_.list_pod_snapshot(store->name, {}, deadline);
  auto feed = std::make_shared<Feed>(store->name, options_.initial_backoff);
  feed->store = store;
  feed->resource_version = snapshot.resource_version;
  feed->current_until = Clock::now();
  std::vector<std::string> pods;
  {
    std::lock_guard lock(store->mutex);
    if (store->retired) return {};
    if (store->listed) return store->matching(selector);  // the cluster's list came first
    store->install(std::move(snapshot.pods));
    store->feed = feed;
    pods = store->matching(selector);
  }
  open_watch(feed);
  maybe_go_cluster_wide();
  return pods;
}

void PodCache::open_watch(const std::shared_ptr<Feed>& feed) {
  if (!runtime_->begin()) return;
  std::string from;
  auto cancel = std::make_shared<http::StreamCancel>();
  {
    std::lock_guard lock(feed->mutex);
    if (feed->stopping) {
      runtime_->end();
      return;
    }
    from = feed->resource_version;
    feed->opened_at.reset();
    feed->heard = false;
    feed->problem.clear();
    feed->cancel = cancel;
  }
  KubeClient::WatchHandlers handlers;
  Feed* raw = feed.get();  // the handlers run before `done`, which holds the shared_ptr
  handlers.opened = [raw] {
    std::lock_guard lock(raw->mutex);
    raw->opened_at = Clock::now();
    raw->watching = true;
  };
  handlers.on_event = [this, raw](const PodWatchEvent& event) { return on_event(*raw, event); };
  handlers.done = [this, feed](const std::optional<KubeError>& error) {
    on_watch_end(feed, error);
    runtime_->end();
  };
  try {
    client_.watch_pods(feed->namespace_, from, std::move(handlers), cancel);
  } catch (const KubeError& error) {
    on_watch_end(feed, error);
    runtime_->end();
  }
}

bool PodCache::on_event(Feed& feed, const PodWatchEvent& event) {
  const auto now = Clock::now();
  bool back = false;
  {
    std::lock_guard lock(feed.mutex);
    if (event.type == PodWatchEvent::Type::Error) {
      if (event.error_code == 410) {
        feed.gone = true;
      } else {
        feed.problem = "the API server ended the pod watch of " + scope_text(feed.namespace_) + " with " +
                       std::to_string(event.error_code) + ": " + event.error_message;
      }
      return false;
    }
    feed.heard = true;
    back = feed.failing;
    feed.failing = false;
    feed.backoff = options_.initial_backoff;
    feed.current_until = now;
    feed.resource_version = event.pod.resource_version;
    if (feed.stopping) return false;
  }
  if (back) report("the pod watch of " + scope_text(feed.namespace_) + " is back");
  const bool cluster_wide = feed.namespace_.empty();
  std::shared_ptr<Store> store = feed.store.lock();
  if (event.type == PodWatchEvent::Type::Bookmark) {
    // Bookmarks also tell a namespace's watch that nobody asks about it any more.
    if (cluster_wide) return true;
    if (!store) return false;
    std::lock_guard lock(store->mutex);
    return store->feed.get() == &feed && store->asked_within(now, options_.idle);
  }

  if (cluster_wide) {
    // The cluster's watch: every namespace's pods, asked about or not, so that a first request in
    // a namespace is answered at once.
    if (event.pod.info.namespace_.empty()) return true;
    std::lock_guard lock(mutex_);
    auto& slot = stores_[event.pod.info.namespace_];
    bool fresh_slot = !slot;
    if (slot) {
      std::lock_guard store_lock(slot->mutex);
      fresh_slot = slot->retired;
    }
    if (fresh_slot) {
      slot = std::make_shared<Store>(event.pod.info.namespace_);
      std::lock_guard store_lock(slot->mutex);
      slot->listed = true;
      slot->feed = cluster_;
    }
    store = slot;
  }
  if (!store) return false;
  std::lock_guard lock(store->mutex);
  // A namespace's own watch ends once the cluster's took the namespace over; the cluster's watch
  // passes over a namespace still kept by its own watch (until the cluster's list takes it).
  if (store->feed.get() != &feed) return cluster_wide;
  const std::string& name = event.pod.info.name;
  if (event.type == PodWatchEvent::Type::Deleted || event.pod.finished) {
    store->pods.erase(name);
  } else {
    store->put(name, event.pod.info.labels);
  }
  // A namespace nobody asks about any more: end its watch (on_watch_end forgets it).
  return !feed.namespace_.empty() ? store->asked_within(now, options_.idle) : true;
}

void PodCache::on_watch_end(const std::shared_ptr<Feed>& feed, const std::optional<KubeError>& error) {
  const auto now = Clock::now();
  std::string problem;
  bool gone = false;
  {
    std::lock_guard lock(feed->mutex);
    // A watch that ended at once with nothing said would otherwise be reopened in a tight loop.
    const bool short_lived = !feed->opened_at || now - *feed->opened_at < kShortestWatch;
    // A watch that ran (open for a while, or delivering) kept the pods current until now; one that
    // failed at once did not, however often that repeats.
    const bool ran_well = feed->opened_at && (feed->heard || !short_lived) && !feed->gone;
    if (feed->watching && ran_well) feed->current_until = now;
    feed->watching = false;
    feed->cancel.reset();
    if (feed->stopping) return;
    problem = error ? std::string(error->what()) : feed->problem;
    if (problem.empty() && !feed->heard && !feed->gone && short_lived) problem = "the API server ended the watch at once";
    gone = feed->gone;
  }

  std::shared_ptr<Store> store = feed->store.lock();
  if (!feed->namespace_.empty()) {
    bool retire = !store;
    if (store) {
      std::lock_guard lock(store->mutex);
      if (store->feed != feed) retire = true;  // taken over by the cluster's watch: this one just ends
      else if (!store->asked_within(now, options_.idle)) {
        // Idle: forget the pods; the next request lists the namespace again.
        store->retired = true;
        store->listed = false;
        store->pods.clear();
        store->labels = LabelInterner();
        store->feed.reset();
        retire = true;
      }
    }
    if (retire) {
      std::lock_guard lock(feed->mutex);
      feed->stopping = true;
      return;
    }
  }
  if (!problem.empty()) return retry_later(feed, problem, gone);
  if (gone) {
    // The resourceVersion expired: list again, then watch from the new list.
    if (!runtime_->begin()) return;
    asio::post(runtime_->lists, [this, feed] {
      relist(feed);
      runtime_->end();
    });
    return;
  }
  // The API server ended the watch (its timeout): go on at once, from the timer thread.
  if (!runtime_->begin()) return;
  asio::post(runtime_->io, [this, feed] {
    open_watch(feed);
    runtime_->end();
  });
}

void PodCache::retry_later(const std::shared_ptr<Feed>& feed, const std::string& problem, bool then_relist) {
  std::chrono::milliseconds wait;
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(feed->mutex);
    if (feed->stopping) return;
    wait = feed->backoff;
    feed->backoff = std::min(feed->backoff * 2, options_.max_backoff);
    feed->failing = true;
    feed->gone = feed->gone || then_relist;
    feed->timer = std::make_shared<asio::steady_timer>(runtime_->io, wait);
    timer = feed->timer;
  }
  report("pod watch of " + scope_text(feed->namespace_) + ": " + problem + "; retrying in " +
         std::to_string(wait.count()) + " ms");
  if (!runtime_->begin()) return;
  timer->async_wait([this, feed](const boost::system::error_code& cancelled) {
    bool relist_first = false;
    {
      std::lock_guard lock(feed->mutex);
      relist_first = feed->gone;
    }
    if (!cancelled && !runtime_->stopped()) {
      if (relist_first) {
        if (runtime_->begin()) {
          asio::post(runtime_->lists, [this, feed] {
            relist(feed);
            runtime_->end();
          });
        }
      } else {
        open_watch(feed);
      }
    }
    runtime_->end();
  });
}

void PodCache::relist(const std::shared_ptr<Feed>& feed) {
  {
    std::lock_guard lock(feed->mutex);
    if (feed->stopping) return;
  }
  try {
    if (feed->namespace_.empty()) {
      install_cluster(client_.list_pod_snapshot("", {}, api::Deadline::after(kClusterListBudget)), feed);
    } else {
      PodSnapshot snapshot = client_.list_pod_snapshot(feed->namespace_, {}, api::Deadline::after(kNamespaceListBudget));
      std::shared_ptr<Store> store = feed->store.lock();
      if (!store) return;
      {
        std::lock_guard lock(store->mutex);
        if (store->feed != feed) return;
        store->install(std::move(snapshot.pods));
      }
      std::lock_guard lock(feed->mutex);
      feed->resource_version = snapshot.resource_version;
      feed->current_until = Clock::now();
      feed->gone = false;
    }
  } catch (const std::exception& error) {
    return retry_later(feed, std::string("listing pods again failed: ") + error.what(), true);
  }
  open_watch(feed);
}

void PodCache::install_cluster(PodSnapshot snapshot, const std::shared_ptr<Feed>& feed) {
  std::map<std::string, std::vector<PodInfo>> by_namespace;
  for (auto& pod : snapshot.pods) {
    std::string space = pod.namespace_;
    by_namespace[space].push_back(std::move(pod));
  }
  // The feed is current before any store points at it: a request in between must not find it stale.
  {
    std::lock_guard lock(feed->mutex);
    feed->resource_version = snapshot.resource_version;
    feed->current_until = Clock::now();
    feed->gone = false;
  }
  std::vector<std::shared_ptr<Feed>> replaced;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, pods] : by_namespace) {
      if (name.empty()) continue;
      auto& slot = stores_[name];
      if (!slot) slot = std::make_shared<Store>(name);
    }
    for (auto& [name, store] : stores_) {
      std::lock_guard store_lock(store->mutex);
      if (store->retired) continue;
      auto found = by_namespace.find(name);
      store->install(found == by_namespace.end() ? std::vector<PodInfo>{} : std::move(found->second));
      if (store->feed && store->feed != feed) replaced.push_back(store->feed);
      store->feed = feed;
    }
    cluster_listed_ = true;
  }
  // The namespaces' own watches end: the cluster's keeps their pods from now on.
  for (auto& old : replaced) {
    std::shared_ptr<http::StreamCancel> cancel;
    {
      std::lock_guard lock(old->mutex);
      old->stopping = true;
      cancel = old->cancel;
      if (old->timer) old->timer->cancel();
    }
    if (cancel) cancel->cancel();
  }
}

void PodCache::maybe_go_cluster_wide() {
  if (options_.scope != PodWatchScope::Auto) return;
  std::size_t watched = 0;
  {
    std::lock_guard lock(mutex_);
    if (cluster_) return;
    const auto now = Clock::now();
    for (auto& [name, store] : stores_) {
      std::lock_guard store_lock(store->mutex);
      if (store->listed && !store->retired && store->asked_within(now, options_.idle)) ++watched;
    }
    if (watched <= options_.cluster_watch_above) return;
    cluster_ = std::make_shared<Feed>("", options_.initial_backoff);
    cluster_switch_settled_ = false;
  }
  report("more than " + std::to_string(options_.cluster_watch_above) + " namespaces watched (" +
         std::to_string(watched) + "): switching to one watch of every pod in the cluster");
  if (!runtime_->begin()) {
    settle_cluster_switch();
    return;
  }
  asio::post(runtime_->lists, [this] {
    go_cluster_wide();
    settle_cluster_switch();
    runtime_->end();
  });
}

void PodCache::settle_cluster_switch() {
  {
    std::lock_guard lock(mutex_);
    cluster_switch_settled_ = true;
  }
  cluster_switch_.notify_all();
}

void PodCache::go_cluster_wide() {
  std::shared_ptr<Feed> cluster;
  {
    std::lock_guard lock(mutex_);
    cluster = cluster_;
  }
  {
    std::lock_guard first(cluster_list_mutex_);
    try {
      install_cluster(client_.list_pod_snapshot("", {}, api::Deadline::after(kClusterListBudget)), cluster);
    } catch (const std::exception& error) {
      // The namespaces' own watches go on meanwhile.
      return retry_later(cluster, std::string("listing every pod failed: ") + error.what(), true);
    }
  }
  open_watch(cluster);
}

std::optional<NamespacePodsState> PodCache::state(const std::string& namespace_) const {
  std::shared_ptr<Store> store;
  {
    std::lock_guard lock(mutex_);
    auto found = stores_.find(namespace_);
    if (found == stores_.end()) return std::nullopt;
    store = found->second;
  }
  std::lock_guard lock(store->mutex);
  NamespacePodsState state{store->listed, false, store->pods.size(), "", store->lists};
  if (store->feed) {
    std::lock_guard feed_lock(store->feed->mutex);
    state.watching = store->feed->watching;
    state.resource_version = store->feed->resource_version;
  }
  return state;
}

PodCacheState PodCache::state() const {
  PodCacheState state;
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  state.cluster_wide = cluster_ && cluster_listed_;
  if (cluster_) {
    std::lock_guard feed_lock(cluster_->mutex);
    if (cluster_->watching) ++state.watches_open;
  }
  for (auto& [name, store] : stores_) {
    std::lock_guard store_lock(store->mutex);
    if (store->retired) continue;
    state.pods += store->pods.size();
    if (store->listed && store->asked_within(now, options_.idle)) ++state.namespaces;
    if (store->feed && store->feed != cluster_) {
      std::lock_guard feed_lock(store->feed->mutex);
      if (store->feed->watching) ++state.watches_open;
    }
  }
  return state;
}

}  // namespace sma::kube
