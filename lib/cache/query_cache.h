// The value cache between the providers and the backends, keyed by the backend query itself (not by
// the API path), so every API path that needs the same backend data shares one entry:
//  - a fresh answer (younger than the TTL) is served without a backend call;
//  - identical queries in flight at the same time become one backend call, and every waiter gets
//    its answer (coalescing);
//  - when the backend fails and an answer younger than max_staleness exists, that answer is served
//    (stale-on-error), counted and logged once per query; past max_staleness the failure stands;
//  - at most max_entries answers are kept, least recently used evicted first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "lib/http/http_fetcher.h"

namespace sma::cache {

struct QueryCacheOptions {
  std::chrono::milliseconds ttl{std::chrono::seconds(10)};  // 0: the cache is off (no coalescing, no stale)
  std::chrono::milliseconds max_staleness{std::chrono::seconds(60)};
  std::size_t max_entries = 10000;
};

class QueryCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Fetch = std::function<http::FetchResult()>;

  explicit QueryCache(QueryCacheOptions options, std::function<Clock::time_point()> now = Clock::now);

  // The answer for `key`: cached, shared with an identical call in flight, or fetched. A result
  // counts as a failure when fetch throws or returns a status `failed` says is one; only 2xx answers
  // are stored. On failure a stored answer no older than max_staleness is returned instead.
  // Waiting for an identical call in flight ends at `deadline`: then http::FetchError(Timeout)
  // (the call itself goes on for its other waiters).
  // `ttl`, when given, replaces the cache's own TTL for this query (a rule's cacheTTL); 0 fetches
  // every time, as a TTL of 0 does for the whole cache.
  http::FetchResult get(const std::string& key, const Fetch& fetch,
                        const std::function<bool(const http::FetchResult&)>& failed, const api::Deadline& deadline = {},
                        std::optional<std::chrono::milliseconds> ttl = std::nullopt);

  std::size_t size() const;

 private:
  struct Entry {
    http::FetchResult result;
    Clock::time_point stored;
    std::list<std::string>::iterator recency;
    bool stale_logged = false;
  };
  struct Flight {
    bool done = false;
    http::FetchResult result;
    std::exception_ptr error;
  };

  void store_locked(const std::string& key, http::FetchResult& result);
  std::optional<http::FetchResult> stale_locked(const std::string& key);

  QueryCacheOptions options_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  std::condition_variable flight_done_;
  std::map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recently used first
  std::map<std::string, std::shared_ptr<Flight>> in_flight_;
};

// The cache key of a backend request: method, URL and body, less the PromQL evaluation time (which
// moves with every call) and the credentials (a rotated token must not empty the cache).
std::string backend_query_key(const http::OutgoingRequest& request);

}  // namespace sma::cache
