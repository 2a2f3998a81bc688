#include "lib/server/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <functional>
#include <thread>

using sma::server::WorkerPool;
using namespace std::chrono_literals;

namespace {

// Tasks that block until released, counting how many run at once. A task that waits inside an
// api::WaitScope is waiting (on a backend, say); one that does not looks like it is computing.
struct Gate {
  bool declared = true;  // the wait is inside an api::WaitScope
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int running = 0;
  int most = 0;
  int finished = 0;

  void task() {
    std::optional<sma::api::WaitScope> waiting;
    if (declared) waiting.emplace();
    std::unique_lock lock(mutex);
    ++running;
    most = std::max(most, running);
    changed.notify_all();
    changed.wait(lock, [this] { return open; });
    --running;
    ++finished;
    changed.notify_all();
  }
  bool wait_running(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return running == n; });
  }
  bool wait_finished(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return finished == n; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

bool eventually(const std::function<bool()>& condition) {
  for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("Tasks that compute do not make the pool grow: more threads than its core would only hold more at once") {
  WorkerPool pool(2, 16, 30s);
  Gate gate;
  gate.declared = false;
  for (int i = 0; i < 6; ++i) pool.post([&] { gate.task(); });
  CHECK(gate.wait_running(2));
  std::this_thread::sleep_for(100ms);
  CHECK(pool.threads() == 2);
  {
    std::lock_guard lock(gate.mutex);
    CHECK(gate.running == 2);
  }
  gate.release();
  CHECK(gate.wait_finished(6));
  CHECK(pool.peak_threads() == 2);
}

TEST_CASE("Waiting tasks do not hold back the ones behind them: the pool grows past its core") {
  WorkerPool pool(2, 16, 30s);
  Gate gate;
  for (int i = 0; i < 10; ++i) pool.post([&] { gate.task(); });
  CHECK(gate.wait_running(10));  // with a fixed pool of 2, eight would still be queued
  CHECK(pool.threads() == 10);
  gate.release();
  CHECK(gate.wait_finished(10));
}

TEST_CASE("The pool never passes its maximum; tasks beyond it wait their turn") {
  WorkerPool pool(1, 3, 30s);
  Gate gate;
  for (int i = 0; i < 7; ++i) pool.post([&] { gate.task(); });
  CHECK(gate.wait_running(3));
  std::this_thread::sleep_for(50ms);
  CHECK(pool.threads() == 3);
  gate.release();
  CHECK(gate.wait_finished(7));
  std::lock_guard lock(gate.mutex);
  CHECK(gate.most == 3);
  CHECK(pool.peak_threads() == 3);
}

TEST_CASE("Idle threads beyond the core end; the core stays and serves") {
  WorkerPool pool(2, 8, 100ms);
  Gate gate;
  for (int i = 0; i < 6; ++i) pool.post([&] { gate.task(); });
  REQUIRE(gate.wait_running(6));
  gate.release();
  REQUIRE(gate.wait_finished(6));
  CHECK(eventually([&] { return pool.threads() == 2; }));
  std::this_thread::sleep_for(300ms);
  CHECK(pool.threads() == 2);
  // Grows again after shrinking (the ended threads are joined, not leaked).
  Gate second;
  for (int i = 0; i < 5; ++i) pool.post([&] { second.task(); });
  CHECK(second.wait_running(5));
  second.release();
  CHECK(second.wait_finished(5));
}

TEST_CASE("A task that throws does not take its thread with it; join runs what is queued") {
  std::atomic<int> done{0};
  {
    WorkerPool pool(1, 1, 30s);
    pool.post([] { throw std::runtime_error("boom"); });
    for (int i = 0; i < 50; ++i) pool.post([&] { ++done; });
    pool.join();
    CHECK(done == 50);
    pool.post([&] { ++done; });  // after join: not run
  }
  CHECK(done == 50);
}
