#include "lib/routing/api_route.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "lib/api/names.h"
#include "lib/api/openapi_operations.h"
#include "lib/routing/url_decoding.h"

namespace sma::routing {
namespace {

constexpr std::size_t kMaxPathSegments = 16;

[[noreturn]] void not_found() { throw RouteError(404, "the server could not find the requested resource"); }

[[noreturn]] void bad_request(const std::string& message) { throw RouteError(400, message); }

// Splits "/a/b%2Ac/" into decoded segments {"a", "b*c"}; one trailing slash is tolerated.
std::vector<std::string> split_path(std::string_view path) {
  if (path.empty() || path.front() != '/') bad_request("request path must start with '/'");
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> segments;
  if (path.empty()) return segments;
  while (true) {
    auto slash = path.find('/');
    std::string_view raw = path.substr(0, slash);
    if (raw.empty()) not_found();
    auto decoded = percent_decode(raw, false);
    if (!decoded) bad_request("request path has a malformed percent-encoding");
    segments.push_back(std::move(*decoded));
    if (segments.size() > kMaxPathSegments) not_found();
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void require_valid(const std::optional<std::string>& problem) {
  if (problem) bad_request(*problem);
}

std::string checked_namespace(const std::string& ns) {
  require_valid(api::check_namespace_name(ns));
  return ns;
}

std::string checked_metric(const std::string& metric) {
  require_valid(api::check_metric_name(metric));
  return metric;
}

api::GroupResource checked_resource(const std::string& resource) {
  require_valid(api::check_resource_name(resource));
  return api::GroupResource::parse(resource);
}

api::LabelSelector selector_param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return {};
  try {
    return api::LabelSelector::parse(it->second);
  } catch (const api::SelectorError& e) {
    bad_request(name + ": " + e.what());
  }
}

// An object name, or with legacy names allowed, "type;name" as the old Sysdig adapter's HPAs wrote it.
void check_object_name(const std::string& name, const RouteOptions& options) {
  auto semicolon = name.find(';');
  if (semicolon == std::string::npos) {
    require_valid(api::check_object_name(name));
    return;
  }
  if (!options.legacy_workload_names) {
    bad_request("object name \"" + name +
                "\" has the old adapter's \"type;name\" form; start the adapter with --legacy-workload-names to "
                "accept it, or name the object itself");
  }
  std::string type = name.substr(0, semicolon);
  if (!is_legacy_workload_type(type)) {
    bad_request("workload type \"" + type +
                "\" in \"" + name + "\" is not one of deployment, statefulset, daemonset, replicaset, job, cronjob");
  }
  require_valid(api::check_object_name(name.substr(semicolon + 1)));
}

// {resource}/{name}/{metric} below an optional namespace, for reads and writes alike.
struct ObjectPath {
  std::string namespace_;
  api::GroupResource resource;
  std::string name;  // "*" for a selector
  std::string metric;
};

// Reads the segments after the group version (or after /write-metrics); nullopt if no shape fits.
std::optional<ObjectPath> parse_object_path(const std::vector<std::string>& s, std::size_t i,
                                            const RouteOptions& options) {
  std::size_t n = s.size() - i;
  if (n == 4 && s[i] == "namespaces" && s[i + 2] == "metrics") {
    // The namespace object itself: Kubernetes addresses it as the root-scoped object {ns}.
    return ObjectPath{"", {"namespaces", ""}, checked_namespace(s[i + 1]), checked_metric(s[i + 3])};
  }
  if (n == 5 && s[i] == "namespaces") {
    ObjectPath p{checked_namespace(s[i + 1]), checked_resource(s[i + 2]), s[i + 3], checked_metric(s[i + 4])};
    if (p.name != "*") check_object_name(p.name, options);
    return p;
  }
  if (n == 3) {
    ObjectPath p{"", checked_resource(s[i]), s[i + 1], checked_metric(s[i + 2])};
    if (p.name != "*") {
      if (p.resource == api::GroupResource{"namespaces", ""}) {
        require_valid(api::check_namespace_name(p.name));
      } else {
        check_object_name(p.name, options);
      }
    }
    return p;
  }
  return std::nullopt;
}

api::CustomApiVersion custom_version(const std::string& v) {
  if (v == "v1beta1") return api::CustomApiVersion::V1Beta1;
  if (v == "v1beta2") return api::CustomApiVersion::V1Beta2;
  not_found();
}

Route custom_route(const std::vector<std::string>& s, const std::map<std::string, std::string>& params,
                   const RouteOptions& options) {
  // s = {"apis", "custom.metrics.k8s.io", ...}
  if (s.size() == 2) return GroupRoute{MetricsGroup::Custom};
  auto version = custom_version(s[2]);
  if (s.size() == 3) return ResourceListRoute{MetricsGroup::Custom, version};
  auto path = parse_object_path(s, 3, options);
  if (!path) not_found();
  auto metric_selector = selector_param(params, "metricLabelSelector");
  if (path->name == "*") {
    return SelectorRoute{version,
                         {path->namespace_, path->resource, selector_param(params, "labelSelector"), path->metric,
                          std::move(metric_selector), {}}};  // the deadline comes from the handler
  }
  return ObjectRoute{version,
                     {path->namespace_, path->resource, path->name, path->metric, std::move(metric_selector), {}}};
}

Route external_route(const std::vector<std::string>& s, const std::map<std::string, std::string>& params) {
  if (s.size() == 2) return GroupRoute{MetricsGroup::External};
  if (s[2] != "v1beta1") not_found();
  if (s.size() == 3) return ResourceListRoute{MetricsGroup::External, api::CustomApiVersion::V1Beta1};
  if (s.size() != 6 || s[3] != "namespaces") not_found();
  return ExternalRoute{{checked_namespace(s[4]), checked_metric(s[5]), selector_param(params, "labelSelector"), {}}};
}

Route write_object_route(const std::vector<std::string>& s) {
  auto path = parse_object_path(s, 1, RouteOptions{});
  if (!path) not_found();
  if (path->name == "*") bad_request("a value is written for one named object, not for \"*\"");
  return WriteObjectRoute{{path->namespace_, path->resource, path->name, path->metric, {}, {}}};
}

// /openapi/v2, /openapi/v3 and /openapi/v3/<document>: only the documents that exist are routes.
Route openapi_route(const std::vector<std::string>& s, const std::map<std::string, std::string>& params) {
  if (s.size() == 2 && s[1] == "v2") return OpenApiV2Route{};
  if (s.size() < 2 || s[1] != "v3") not_found();
  if (s.size() == 2) return OpenApiV3DiscoveryRoute{};
  std::string document;
  for (std::size_t i = 2; i < s.size(); ++i) {
    if (s[i].find('/') != std::string::npos) not_found();  // an encoded '/' stays inside its segment
    document += (i == 2 ? "" : "/") + s[i];
  }
  const auto& known = api::openapi_v3_documents();
  if (std::find(known.begin(), known.end(), document) == known.end()) not_found();
  auto hash = params.find("hash");
  return OpenApiV3Route{std::move(document), hash == params.end() ? std::string() : hash->second};
}

Route write_external_route(const std::vector<std::string>& s) {
  if (s.size() != 4 || s[1] != "namespaces") not_found();
  return WriteExternalRoute{checked_namespace(s[2]), checked_metric(s[3])};
}

}  // namespace

bool is_legacy_workload_type(std::string_view type) {
  for (auto known : {"deployment", "statefulset", "daemonset", "replicaset", "job", "cronjob"}) {
    if (type == known) return true;
  }
  return false;
}

Route parse_route(std::string_view target, const RouteOptions& options) {
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  auto segments = split_path(path);
  if (segments.empty()) not_found();
  if (segments.size() == 1 && (segments[0] == "healthz" || segments[0] == "livez" || segments[0] == "readyz")) {
    return HealthRoute{segments[0]};
  }
  if (segments.size() == 1 && segments[0] == "metrics") return SelfMetricsRoute{};

  auto params = parse_query(query);
  if (!params) bad_request("request query string has a malformed percent-encoding");

  if (segments[0] == "apis") {
    if (segments.size() == 1) return GroupListRoute{};
    if (segments[1] == api::kCustomMetricsGroup) return custom_route(segments, *params, options);
    if (segments[1] == api::kExternalMetricsGroup) return external_route(segments, *params);
    not_found();
  }
  if (segments[0] == "openapi") return openapi_route(segments, *params);
  if (segments[0] == "write-metrics") return write_object_route(segments);
  if (segments[0] == "write-external-metrics") return write_external_route(segments);
  not_found();
}

std::string_view allowed_method(const Route& route) {
  if (std::holds_alternative<WriteObjectRoute>(route) || std::holds_alternative<WriteExternalRoute>(route)) {
    return "POST";
  }
  return "GET";
}

}  // namespace sma::routing
