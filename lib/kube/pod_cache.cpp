#include "lib/kube/pod_cache.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>

#include "lib/http/http_fetcher.h"
#include "lib/kube/pod_watch_event.h"

namespace sma::kube {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kShortestWatch{1};
constexpr std::chrono::seconds kRelistBudget{10};

std::string seconds_text(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(duration).count()) + " s";
}

}  // namespace

struct PodCache::Namespace {
  explicit Namespace(std::string name_in) : name(std::move(name_in)) {}

  const std::string name;
  std::mutex list_mutex;  // held by the one caller making the first list

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable wake;
  std::map<std::string, InternedLabels> pods;  // running pods by name
  LabelInterner labels;
  std::size_t strings_after_compaction = 0;
  std::string resource_version;
  bool listed = false;
  bool watching = false;  // a watch is open
  bool retired = false;   // idle: its watch ended and it holds nothing
  // Until when the pods were known to be current: the list, each event or bookmark, and the end of a
  // watch that had run well (not one that failed at once, however often that repeats).
  Clock::time_point current_until;
  Clock::time_point last_asked;
  int lists = 0;

  std::atomic<bool> stopping{false};
  http::StreamCancel cancel;
  std::thread watcher;

  bool fresh(Clock::time_point now, std::chrono::milliseconds max_staleness) const {
    return watching || now - current_until <= max_staleness;
  }

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

  void install(PodSnapshot snapshot) {
    pods.clear();
    labels = LabelInterner();
    for (auto& pod : snapshot.pods) pods.emplace(std::move(pod.name), labels.intern(pod.labels));
    strings_after_compaction = labels.size();
    resource_version = std::move(snapshot.resource_version);
    current_until = Clock::now();
    ++lists;
  }

  void put(const std::string& name, const api::Labels& pod_labels) {
    pods[name] = labels.intern(pod_labels);
    // Strings of pods long gone (old template hashes) pile up over a long watch: start a fresh pool
    // once it has grown well past what was live.
    if (labels.size() > 2 * strings_after_compaction + 1024) {
      LabelInterner fresh;
      for (auto& [pod, interned] : pods) interned = fresh.intern(interned);
      labels = std::move(fresh);
      strings_after_compaction = labels.size();
    }
  }

  void stop_watching(Clock::time_point now, bool ran_well) {
    if (watching && ran_well) current_until = now;
    watching = false;
  }
};

PodCache::PodCache(KubeClient& client, PodCacheOptions options) : client_(client), options_(std::move(options)) {}

PodCache::~PodCache() {
  std::unordered_map<std::string, std::shared_ptr<Namespace>> spaces;
  {
    std::lock_guard lock(mutex_);
    spaces.swap(namespaces_);
  }
  for (auto& [name, space] : spaces) {
    {
      std::lock_guard lock(space->mutex);
      space->stopping = true;
    }
    space->wake.notify_all();
    space->cancel.cancel();
  }
  for (auto& [name, space] : spaces) {
    if (space->watcher.joinable()) space->watcher.join();
  }
}

std::shared_ptr<PodCache::Namespace> PodCache::entry(const std::string& namespace_) {
  std::shared_ptr<Namespace> retired;
  std::shared_ptr<Namespace> space;
  {
    std::lock_guard lock(mutex_);
    auto& slot = namespaces_[namespace_];
    if (slot) {
      std::lock_guard space_lock(slot->mutex);
      if (slot->retired) retired = std::move(slot);
    }
    if (!slot) slot = std::make_shared<Namespace>(namespace_);
    space = slot;
  }
  // A retired namespace's watcher has returned or is returning; it touches nothing of the cache's.
  if (retired && retired->watcher.joinable()) retired->watcher.join();
  return space;
}

std::vector<std::string> PodCache::pod_names(const std::string& namespace_, const api::LabelSelector& selector,
                                             const api::Deadline& deadline) {
  if (namespace_.empty()) return client_.list_pod_names(namespace_, selector, deadline);
  while (true) {
    std::shared_ptr<Namespace> space = entry(namespace_);
    // nullopt: not listed yet. A namespace retired meanwhile is replaced by a new entry (the loop).
    bool retired = false;
    const auto answer_from_memory = [&](Clock::time_point now) -> std::optional<std::vector<std::string>> {
      std::lock_guard lock(space->mutex);
      retired = space->retired;
      if (retired) return std::nullopt;
      space->last_asked = now;
      if (!space->listed) return std::nullopt;
      if (!space->fresh(now, options_.max_staleness)) {
        throw KubeError(KubeError::Kind::Unavailable,
                        "the pods of namespace " + namespace_ + " are not known: the watch on the Kubernetes API " +
                            "broke off " + seconds_text(now - space->current_until) + " ago");
      }
      return space->matching(selector);
    };
    if (auto pods = answer_from_memory(Clock::now())) return std::move(*pods);
    if (retired) continue;

    // The first list: one caller lists, the others wait for it and then read memory.
    std::lock_guard first(space->list_mutex);
    if (auto pods = answer_from_memory(Clock::now())) return std::move(*pods);
    if (retired) continue;
    PodSnapshot snapshot = client_.list_pod_snapshot(namespace_, {}, deadline);
    std::lock_guard lock(space->mutex);
    if (space->retired) continue;  // retired while listing: the next entry lists again
    space->install(std::move(snapshot));
    space->listed = true;
    if (!space->watcher.joinable()) {
      // A raw pointer: the map (or entry(), which joins a retired namespace's thread) owns it.
      Namespace* raw = space.get();
      space->watcher = std::thread([this, raw] { watch_loop(*raw); });
    }
    return space->matching(selector);
  }
}

