#include "lib/server/worker_pool.h"

#include <algorithm>
#include <utility>

namespace sma::server {

WorkerPool::WorkerPool(std::size_t core, std::size_t max, std::chrono::milliseconds idle_exit)
    : core_(std::max<std::size_t>(1, core)), max_(std::max(max, std::max<std::size_t>(1, core))),
      idle_exit_(idle_exit) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < core_; ++i) start_thread();
}

WorkerPool::~WorkerPool() { join(); }

void WorkerPool::start_thread() {
  // Threads that ended since are joined here, so the list stays as long as the pool is wide. Each
  // has left run() already; joining it only waits for its last instructions.
  for (std::thread::id id : ended_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [id](const std::thread& t) { return t.get_id() == id; });
    if (it != threads_.end()) {
      it->join();
      threads_.erase(it);
    }
  }
  ended_.clear();
  ++alive_;
  ++idle_;  // counted idle from now: a task posted before it first waits is its to take
  peak_ = std::max(peak_, alive_);
  threads_.emplace_back([this] { run(); });
}

void WorkerPool::grow_if_starved() {
  // Threads not waiting compute or are about to take a queued task: fewer than `core` of them, with
  // work no idle thread will take, means the waiting ones starve the queue.
  const std::size_t not_waiting = alive_ - waiting_;
  if (queue_.size() > idle_ && not_waiting < core_ && alive_ < max_) start_thread();
}

void WorkerPool::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (joining_) return;
  queue_.push_back(std::move(task));
  work_.notify_one();
  grow_if_starved();
}

void WorkerPool::wait_began() {
  std::lock_guard lock(mutex_);
  ++waiting_;
  if (!joining_) grow_if_starved();
}

void WorkerPool::wait_ended() {
  std::lock_guard lock(mutex_);
  --waiting_;
}

void WorkerPool::run() {
  api::observe_waits(this);
  std::unique_lock lock(mutex_);
  for (;;) {
    bool woken = work_.wait_for(lock, idle_exit_, [this] { return !queue_.empty() || joining_; });
    if (queue_.empty()) {
      if (joining_ || (!woken && alive_ > core_)) break;
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    --idle_;
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task's failure is its own (handlers answer their errors); the thread goes on serving.
    }
    task = nullptr;  // what the task holds goes before the next wait
    lock.lock();
    ++idle_;
  }
  --idle_;
  --alive_;
  if (!joining_) ended_.push_back(std::this_thread::get_id());
}

void WorkerPool::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    joining_ = true;
    threads.swap(threads_);
    ended_.clear();
  }
  work_.notify_all();
  for (std::thread& thread : threads) {
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return alive_;
}

std::size_t WorkerPool::peak_threads() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

}  // namespace sma::server
