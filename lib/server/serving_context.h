// What the server and every connection it accepted share, and the bookkeeping stop() relies on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "lib/server/https_server.h"
#include "lib/server/worker_pool.h"

namespace sma::server {

class HttpsConnection;

// Counts handler calls running on the worker pool, so stop() can let them finish.
class InFlightHandlers {
 public:
  void begin();
  void end();
  // Waits until no handler runs or `limit` passed; true when none runs.
  bool wait_until_idle(std::chrono::milliseconds limit);

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

// The live connections, so stop() can close them.
class ConnectionRegistry {
 public:
  // Once close_all() ran, a connection added late is told to shut down at once.
  void add(const std::shared_ptr<HttpsConnection>& connection);
  void remove(const HttpsConnection* connection);
  // Tells every connection to shut down (see HttpsConnection::shutdown).
  void close_all();

 private:
  std::mutex mutex_;
  std::unordered_map<const HttpsConnection*, std::weak_ptr<HttpsConnection>> live_;
  bool closed_ = false;
};

struct ServingContext {
  ServingContext(HttpsServerOptions options_in, RequestHandler handler_in,
                 WorkerPool& workers_in)
      : options(std::move(options_in)), handler(std::move(handler_in)), workers(workers_in) {}

  const HttpsServerOptions options;
  const RequestHandler handler;
  WorkerPool& workers;  // where handlers run; outlives the context
  InFlightHandlers in_flight;
  ConnectionRegistry connections;
};

}  // namespace sma::server
