// A small plain-HTTP listener for kubelet probes and Prometheus scraping (--metrics-bind-address).
// One request per connection, bounded header size and read time; it serves whatever the handler
// answers, and the caller decides which paths that is (health and /metrics only).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lib/server/https_server.h"

namespace sma::server {

class PlainHttpServer {
 public:
  PlainHttpServer(std::string bind_address, std::uint16_t port, RequestHandler handler);
  ~PlainHttpServer();
  PlainHttpServer(const PlainHttpServer&) = delete;
  PlainHttpServer& operator=(const PlainHttpServer&) = delete;

  // Binds and starts; throws std::runtime_error with a one-line reason.
  void start();
  std::uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sma::server
