// The metrics API front: request target -> route -> provider call -> JSON document, and the one
// place where every failure becomes a Kubernetes Status with its HTTP code.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "lib/routing/api_route.h"
#include "lib/server/https_server.h"
#include "providers/provider.h"

namespace sma::apiserver {
using server::HttpRequest;
using server::HttpResponse;

class ApiHandler {
 public:
  // writer may be null: then the write routes answer 404, as if they did not exist.
  // request_timeout bounds each metrics request from `received` on (0: no deadline); past it the
  // answer is 504 Timeout.
  ApiHandler(providers::MetricsProvider& provider, providers::MetricsWriter* writer,
             routing::RouteOptions route_options = {},
             std::chrono::milliseconds request_timeout = std::chrono::milliseconds(0));

  HttpResponse handle(const HttpRequest& request,
                      std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now());

  // /readyz answers 200 only while ready: after configuration is loaded and before shutdown.
  void set_ready(bool ready) { ready_ = ready; }
  // A further condition of /readyz, named `name`: returns why the adapter is not ready, or empty.
  // Set before serving; called on every /readyz.
  void set_readiness_check(std::string name, std::function<std::string()> problem) {
    readiness_check_name_ = std::move(name);
    readiness_check_ = std::move(problem);
  }

 private:
  providers::MetricsProvider& provider_;
  providers::MetricsWriter* writer_;
  routing::RouteOptions route_options_;
  std::chrono::milliseconds request_timeout_;
  std::atomic<bool> ready_{false};
  std::string readiness_check_name_;
  std::function<std::string()> readiness_check_;
};

}  // namespace sma::apiserver
