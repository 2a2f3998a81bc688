#include "providers/metric_catalog.h"

#include <algorithm>

#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"

namespace sma::providers {

MetricCatalog::MetricCatalog(std::string backend_name, Fetch fetch, std::chrono::milliseconds interval)
    : backend_name_(std::move(backend_name)), fetch_(std::move(fetch)), interval_(interval) {}

MetricCatalog::~MetricCatalog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricCatalog::start() { thread_ = std::thread([this] { run(); }); }

bool MetricCatalog::refresh() {
  std::vector<std::string> fresh;
  try {
    fresh = fetch_();
  } catch (const std::exception& e) {
    telemetry::log_warning("metric discovery refresh failed; keeping the last list",
                           {{"backend", backend_name_}, {"error", e.what()}});
    return false;
  }
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  std::string count = std::to_string(fresh.size());
  {
    std::lock_guard lock(mutex_);
    names_ = std::move(fresh);
  }
  telemetry::log_debug("metric discovery refreshed", {{"backend", backend_name_}, {"metrics", count}});
  auto now = std::chrono::system_clock::now().time_since_epoch();
  telemetry::SelfMetrics::instance().discovery_refreshed(backend_name_, std::chrono::duration<double>(now).count());
  return true;
}

std::vector<std::string> MetricCatalog::names() const {
  std::lock_guard lock(mutex_);
  return names_;
}

void MetricCatalog::run() {
  // After a failure, try again soon (1s, 2s, 4s, ... up to the interval) rather than leaving
  // discovery on the placeholders for a whole interval.
  const std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds retry = first_retry;
  while (true) {
    bool ok = refresh();
    auto wait = ok ? interval_ : std::min(retry, interval_);
    retry = ok ? first_retry : std::min(retry * 2, interval_);
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace sma::providers