void PodCache::relist(Namespace& space) {
  // Bounded, so that shutdown never waits long on a relist's retries.
  PodSnapshot snapshot = client_.list_pod_snapshot(space.name, {}, api::Deadline::after(kRelistBudget));
  std::lock_guard lock(space.mutex);
  space.install(std::move(snapshot));
}

void PodCache::watch_loop(Namespace& space) {
  const auto report = [this](const std::string& message) {
    if (options_.on_problem) options_.on_problem(message);
  };
  const auto idle = [&] {
    std::lock_guard lock(space.mutex);
    return Clock::now() - space.last_asked > options_.idle;
  };
  std::chrono::milliseconds backoff = options_.initial_backoff;
  bool failing = false;
  bool gone = false;  // the resourceVersion expired: list again before watching
  while (!space.stopping && !idle()) {
    std::string problem;
    std::optional<Clock::time_point> opened_at;  // when the API server accepted the watch
    bool heard = false;                          // an event or bookmark arrived on it
    try {
      if (gone) {
        relist(space);
        gone = false;
      }
      std::string from;
      {
        std::lock_guard lock(space.mutex);
        from = space.resource_version;
      }
      const auto opened = [&] {
        opened_at = Clock::now();
        std::lock_guard lock(space.mutex);
        space.watching = true;
      };
      const auto on_event = [&](const PodWatchEvent& event) {
        if (event.type == PodWatchEvent::Type::Error) {
          if (event.error_code == 410) {
            gone = true;
          } else {
            problem = "the API server ended the pod watch of namespace " + space.name + " with " +
                      std::to_string(event.error_code) + ": " + event.error_message;
          }
          return false;
        }
        heard = true;
        if (failing) {
          failing = false;
          report("the pod watch of namespace " + space.name + " is back");
        }
        backoff = options_.initial_backoff;
        std::lock_guard lock(space.mutex);
        space.current_until = Clock::now();
        space.resource_version = event.pod.resource_version;
        const std::string& name = event.pod.info.name;
        if (event.type == PodWatchEvent::Type::Deleted || event.pod.finished) {
          space.pods.erase(name);
        } else if (event.type != PodWatchEvent::Type::Bookmark) {
          space.put(name, event.pod.info.labels);
        }
        return !space.stopping && Clock::now() - space.last_asked <= options_.idle;
      };
      client_.watch_pods(space.name, from, opened, on_event, space.cancel);
      // A watch that ends at once with nothing said would otherwise be reopened in a tight loop.
      const bool short_lived = !opened_at || Clock::now() - *opened_at < kShortestWatch;
      if (!heard && !gone && problem.empty() && !space.stopping && short_lived) {
        problem = "the API server ended the watch at once";
      }
    } catch (const KubeError& error) {
      problem = error.what();
    } catch (const std::exception& error) {  // nothing may end this thread but stopping or idleness
      problem = std::string("unexpected failure: ") + error.what();
    }
    {
      // A watch that ran (open for a while, or delivering) kept the pods current until now; one that
      // failed at once did not, however often that repeats.
      const auto now = Clock::now();
      const bool ran_well = opened_at && (heard || now - *opened_at >= kShortestWatch) && !gone;
      std::lock_guard lock(space.mutex);
      space.stop_watching(now, ran_well);
    }
    if (problem.empty()) continue;  // the API server ended the watch (its timeout), or it expired: go on
    report("pod watch of namespace " + space.name + ": " + problem + "; retrying in " +
           std::to_string(backoff.count()) + " ms");
    failing = true;
    std::unique_lock lock(space.mutex);
    space.wake.wait_for(lock, backoff, [&] { return space.stopping.load(); });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  std::lock_guard lock(space.mutex);
  if (space.stopping) return;
  // Idle: forget the pods; the next request lists the namespace again.
  space.retired = true;
  space.listed = false;
  space.pods.clear();
  space.labels = LabelInterner();
}

std::optional<NamespacePodsState> PodCache::state(const std::string& namespace_) const {
  std::shared_ptr<Namespace> space;
  {
    std::lock_guard lock(mutex_);
    auto found = namespaces_.find(namespace_);
    if (found == namespaces_.end()) return std::nullopt;
    space = found->second;
  }
  std::lock_guard lock(space->mutex);
  return NamespacePodsState{space->listed, space->watching, space->pods.size(), space->resource_version,
                            space->lists};
}

}  // namespace sma::kube
