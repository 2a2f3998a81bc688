// A small time-bounded cache for review answers (TokenReview, SubjectAccessReview): both positive
// and negative answers are kept for the TTL, so a burst of HPA requests costs one review.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sma::auth {

template <typename Value>
class TtlCache {
 public:
  using Clock = std::chrono::steady_clock;

  TtlCache(std::chrono::milliseconds ttl, std::size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

  std::optional<Value> get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (Clock::now() >= it->second.expires) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  void put(const std::string& key, Value value) {
    if (ttl_.count() <= 0) return;
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    if (entries_.size() >= max_entries_) {
      std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires; });
      if (entries_.size() >= max_entries_) entries_.clear();  // bounded memory beats a perfect hit rate
    }
    entries_[key] = Entry{std::move(value), now + ttl_};
  }

 private:
  struct Entry {
    Value value;
    Clock::time_point expires;
  };
  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace sma::auth
