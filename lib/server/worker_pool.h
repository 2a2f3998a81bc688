// The threads API handlers run on. A handler may wait for as long as its request's deadline (a
// backend call, a slot, a list), so a fixed handful of threads would cap the backend calls in
// flight at that handful and leave the rest queued without a deadline. The pool keeps `core`
// threads; while tasks are queued and fewer than `core` threads compute (the others idle or
// waiting inside an api::WaitScope), it starts another, up to `max`. Threads that compute do not
// make it grow: more of them than cores would only hold more answers in memory at once. A thread
// beyond `core` ends after `idle_exit` without work: an idle adapter stays at `core` threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lib/api/no_wait.h"

namespace sma::server {

class WorkerPool final : public api::WaitObserver {
 public:
  WorkerPool(std::size_t core, std::size_t max, std::chrono::milliseconds idle_exit);
  ~WorkerPool();  // join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a pool thread; once join() began, runs nothing more.
  void post(std::function<void()> task);
  // Runs what is queued, then ends every thread and waits for it.
  void join();

  std::size_t threads() const;       // alive now
  std::size_t peak_threads() const;  // most alive at once so far

  // api::WaitObserver, for the pool's own threads.
  void wait_began() override;
  void wait_ended() override;

 private:
  void start_thread();  // mutex_ held
  void grow_if_starved();  // mutex_ held
  void run();

  const std::size_t core_;
  const std::size_t max_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;      // joined by join(); ended ones wait there
  std::vector<std::thread::id> ended_;    // threads that left run() and may be joined now
  std::size_t alive_ = 0;
  std::size_t idle_ = 0;     // alive and not running a task
  std::size_t waiting_ = 0;  // running a task that waits (inside an api::WaitScope)
  std::size_t peak_ = 0;
  bool joining_ = false;
};

}  // namespace sma::server
