#include "lib/cache/query_cache.h"

#include "lib/api/no_wait.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using sma::api::Deadline;
using sma::cache::QueryCache;
using sma::cache::QueryCacheOptions;
using sma::http::FetchError;
using sma::http::FetchResult;
using namespace std::chrono_literals;

namespace {

bool never_failed(const FetchResult&) { return false; }

}  // namespace

TEST_CASE("waiting on an identical call in flight ends at the waiter's deadline", "[query_cache]") {
  QueryCache cache(QueryCacheOptions{});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> fetches{0};
  auto slow = [&] {
    ++fetches;
    released.wait();
    return FetchResult{200, "answer", "application/json", "", nullptr};
  };
  std::promise<void> leading;
  std::thread leader([&] {
    leading.set_value();
    CHECK(cache.get("q", slow, never_failed).text() == "answer");
  });
  leading.get_future().wait();
  while (fetches == 0) std::this_thread::sleep_for(1ms);

  auto deadline = Deadline::after(30ms);
  try {
    cache.get("q", slow, never_failed, deadline);
    FAIL("a coalesced waiter outlived its deadline");
  } catch (const FetchError& e) {
    CHECK(e.kind() == FetchError::Kind::Timeout);
  }
  CHECK(deadline.expired());

  release.set_value();
  leader.join();
  CHECK(fetches == 1);  // the waiter that gave up did not start a call of its own
  // The call it gave up on still filled the cache for everyone else.
  CHECK(cache.get("q", slow, never_failed, Deadline::after(0ms)).text() == "answer");
  CHECK(fetches == 1);
}

TEST_CASE("a query's own TTL (a rule's cacheTTL) replaces the cache's", "[query_cache]") {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  QueryCacheOptions options;
  options.ttl = 10s;
  QueryCache cache(options, [&] { return now; });
  int fetches = 0;
  auto fetch = [&] {
    ++fetches;
    return FetchResult{200, "answer " + std::to_string(fetches), "application/json", "", nullptr};
  };

  // A 1 s rule: reused within a second, asked again after it.
  CHECK(cache.get("short", fetch, never_failed, {}, 1s).text() == "answer 1");
  now += 500ms;
  CHECK(cache.get("short", fetch, never_failed, {}, 1s).text() == "answer 1");
  now += 600ms;
  CHECK(cache.get("short", fetch, never_failed, {}, 1s).text() == "answer 2");

  // Without a rule TTL the cache's 10 s hold.
  CHECK(cache.get("default", fetch, never_failed).text() == "answer 3");
  now += 5s;
  CHECK(cache.get("default", fetch, never_failed).text() == "answer 3");

  // 0: every request asks the backend.
  CHECK(cache.get("never", fetch, never_failed, {}, 0s).text() == "answer 4");
  CHECK(cache.get("never", fetch, never_failed, {}, 0s).text() == "answer 5");
  CHECK(fetches == 5);
}

TEST_CASE("on a thread that may not wait, a hit is answered and anything else is WouldBlock, leaving no trace",
          "[query_cache]") {
  QueryCache cache(QueryCacheOptions{});
  int fetches = 0;
  auto fetch = [&] {
    ++fetches;
    return FetchResult{200, "answer", "application/json", "", nullptr};
  };
  {
    sma::api::NoWaitScope no_waiting;
    CHECK_THROWS_AS(cache.get("q", fetch, never_failed), sma::api::WouldBlock);
  }
  CHECK(fetches == 0);
  CHECK(cache.get("q", fetch, never_failed).text() == "answer");  // no flight was left behind to wait on
  {
    sma::api::NoWaitScope no_waiting;
    CHECK(cache.get("q", fetch, never_failed).text() == "answer");
    CHECK_THROWS_AS(cache.get("other", fetch, never_failed, {}, std::chrono::milliseconds(0)), sma::api::WouldBlock);
  }
  CHECK(fetches == 1);
}
