// Turns a request target into a typed route: which document or which provider query it asks for.
// Every name and selector is validated here, before anything can reach a backend.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "lib/api/api_json.h"
#include "providers/provider.h"

namespace sma::routing {

enum class MetricsGroup { Custom, External };

struct GroupListRoute {};                     // /apis
struct GroupRoute { MetricsGroup group; };    // /apis/custom.metrics.k8s.io
struct ResourceListRoute {                    // /apis/custom.metrics.k8s.io/v1beta2
  MetricsGroup group;
  api::CustomApiVersion version;  // V1Beta1 for external
};
struct ObjectRoute {
  api::CustomApiVersion version;
  providers::ObjectQuery query;
};
struct SelectorRoute {
  api::CustomApiVersion version;
  providers::SelectorQuery query;
};
struct ExternalRoute {
  providers::ExternalQuery query;
};
struct WriteObjectRoute {                     // POST /write-metrics/...
  providers::ObjectQuery target;
};
struct WriteExternalRoute {                   // POST /write-external-metrics/namespaces/{ns}/{metric}
  std::string namespace_;
  std::string metric;
};
struct HealthRoute {
  std::string check;  // "healthz", "livez" or "readyz"
};
struct SelfMetricsRoute {};                   // /metrics: the adapter's own Prometheus metrics
struct OpenApiV2Route {};                     // /openapi/v2: the Swagger 2.0 document
struct OpenApiV3DiscoveryRoute {};            // /openapi/v3: where each OpenAPI v3 document is
struct OpenApiV3Route {                       // /openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=...
  std::string document;  // "apis/custom.metrics.k8s.io/v1beta2", one of api::openapi_v3_documents()
  std::string hash;      // the hash parameter; empty when absent
};

using Route = std::variant<GroupListRoute, GroupRoute, ResourceListRoute, ObjectRoute, SelectorRoute,
                           ExternalRoute, WriteObjectRoute, WriteExternalRoute, HealthRoute, SelfMetricsRoute,
                           OpenApiV2Route, OpenApiV3DiscoveryRoute, OpenApiV3Route>;

// Thrown for a target that is not a route (404) or names something invalid (400).
class RouteError : public std::runtime_error {
 public:
  RouteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

struct RouteOptions {
  // Accept the old adapter's object names "deployment;kuard" (workload type ; workload name).
  bool legacy_workload_names = false;
};

// The workload types a legacy "type;name" object name may carry.
bool is_legacy_workload_type(std::string_view type);

// target is the raw request target: path plus optional query string, still percent-encoded.
Route parse_route(std::string_view target, const RouteOptions& options = {});

// The HTTP method a route accepts: "GET" for reads and health, "POST" for writes.
std::string_view allowed_method(const Route& route);

}  // namespace sma::routing
