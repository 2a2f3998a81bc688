#include "providers/backend_slots.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "providers/provider.h"

using sma::api::Deadline;
using sma::providers::BackendSlots;
using sma::providers::MetricsError;
using namespace std::chrono_literals;

namespace {

// Waits (briefly, polling) until `slots` has `n` calls in line; the tests then know a thread is parked.
bool wait_for_waiting(const BackendSlots& slots, std::size_t n) {
  for (int i = 0; i < 2000 && slots.waiting() != n; ++i) std::this_thread::sleep_for(1ms);
  return slots.waiting() == n;
}

}  // namespace

TEST_CASE("free slots are taken at once, up to the capacity", "[backend_slots]") {
  BackendSlots slots(2);
  auto a = slots.acquire(Deadline::after(1s));
  auto b = slots.acquire(Deadline::after(1s));
  CHECK(slots.in_use() == 2);
  {
    BackendSlots::Slot moved = std::move(a);
    CHECK(slots.in_use() == 2);
  }
  CHECK(slots.in_use() == 1);
}

TEST_CASE("a call that gets no slot before its deadline is Unavailable, and holds nothing", "[backend_slots]") {
  BackendSlots slots(1);
  std::optional<BackendSlots::Slot> held = slots.acquire({});
  auto deadline = Deadline::after(30ms);
  try {
    slots.acquire(deadline);
    FAIL("acquire returned without a free slot");
  } catch (const MetricsError& e) {
    CHECK(e.kind() == MetricsError::Kind::Unavailable);
    CHECK(std::string(e.what()).find("--max-backend-concurrency") != std::string::npos);
  }
  CHECK(deadline.expired());  // it did wait until the deadline
  CHECK(slots.waiting() == 0);
  held.reset();
  CHECK(slots.in_use() == 0);
  // An already-expired deadline with every slot taken fails at once.
  auto again = slots.acquire({});
  CHECK_THROWS_AS(slots.acquire(Deadline::after(0ms)), MetricsError);
}

TEST_CASE("a freed slot goes to the oldest waiter, not to a newcomer", "[backend_slots]") {
  BackendSlots slots(1);
  std::optional<BackendSlots::Slot> held = slots.acquire({});
  std::atomic<int> order{0};
  std::atomic<int> first_got{0}, second_got{0};
  std::thread first([&] {
    auto s = slots.acquire({});
    first_got = ++order;
    std::this_thread::sleep_for(5ms);
  });
  REQUIRE(wait_for_waiting(slots, 1));
  std::thread second([&] {
    auto s = slots.acquire({});
    second_got = ++order;
  });
  REQUIRE(wait_for_waiting(slots, 2));
  held.reset();  // handed to `first`; in_use never drops, so no newcomer can slip in
  CHECK(slots.in_use() == 1);
  CHECK_THROWS_AS(slots.acquire(Deadline::after(0ms)), MetricsError);
  first.join();
  second.join();
  CHECK(first_got == 1);
  CHECK(second_got == 2);
  CHECK(slots.in_use() == 0);
}

TEST_CASE("never more calls hold a slot than the capacity", "[backend_slots]") {
  BackendSlots slots(3);
  std::atomic<int> holding{0}, peak{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        auto slot = slots.acquire(Deadline::after(10s));
        int now = ++holding;
        for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);) {
        }
        std::this_thread::yield();
        --holding;
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(done == 8 * 40);
  CHECK(peak <= 3);
  CHECK(peak >= 1);
  CHECK(slots.in_use() == 0);
  CHECK(slots.waiting() == 0);
}

TEST_CASE("capacity 0 means no cap", "[backend_slots]") {
  BackendSlots slots(0);
  std::vector<BackendSlots::Slot> many;
  for (int i = 0; i < 100; ++i) many.push_back(slots.acquire(Deadline::after(0ms)));
  CHECK(slots.in_use() == 0);
  CHECK(slots.waiting() == 0);
}
