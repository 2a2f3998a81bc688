// Merges pods/* requests that need the same backend query but for different pods: requests with the
// same key arriving within `window` of the first become one backend call over the union of their
// pods. Each caller gets the shared result and keeps only its own pods from it.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>
#include <string>
#include <thread>

#include "lib/api/no_wait.h"

namespace sma::providers {

template <typename Result>
class QueryBatcher {
 public:
  using Names = std::vector<std::string>;  // sorted, no repeats
  // Shared, not copied: a backend answer the value cache already holds parsed is handed on as it is.
  using Run = std::function<std::shared_ptr<const Result>(const Names& names)>;

  // A window of 0 turns batching off: every submit runs its own call.
  explicit QueryBatcher(std::chrono::milliseconds window) : window_(window) {}

  // The result of run(union of the names of every request in the batch). The first request of a
  // batch waits out the window and makes the call with its own `run`; the others wait for it. An
  // exception of the call reaches every member.
  std::shared_ptr<const Result> submit(const std::string& key, const Names& names, const Run& run) {
    if (window_.count() <= 0) return run(names);
    api::WaitScope waiting;  // a batch waits out its window
    std::shared_ptr<Batch> batch;
    {
      std::unique_lock lock(mutex_);
      auto open = open_.find(key);
      if (open != open_.end()) {
        batch = open->second;
        Names merged;
        merged.reserve(batch->names.size() + names.size());
        std::set_union(batch->names.begin(), batch->names.end(), names.begin(), names.end(), std::back_inserter(merged));
        batch->names = std::move(merged);
        batch->done.wait(lock, [&] { return batch->finished; });
        if (batch->error) std::rethrow_exception(batch->error);
        return batch->result;
      }
      batch = std::make_shared<Batch>();
      batch->names = names;
      open_.emplace(key, batch);
    }
    std::this_thread::sleep_for(window_);
    Names merged;
    {
      std::lock_guard lock(mutex_);
      open_.erase(key);  // later requests start the next batch
      merged = batch->names;
    }
    std::shared_ptr<const Result> result;
    std::exception_ptr error;
    try {
      result = run(merged);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      batch->result = result;
      batch->error = error;
      batch->finished = true;
    }
    batch->done.notify_all();
    if (error) std::rethrow_exception(error);
    return result;
  }

 private:
  struct Batch {
    Names names;
    bool finished = false;
    std::shared_ptr<const Result> result;
    std::exception_ptr error;
    std::condition_variable done;
  };

  const std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Batch>> open_;
};

}  // namespace sma::providers
