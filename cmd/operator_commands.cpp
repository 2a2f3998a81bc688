#include "cmd/operator_commands.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "cmd/backend_set.h"
#include "cmd/cluster_connection.h"
#include "lib/apiserver/api_handler.h"
#include "lib/routing/api_route.h"
#include "providers/exec/exec_call.h"

namespace sma::cmd {
namespace {

// An empty but well-formed answer in the format of the API that was asked, so the provider runs
// its whole path without anything leaving the machine.
http::FetchResult empty_answer(const http::OutgoingRequest& request) {
  http::FetchResult result;
  result.status = 200;
  result.content_type = "application/json";
  if (request.method == providers::exec::kExecMethod) {
    // An exec rule's command prints nothing for an object, an empty list otherwise; it is not run.
    result.body = request.body.find(R"("kind":"object")") != std::string::npos ? "" : R"({"items":[]})";
  } else if (request.url.find("/api/data") != std::string::npos) {
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

routing::RouteOptions route_options(const AdapterOptions& options) {
  routing::RouteOptions r;
  r.legacy_workload_names = options.legacy_workload_names;
  return r;
}

// The computed rule serving the metric of a read path, or null.
const config::MetricRule* computed_rule(const config::AdapterConfig& config, const std::string& api_path,
                                        const routing::RouteOptions& options) {
  std::optional<config::ResolvedRule> resolved;
  try {
    auto route = routing::parse_route(api_path, options);
    if (auto* r = std::get_if<routing::ObjectRoute>(&route)) resolved = config.resolve_custom(r->query.metric, r->query.resource);
    if (auto* r = std::get_if<routing::SelectorRoute>(&route)) resolved = config.resolve_custom(r->query.metric, r->query.resource);
    if (auto* r = std::get_if<routing::ExternalRoute>(&route)) resolved = config.resolve_external(r->query.metric);
  } catch (const routing::RouteError&) {
    return nullptr;  // the handler says what is wrong with the path
  }
  return resolved && resolved->rule && resolved->rule->expr ? resolved->rule : nullptr;
}

// The same path for another metric: the metric is its last segment.
std::string with_metric(const std::string& api_path, const std::string& metric) {
  std::size_t query = api_path.find('?');
  std::string path = api_path.substr(0, query);
  std::size_t slash = path.rfind('/');
  return path.substr(0, slash + 1) + metric + (query == std::string::npos ? "" : api_path.substr(query));
}

// Prints the backend requests a read path becomes. A computed metric's path becomes no request of
// its own: its expression tree is printed, then each operand's path and requests (operands may be
// computed too; cycles are refused when the rules load).
class Explainer {
 public:
  Explainer(BackendSet& backends, const routing::RouteOptions& options, std::mutex& mutex,
            std::vector<http::OutgoingRequest>& captured)
      : backends_(backends), handler_(backends.provider(), backends.writer(), options), options_(options),
        mutex_(mutex), captured_(captured) {}

  int explain(const std::string& api_path, std::ostream& out, std::ostream& err) {
    if (const auto* rule = computed_rule(*backends_.config(), api_path, options_)) {
      const auto& expression = *rule->expr;
      out << "computed metric " << rule->metric << " (rule at " << backends_.config()->source << ":" << rule->line
          << "): " << expression.text() << "\n"
          << expression.tree();
      int status = 0;
      for (const auto& operand : expression.operands()) {
        std::string path = with_metric(api_path, operand);
        out << "\noperand " << operand << ": " << path << "\n";
        status = std::max(status, explain(path, out, err));
      }
      return status;
    }
    {
      std::lock_guard lock(mutex_);
      captured_.clear();
    }
    auto response = handler_.handle(api_get(api_path));
    std::lock_guard lock(mutex_);
    if (captured_.empty()) {
      err << "no backend request: the adapter answers this path itself (" << response.status << ")\n"
          << response.body;
      return response.status == 200 ? 0 : 1;
    }
    for (std::size_t i = 0; i < captured_.size(); ++i) {
      if (i > 0) out << "\n";
      print_request(captured_[i], out);
    }
    return 0;
  }

 private:
  BackendSet& backends_;
  apiserver::ApiHandler handler_;
  routing::RouteOptions options_;
  std::mutex& mutex_;
  std::vector<http::OutgoingRequest>& captured_;
};

}  // namespace

server::HttpRequest api_get(const std::string& path) {
  server::HttpRequest request;
  request.method = "GET";
  request.target = path;
  request.peer = std::make_shared<server::PeerCertificates>();
  return request;
}

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
    Explainer explainer(backends, route_options(options), mutex, captured);
    return explainer.explain(api_path, out, err);
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
