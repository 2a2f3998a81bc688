#include "cmd/operator_commands.h"

#include <mutex>
#include <vector>

#include "cmd/backend_set.h"
#include "cmd/cluster_connection.h"
#include "lib/apiserver/api_handler.h"

namespace sma::cmd {
namespace {

// An empty but well-formed answer in the format of the API that was asked, so the provider runs
// its whole path without anything leaving the machine.
http::FetchResult empty_answer(const http::OutgoingRequest& request) {
  http::FetchResult result;
  result.status = 200;
  result.content_type = "application/json";
  if (request.url.find("/api/data") != std::string::npos) {
    result.body = R"({"start":0,"end":0,"data":[]})";
  } else if (request.url.find("/label/") != std::string::npos) {
    result.body = R"({"status":"success","data":[]})";
  } else if (request.url.find("/metrics/descriptors") != std::string::npos) {
    result.body = R"({"total":0,"offset":0,"metricDescriptors":[]})";
  } else {
    result.body = R"({"status":"success","data":{"resultType":"vector","result":[]}})";
  }
  return result;
}

void print_request(const http::OutgoingRequest& request, std::ostream& out) {
  out << request.method << " " << request.url << "\n";
  for (const auto& [name, value] : request.headers) {
    bool secret = name == "Authorization";
    out << name << ": " << (secret ? value.substr(0, value.find(' ') + 1) + "****" : value) << "\n";
  }
  if (!request.body.empty()) out << "\n" << request.body << "\n";
}

server::HttpRequest api_get(const std::string& path) {
  server::HttpRequest request;
  request.method = "GET";
  request.target = path;
  request.peer = std::make_shared<server::PeerCertificates>();
  return request;
}

routing::RouteOptions route_options(const AdapterOptions& options) {
  routing::RouteOptions r;
  r.legacy_workload_names = options.legacy_workload_names;
  return r;
}

}  // namespace

int run_explain(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err) {
  std::mutex mutex;
  std::vector<http::OutgoingRequest> captured;
  providers::Transport recorder = [&](const http::OutgoingRequest& request) {
    std::lock_guard lock(mutex);
    if (!request.follow_up) captured.push_back(request);  // what the path becomes, not a 404's own check
    return empty_answer(request);
  };
  try {
    auto kube = connect_kubernetes(options);
    BackendSet backends(options, kube.get(), recorder);
    apiserver::ApiHandler handler(backends.provider(), backends.writer(), route_options(options));
    auto response = handler.handle(api_get(api_path));
    std::lock_guard lock(mutex);
    if (captured.empty()) {
      err << "no backend request: the adapter answers this path itself (" << response.status << ")\n"
          << response.body;
      return response.status == 200 ? 0 : 1;
    }
    for (std::size_t i = 0; i < captured.size(); ++i) {
      if (i > 0) out << "\n";
      print_request(captured[i], out);
    }
    return 0;
  } catch (const std::exception& e) {
    err << "sysdig-metrics-adapter explain: " << e.what() << "\n";
    return 1;
  }
}

int run_query(const AdapterOptions& options, const std::string& api_path, std::ostream& out, std::ostream& err) {
  try {
    auto kube = connect_kubernetes(options);
    BackendSet backends(options, kube.get());
    apiserver::ApiHandler handler(backends.provider(), backends.writer(), route_options(options));
    auto response = handler.handle(api_get(api_path));
    (response.status == 200 ? out : err) << response.body;
    return response.status == 200 ? 0 : 1;
  } catch (const std::exception& e) {
    err << "sysdig-metrics-adapter query: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace sma::cmd
