#include "providers/backend_slots.h"

#include <string>

#include "lib/telemetry/self_metrics.h"
#include "providers/provider.h"

namespace sma::providers {

BackendSlots::BackendSlots(std::size_t capacity) : capacity_(capacity) {}

BackendSlots::Slot& BackendSlots::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

BackendSlots::Slot::~Slot() {
  if (owner_ != nullptr) owner_->release();
}

BackendSlots::Slot BackendSlots::acquire(const api::Deadline& deadline) {
  if (capacity_ == 0) return Slot();
  std::unique_lock lock(mutex_);
  // Nobody jumps the line: a free slot is taken at once only when no one is waiting for one.
  if (in_use_ < capacity_ && waiting_.empty()) {
    ++in_use_;
    return Slot(this);
  }
  Waiter me;
  auto place = waiting_.insert(waiting_.end(), &me);
  auto& metrics = telemetry::SelfMetrics::instance();
  metrics.backend_call_waiting(+1);
  auto granted = [&me] { return me.granted; };
  bool got = true;
  if (!deadline.bounded()) {
    me.wake.wait(lock, granted);
  } else {
    got = me.wake.wait_until(lock, deadline.when(), granted);
  }
  metrics.backend_call_waiting(-1);
  if (got) return Slot(this);  // release() handed its slot over: in_use_ already counts it
  waiting_.erase(place);
  lock.unlock();
  metrics.backend_slot_refused();
  throw MetricsError(MetricsError::Kind::Unavailable,
                     "no backend call slot came free within the request's deadline: all " + std::to_string(capacity_) +
                         " (--max-backend-concurrency) are taken by calls to slow backends; try again later");
}

void BackendSlots::release() {
  std::lock_guard lock(mutex_);
  if (waiting_.empty()) {
    --in_use_;
    return;
  }
  // Hand the slot straight to the oldest waiter, so a newcomer cannot take it first.
  Waiter* next = waiting_.front();
  waiting_.pop_front();
  next->granted = true;
  next->wake.notify_one();
}

std::size_t BackendSlots::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::size_t BackendSlots::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace sma::providers
