// The cap on concurrent calls to metrics backends (--max-backend-concurrency), shared by every
// backend of the process. Without it a slow backend ties up one worker thread and one socket per
// waiting request, without bound. A call that finds every slot busy waits in line (first come,
// first served), but never past its request's deadline: then it fails as Unavailable (503), never
// with a made-up value. Sits below the value cache, so cached and coalesced answers take no slot.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <list>
#include <mutex>

#include "lib/api/deadline.h"

namespace sma::providers {

class BackendSlots {
 public:
  // capacity 0: no cap (acquire never waits).
  explicit BackendSlots(std::size_t capacity);
  BackendSlots(const BackendSlots&) = delete;
  BackendSlots& operator=(const BackendSlots&) = delete;

  // Held for the duration of one backend call; gives the slot back (to the next in line) when it
  // goes out of scope.
  class Slot {
   public:
    Slot() = default;
    explicit Slot(BackendSlots* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    BackendSlots* owner_ = nullptr;
  };

  // A free slot, or the first one freed before `deadline`. Throws MetricsError(Unavailable) when
  // none is free in time.
  Slot acquire(const api::Deadline& deadline);

  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const;
  std::size_t waiting() const;

 private:
  struct Waiter {
    std::condition_variable wake;
    bool granted = false;
  };
  void release();

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::size_t in_use_ = 0;      // guarded by mutex_
  std::list<Waiter*> waiting_;  // guarded by mutex_; oldest first
};

}  // namespace sma::providers
