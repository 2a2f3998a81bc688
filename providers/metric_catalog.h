// The list of metric names a backend knows, refreshed in the background so that discovery answers
// from memory and never waits on (or fails with) the backend. A failed refresh keeps the last good
// list, is logged, and is retried with a backoff that starts at 1s.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sma::providers {

class MetricCatalog {
 public:
  using Fetch = std::function<std::vector<std::string>()>;  // throws on failure

  MetricCatalog(std::string backend_name, Fetch fetch, std::chrono::milliseconds interval);
  ~MetricCatalog();
  MetricCatalog(const MetricCatalog&) = delete;
  MetricCatalog& operator=(const MetricCatalog&) = delete;

  // Starts the refresh thread; the first refresh runs at once, in the background.
  void start();
  // One refresh now, in the caller's thread. Returns false (and keeps the old list) on failure.
  bool refresh();
  std::vector<std::string> names() const;

 private:
  void run();

  std::string backend_name_;
  Fetch fetch_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> names_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sma::providers
