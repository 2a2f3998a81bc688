#include "lib/cache/query_cache.h"

#include "lib/api/no_wait.h"
#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"

namespace sma::cache {

QueryCache::QueryCache(QueryCacheOptions options, std::function<Clock::time_point()> now)
    : options_(options), now_(std::move(now)) {}

std::size_t QueryCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void QueryCache::store_locked(const std::string& key, http::FetchResult& result) {
  if (result.status < 200 || result.status >= 300) return;
  // Kept once, shared by every hit: the body moves into a SharedBody that also keeps its parse.
  if (!result.shared) {
    result.shared = std::make_shared<const http::SharedBody>(std::move(result.body));
    result.body.clear();
  }
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    recency_.erase(it->second.recency);
    entries_.erase(it);
  }
  while (!entries_.empty() && entries_.size() >= options_.max_entries) {
    entries_.erase(recency_.back());
    recency_.pop_back();
    telemetry::SelfMetrics::instance().cache_evicted();
  }
  if (options_.max_entries == 0) return;
  recency_.push_front(key);
  entries_.emplace(key, Entry{result, now_(), recency_.begin(), false});
}

std::optional<http::FetchResult> QueryCache::stale_locked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || now_() - it->second.stored > options_.max_staleness) return std::nullopt;
  telemetry::SelfMetrics::instance().cache_stale_served();
  if (!it->second.stale_logged) {
    it->second.stale_logged = true;
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now_() - it->second.stored).count();
    telemetry::log_warning("backend failed; serving the last answer", {{"age_seconds", std::to_string(age)}});
  }
  return it->second.result;
}

http::FetchResult QueryCache::get(const std::string& key, const Fetch& fetch,
                                  const std::function<bool(const http::FetchResult&)>& failed,
                                  const api::Deadline& deadline, std::optional<std::chrono::milliseconds> ttl) {
  const std::chrono::milliseconds fresh_for = ttl.value_or(options_.ttl);
  if (fresh_for.count() <= 0) {
    api::WaitScope waiting;
    return fetch();  // switched off (for comparisons, or by the query's rule)
  }
  auto& metrics = telemetry::SelfMetrics::instance();
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now_() - it->second.stored < fresh_for) {
      recency_.splice(recency_.begin(), recency_, it->second.recency);
      metrics.cache_hit();
      return it->second.result;
    }
    // Anything but a hit waits (on the call in flight, or for a call of its own).
    api::WaitScope waiting;
    auto running = in_flight_.find(key);
    if (running != in_flight_.end()) {
      flight = running->second;
      metrics.cache_coalesced();
      auto done = [&] { return flight->done; };
      if (!deadline.bounded()) {
        flight_done_.wait(lock, done);
      } else if (!flight_done_.wait_until(lock, deadline.when(), done)) {
        throw http::FetchError(http::FetchError::Kind::Timeout,
                               "an identical backend query in flight gave no answer before the request's deadline");
      }
      if (flight->error) std::rethrow_exception(flight->error);
      return flight->result;
    }
    flight = std::make_shared<Flight>();
    in_flight_[key] = flight;
    metrics.cache_miss();
  }

  // The leader fetches outside the lock; everyone else waits on the flight.
  http::FetchResult result;
  std::exception_ptr error;
  try {
    result = fetch();
  } catch (...) {
    error = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  bool failure = error != nullptr || failed(result);
  if (!failure) {
    store_locked(key, result);
  } else if (auto stale = stale_locked(key)) {
    result = *stale;
    error = nullptr;
  }
  flight->done = true;
  flight->result = result;
  flight->error = error;
  in_flight_.erase(key);
  lock.unlock();
  flight_done_.notify_all();
  if (error) std::rethrow_exception(error);
  return result;
}

std::string backend_query_key(const http::OutgoingRequest& request) {
  std::string body = request.body;
  // Our PromQL client puts "time=<seconds>" in the form body; drop that field wherever it stands.
  for (auto pos = body.find("time="); pos != std::string::npos; pos = body.find("time=", pos)) {
    if (pos != 0 && body[pos - 1] != '&') {
      pos += 5;
      continue;
    }
    auto end = body.find('&', pos);
    body.erase(pos == 0 ? pos : pos - 1, end == std::string::npos ? std::string::npos : end - pos + (pos == 0 ? 1 : 0));
  }
  return request.method + " " + request.url + "\n" + body;
}

}  // namespace sma::cache
