#include "lib/server/serving_context.h"

#include <vector>

#include "lib/server/https_connection.h"

namespace sma::server {

void InFlightHandlers::begin() {
  std::lock_guard lock(mutex_);
  ++count_;
}

void InFlightHandlers::end() {
  std::lock_guard lock(mutex_);
  if (--count_ == 0) idle_.notify_all();
}

bool InFlightHandlers::wait_until_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, limit, [this] { return count_ == 0; });
}

void ConnectionRegistry::add(const std::shared_ptr<HttpsConnection>& connection) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      live_.emplace(connection.get(), connection);
      return;
    }
  }
  connection->shutdown();
}

void ConnectionRegistry::remove(const HttpsConnection* connection) {
  std::lock_guard lock(mutex_);
  live_.erase(connection);
}

void ConnectionRegistry::close_all() {
  // Shut down outside the lock: dropping the last reference runs a destructor that calls remove().
  std::vector<std::shared_ptr<HttpsConnection>> connections;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    connections.reserve(live_.size());
    for (auto& entry : live_) {
      if (auto alive = entry.second.lock()) connections.push_back(std::move(alive));
    }
  }
  for (auto& connection : connections) connection->shutdown();
}

}  // namespace sma::server
