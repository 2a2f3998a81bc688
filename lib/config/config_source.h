// The configuration in force, swapped whole when the rules file is reloaded. Readers take one
// snapshot per request, so a request never sees half of an old and half of a new configuration.
#pragma once

#include <memory>
#include <mutex>

#include "lib/config/adapter_config.h"

namespace sma::config {

class ConfigSource {
 public:
  explicit ConfigSource(std::shared_ptr<const AdapterConfig> initial) : current_(std::move(initial)) {}

  std::shared_ptr<const AdapterConfig> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const AdapterConfig> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const AdapterConfig> current_;
};

}  // namespace sma::config
