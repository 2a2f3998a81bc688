// Queries that HPAs keep asking, merged and refreshed ahead. A family is every request for the same
// metric, rule, resource and metric selector, whatever the object or namespace; its members are the
// objects (or namespaces) asked about. Once two members of a family are asked within the repeat
// window, one backend query grouped by namespace and object answers all of them, and a background
// thread runs it again every refresh interval while the family keeps being asked. Requests then
// read the latest answer instead of asking the backend: backend calls grow with the number of
// distinct metrics, not with the number of HPAs. docs/configuration.md ("Merged queries") weighs
// freshness against backend load.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/api/deadline.h"
#include "lib/api/no_wait.h"

namespace sma::providers {

struct QueryFamilyOptions {
  std::chrono::milliseconds refresh{std::chrono::seconds(10)};   // 0: merging off
  std::chrono::milliseconds repeat_window{std::chrono::seconds(60)};  // two members asked within it: merge
  std::chrono::milliseconds idle{std::chrono::minutes(2)};        // not asked for this long: stop refreshing
  // A failed refresh keeps the last answer in use until it is this old; past it requests ask for
  // their own objects again (and fail, or are served stale, as a single query would).
  std::chrono::milliseconds max_age{std::chrono::seconds(60)};
  std::function<void(const std::string& message)> on_problem;  // failed refreshes, for the log
};

template <typename Answer>
class QueryFamilies {
 public:
  using Clock = std::chrono::steady_clock;
  // Makes the family's query; bounded by the deadline of the request that runs it first (refreshes
  // have none but the backend timeout).
  using Run = std::function<std::shared_ptr<const Answer>(const api::Deadline& deadline)>;

  explicit QueryFamilies(QueryFamilyOptions options) : options_(std::move(options)) {}
  ~QueryFamilies() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
  }
  QueryFamilies(const QueryFamilies&) = delete;
  QueryFamilies& operator=(const QueryFamilies&) = delete;

  bool enabled() const { return options_.refresh.count() > 0; }

  // The family's merged answer, or null when the family is not merged (yet): the caller then asks
  // for its own object. `run` makes the family's query; the latest one given is the one refreshed,
  // so a reloaded rule takes effect at the next refresh. The request that makes a family merged
  // runs its first query itself (one backend call, as its own query would have been), within its
  // `deadline`.
  std::shared_ptr<const Answer> answer(const std::string& key, const std::string& member, const Run& run,
                                       const api::Deadline& deadline = {}) {
    if (!enabled()) return nullptr;
    const auto now = Clock::now();
    std::shared_ptr<Family> family;
    bool first_run = false;
    {
      std::lock_guard lock(mutex_);
      auto& slot = families_[key];
      if (!slot) slot = std::make_shared<Family>();
      family = slot;
      family->run = run;
      family->last_asked = now;
      if (family->merged) {
        if (family->answer && now - family->answered <= options_.max_age) return family->answer;
        return nullptr;
      }
      // Members asked recently; a second one within the window makes the family merged.
      family->members[member] = now;
      for (auto it = family->members.begin(); it != family->members.end();) {
        it = now - it->second > options_.repeat_window ? family->members.erase(it) : std::next(it);
      }
      if (family->members.size() < 2) return nullptr;
      api::check_may_wait();  // the family's first query is this request's to make
      family->merged = true;
      family->members.clear();
      first_run = true;
      if (!refresher_.joinable()) refresher_ = std::thread([this] { refresh_loop(); });
    }
    if (first_run) refresh(key, family, deadline);
    std::lock_guard lock(mutex_);
    return family->answer && now - family->answered <= options_.max_age ? family->answer : nullptr;
  }

  // Families merged now, for tests and /metrics.
  std::size_t merged() const {
    std::lock_guard lock(mutex_);
    std::size_t count = 0;
    for (const auto& [key, family] : families_) count += family->merged ? 1 : 0;
    return count;
  }

 private:
  struct Family {
    Run run;
    bool merged = false;
    bool refreshing = false;
    std::map<std::string, Clock::time_point> members;  // before merging: who asked when
    Clock::time_point last_asked;
    std::shared_ptr<const Answer> answer;
    Clock::time_point answered;  // when `answer` was fetched
    Clock::time_point tried;     // when the last refresh started
  };

  void refresh(const std::string& key, const std::shared_ptr<Family>& family, const api::Deadline& deadline = {}) {
    Run run;
    {
      std::lock_guard lock(mutex_);
      if (family->refreshing) return;
      family->refreshing = true;
      family->tried = Clock::now();
      run = family->run;
    }
    std::shared_ptr<const Answer> fetched;
    std::string problem;
    try {
      fetched = run(deadline);
    } catch (const std::exception& error) {
      problem = error.what();
    }
    {
      std::lock_guard lock(mutex_);
      family->refreshing = false;
      if (fetched) {
        family->answer = std::move(fetched);
        family->answered = family->tried;
      }
    }
    if (!problem.empty() && options_.on_problem) {
      options_.on_problem("refreshing the merged query of " + key + " failed: " + problem);
    }
  }

  void refresh_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto now = Clock::now();
      std::vector<std::pair<std::string, std::shared_ptr<Family>>> due;
      // Wakes at least every second (to drop idle families) and exactly when the next refresh is
      // due, so a merged answer is refreshed every interval, not every interval plus up to a second.
      auto next = now + std::min<std::chrono::milliseconds>(options_.refresh, std::chrono::seconds(1));
      for (auto it = families_.begin(); it != families_.end();) {
        auto& family = it->second;
        if (now - family->last_asked > options_.idle) {
          it = families_.erase(it);  // nobody asks any more: back to single queries, if ever again
          continue;
        }
        if (family->merged && !family->refreshing) {
          if (now - family->tried >= options_.refresh) {
            due.emplace_back(it->first, family);
          } else {
            next = std::min(next, family->tried + options_.refresh);
          }
        }
        ++it;
      }
      lock.unlock();
      for (auto& [key, family] : due) refresh(key, family);
      lock.lock();
      if (!due.empty()) continue;  // the refreshes took time: look again before sleeping
      wake_.wait_until(lock, next, [this] { return stopping_; });
    }
  }

  const QueryFamilyOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Family>> families_;
  std::thread refresher_;
};

}  // namespace sma::providers
