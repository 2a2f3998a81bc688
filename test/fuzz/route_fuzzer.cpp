// parse_route on arbitrary request targets. Properties: it answers a Route or throws RouteError
// with 400 or 404, nothing else; every name in a parsed route passes lib/api/names.h (namespace,
// resource, object name unless "*", metric name, selector keys and values); and allowing legacy
// "type;name" object names only ever accepts more, never changes what an accepted target means.
#include <algorithm>
#include <exception>
#include <string>

#include "lib/api/names.h"
#include "lib/api/openapi_operations.h"
#include "lib/routing/api_route.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;

void check_name(const std::optional<std::string>& problem, std::string_view what, std::string_view target) {
  FUZZ_CHECK(!problem, std::string(what) + " accepted for " + printable(target) + ": " + problem.value_or(""));
}

void check_selector(const api::LabelSelector& selector, std::string_view target) {
  for (const auto& requirement : selector.requirements()) {
    check_name(api::check_label_key(requirement.key), "selector key", target);
    for (const auto& value : requirement.values) check_name(api::check_label_value(value), "selector value", target);
  }
}

void check_resource(const api::GroupResource& resource, std::string_view target) {
  check_name(api::check_resource_name(resource.to_string()), "resource", target);
  FUZZ_CHECK(api::GroupResource::parse(resource.to_string()) == resource, "resource does not round-trip: " + printable(target));
}

// An object name: a DNS subdomain, or with legacy names "type;name" with a known type.
void check_object(const std::string& name, bool legacy, std::string_view target) {
  auto semicolon = name.find(';');
  if (legacy && semicolon != std::string::npos) {
    FUZZ_CHECK(routing::is_legacy_workload_type(name.substr(0, semicolon)), "legacy type accepted: " + printable(target));
    check_name(api::check_object_name(name.substr(semicolon + 1)), "legacy object name", target);
    return;
  }
  check_name(api::check_object_name(name), "object name", target);
}

// The object of a read or write: "namespaces/{ns}/metrics/{m}" addresses the namespace object
// (root scope, resource namespaces, name = the namespace).
void check_object_query(const providers::ObjectQuery& q, bool legacy, std::string_view target) {
  if (!q.namespace_.empty()) check_name(api::check_namespace_name(q.namespace_), "namespace", target);
  check_resource(q.resource, target);
  FUZZ_CHECK(q.name != "*", "a named-object route for \"*\": " + printable(target));
  if (q.namespace_.empty() && q.resource == api::GroupResource{"namespaces", ""}) {
    check_name(api::check_namespace_name(q.name), "namespace object name", target);
  } else {
    check_object(q.name, legacy, target);
  }
  check_name(api::check_metric_name(q.metric), "metric", target);
  check_selector(q.metric_selector, target);
}

void check_route(const routing::Route& route, bool legacy, std::string_view target) {
  if (const auto* r = std::get_if<routing::ObjectRoute>(&route)) {
    check_object_query(r->query, legacy, target);
  } else if (const auto* r = std::get_if<routing::SelectorRoute>(&route)) {
    const auto& q = r->query;
    if (!q.namespace_.empty()) check_name(api::check_namespace_name(q.namespace_), "namespace", target);
    check_resource(q.resource, target);
    check_name(api::check_metric_name(q.metric), "metric", target);
    check_selector(q.object_selector, target);
    check_selector(q.metric_selector, target);
  } else if (const auto* r = std::get_if<routing::ExternalRoute>(&route)) {
    check_name(api::check_namespace_name(r->query.namespace_), "external namespace", target);
    check_name(api::check_metric_name(r->query.metric), "external metric", target);
    check_selector(r->query.metric_selector, target);
  } else if (const auto* r = std::get_if<routing::WriteObjectRoute>(&route)) {
    check_object_query(r->target, /*legacy=*/false, target);  // writes never take legacy names
  } else if (const auto* r = std::get_if<routing::WriteExternalRoute>(&route)) {
    check_name(api::check_namespace_name(r->namespace_), "write namespace", target);
    check_name(api::check_metric_name(r->metric), "write metric", target);
  } else if (const auto* r = std::get_if<routing::OpenApiV3Route>(&route)) {
    const auto& known = api::openapi_v3_documents();
    FUZZ_CHECK(std::find(known.begin(), known.end(), r->document) != known.end(),
               "an OpenAPI document that does not exist routed for " + printable(target));
  } else if (const auto* r = std::get_if<routing::HealthRoute>(&route)) {
    FUZZ_CHECK(r->check == "healthz" || r->check == "livez" || r->check == "readyz", "health check " + printable(r->check));
  }
  auto method = routing::allowed_method(route);
  bool write = std::holds_alternative<routing::WriteObjectRoute>(route) ||
               std::holds_alternative<routing::WriteExternalRoute>(route);
  FUZZ_CHECK(method == (write ? "POST" : "GET"), "method for " + printable(target));
}

// The route, or the RouteError code; any other exception is a violation.
std::optional<routing::Route> parse(std::string_view target, bool legacy, int& code) {
  routing::RouteOptions options;
  options.legacy_workload_names = legacy;
  try {
    auto route = routing::parse_route(target, options);
    check_route(route, legacy, target);
    return route;
  } catch (const routing::RouteError& e) {
    code = e.code();
    FUZZ_CHECK(code == 400 || code == 404, "RouteError " + std::to_string(code) + " for " + printable(target));
    FUZZ_CHECK(*e.what() != '\0', "empty RouteError message for " + printable(target));
    return std::nullopt;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("unexpected exception: ") + e.what() + " for " + printable(target));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target = fuzz::as_text(data, size);
  int strict_code = 0, legacy_code = 0;
  auto strict = parse(target, false, strict_code);
  auto legacy = parse(target, true, legacy_code);
  if (strict) {
    FUZZ_CHECK(legacy && legacy->index() == strict->index(),
               "legacy names changed the route of " + printable(target));
  } else if (!legacy) {
    const bool may_hold_semicolon = target.find(';') != std::string_view::npos || target.find('%') != std::string_view::npos;
    FUZZ_CHECK(strict_code == legacy_code || may_hold_semicolon,
               "legacy names changed the error of " + printable(target));
  }
  return 0;
}
