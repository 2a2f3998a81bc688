#include <catch2/catch.hpp>

#include "lib/routing/api_route.h"

using namespace sma;
using routing::parse_route;

namespace {

template <typename T>
T route_as(std::string_view target) {
  auto route = parse_route(target);
  REQUIRE(std::holds_alternative<T>(route));
  return std::get<T>(route);
}

int error_code(std::string_view target) {
  try {
    parse_route(target);
  } catch (const routing::RouteError& e) {
    return e.code();
  }
  return 0;
}

std::string error_message(std::string_view target) {
  try {
    parse_route(target);
  } catch (const routing::RouteError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("discovery paths") {
  route_as<routing::GroupListRoute>("/apis");
  route_as<routing::GroupListRoute>("/apis/");
  CHECK(route_as<routing::GroupRoute>("/apis/custom.metrics.k8s.io").group == routing::MetricsGroup::Custom);
  CHECK(route_as<routing::GroupRoute>("/apis/external.metrics.k8s.io/").group == routing::MetricsGroup::External);
  auto v2 = route_as<routing::ResourceListRoute>("/apis/custom.metrics.k8s.io/v1beta2");
  CHECK(v2.group == routing::MetricsGroup::Custom);
  CHECK(v2.version == api::CustomApiVersion::V1Beta2);
  CHECK(route_as<routing::ResourceListRoute>("/apis/custom.metrics.k8s.io/v1beta1/").version ==
        api::CustomApiVersion::V1Beta1);
  CHECK(route_as<routing::ResourceListRoute>("/apis/external.metrics.k8s.io/v1beta1").group ==
        routing::MetricsGroup::External);
}

TEST_CASE("namespaced object path") {
  auto r = route_as<routing::ObjectRoute>("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/services/kuard/"
                                          "net.http.request.count");
  CHECK(r.version == api::CustomApiVersion::V1Beta1);
  CHECK(r.query.namespace_ == "default");
  CHECK(r.query.resource == api::GroupResource{"services", ""});
  CHECK(r.query.name == "kuard");
  CHECK(r.query.metric == "net.http.request.count");
  CHECK(r.query.metric_selector.empty());
}

TEST_CASE("group-qualified resource") {
  auto r = route_as<routing::ObjectRoute>(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/ingresses.networking.k8s.io/web/requests");
  CHECK(r.query.resource == api::GroupResource{"ingresses", "networking.k8s.io"});
}

TEST_CASE("star and %2A select by label") {
  for (auto star : {"*", "%2A", "%2a"}) {
    auto r = route_as<routing::SelectorRoute>(std::string("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/") +
                                              star + "/http_requests?labelSelector=app%3Dkuard&metricLabelSelector=verb%3DGET");
    CHECK(r.query.namespace_ == "default");
    CHECK(r.query.resource.resource == "pods");
    CHECK(r.query.metric == "http_requests");
    CHECK(r.query.object_selector.matches({{"app", "kuard"}}));
    CHECK_FALSE(r.query.object_selector.matches({{"app", "other"}}));
    CHECK(r.query.metric_selector.matches({{"verb", "GET"}}));
    CHECK_FALSE(r.query.metric_selector.matches({{"verb", "PUT"}}));
  }
}

TEST_CASE("root-scoped objects and selectors") {
  auto r = route_as<routing::ObjectRoute>("/apis/custom.metrics.k8s.io/v1beta1/nodes/node-1/load");
  CHECK(r.query.namespace_.empty());
  CHECK(r.query.resource.resource == "nodes");
  CHECK(r.query.name == "node-1");
  auto s = route_as<routing::SelectorRoute>("/apis/custom.metrics.k8s.io/v1beta1/nodes/*/load");
  CHECK(s.query.namespace_.empty());
  CHECK(s.query.object_selector.empty());
}

TEST_CASE("namespace metric addresses the namespace object") {
  auto r = route_as<routing::ObjectRoute>("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/metrics/queue");
  CHECK(r.query.namespace_.empty());
  CHECK(r.query.resource == api::GroupResource{"namespaces", ""});
  CHECK(r.query.name == "team-a");
  CHECK(r.query.metric == "queue");
}

TEST_CASE("external metric path") {
  auto r = route_as<routing::ExternalRoute>(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%20in%20(a,b)");
  CHECK(r.query.namespace_ == "default");
  CHECK(r.query.metric == "queue_depth");
  CHECK(r.query.metric_selector.matches({{"queue", "b"}}));
  CHECK_FALSE(r.query.metric_selector.matches({{"queue", "c"}}));
}

TEST_CASE("write paths") {
  auto w = route_as<routing::WriteObjectRoute>("/write-metrics/namespaces/default/pods/p-1/m");
  CHECK(w.target.namespace_ == "default");
  CHECK(w.target.name == "p-1");
  auto root = route_as<routing::WriteObjectRoute>("/write-metrics/nodes/n/m");
  CHECK(root.target.namespace_.empty());
  auto ns = route_as<routing::WriteObjectRoute>("/write-metrics/namespaces/default/metrics/m");
  CHECK(ns.target.resource.resource == "namespaces");
  CHECK(ns.target.name == "default");
  auto ext = route_as<routing::WriteExternalRoute>("/write-external-metrics/namespaces/default/q");
  CHECK(ext.namespace_ == "default");
  CHECK(ext.metric == "q");
  CHECK(routing::allowed_method(parse_route("/write-metrics/nodes/n/m")) == "POST");
  CHECK(routing::allowed_method(parse_route("/apis")) == "GET");
}

TEST_CASE("health paths") {
  CHECK(route_as<routing::HealthRoute>("/healthz").check == "healthz");
  CHECK(route_as<routing::HealthRoute>("/readyz").check == "readyz");
  CHECK(route_as<routing::HealthRoute>("/livez?verbose").check == "livez");
}

TEST_CASE("unknown shapes are 404") {
  for (auto target : {"/", "/api", "/apis/custom.metrics.k8s.io/v2", "/apis/metrics.k8s.io/v1beta1",
                      "/apis/custom.metrics.k8s.io/v1beta1/pods", "/apis/custom.metrics.k8s.io/v1beta1/a/b/c/d",
                      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/a/b/c/d/e/f",
                      "/apis/external.metrics.k8s.io/v1beta2", "/apis/external.metrics.k8s.io/v1beta1/q",
                      "/apis//custom.metrics.k8s.io", "/write-external-metrics/q"}) {
    INFO(target);
    CHECK(error_code(target) == 404);
  }
}

TEST_CASE("invalid names and selectors are 400 naming the problem") {
  const std::string base = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/";
  struct Case {
    std::string target;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {base + "NS/pods/p/m", "NS"},
      {base + "default/pods/p%22/m", "object name \"p\\\"\""},
      {base + "default/pods/p/m%7B", "m{"},
      {base + "default/pods/p/9m", "9m"},
      {base + "default/pods/%/m", "percent-encoding"},
      {base + "default/pods/*/m?labelSelector=a%3D%3D%3D", "labelSelector"},
      {base + "default/pods/*/m?metricLabelSelector=a%20in", "metricLabelSelector"},
      {base + "default/pods/p/m?labelSelector=%", "percent-encoding"},
      {"/write-metrics/namespaces/default/pods/*/m", "\"*\""},
      {"relative/path", "must start with '/'"},
  };
  for (const auto& c : cases) {
    INFO(c.target);
    CHECK(error_code(c.target) == 400);
    CHECK_THAT(error_message(c.target), Catch::Contains(c.fragment));
  }
}

TEST_CASE("an escaped slash stays inside its segment and is refused as a name") {
  CHECK(error_code("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/a%2Fb/m") == 400);
}

TEST_CASE("OpenAPI paths: /openapi/v2, /openapi/v3 and each v3 document that exists") {
  route_as<routing::OpenApiV2Route>("/openapi/v2");
  route_as<routing::OpenApiV2Route>("/openapi/v2?timeout=32s");
  route_as<routing::OpenApiV3DiscoveryRoute>("/openapi/v3");
  route_as<routing::OpenApiV3DiscoveryRoute>("/openapi/v3/");
  auto v1beta2 = route_as<routing::OpenApiV3Route>("/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=ABC01");
  CHECK(v1beta2.document == "apis/custom.metrics.k8s.io/v1beta2");
  CHECK(v1beta2.hash == "ABC01");
  auto group = route_as<routing::OpenApiV3Route>("/openapi/v3/apis/external.metrics.k8s.io");
  CHECK(group.document == "apis/external.metrics.k8s.io");
  CHECK(group.hash.empty());
  CHECK(route_as<routing::OpenApiV3Route>("/openapi/v3/apis/external.metrics.k8s.io/v1beta1").document ==
        "apis/external.metrics.k8s.io/v1beta1");
  CHECK(routing::allowed_method(parse_route("/openapi/v2")) == "GET");

  CHECK(error_code("/openapi") == 404);
  CHECK(error_code("/openapi/v1") == 404);
  CHECK(error_code("/openapi/v2/extra") == 404);
  CHECK(error_code("/openapi/v3/apis") == 404);  // the kube-apiserver's own /apis is the one described
  CHECK(error_code("/openapi/v3/apis/apps/v1") == 404);
  CHECK(error_code("/openapi/v3/apis/external.metrics.k8s.io/v1beta2") == 404);
  CHECK(error_code("/openapi/v3/apis/custom.metrics.k8s.io/v1beta2/x") == 404);
  CHECK(error_code("/openapi/v3/apis/custom.metrics.k8s.io%2Fv1beta2") == 404);  // an encoded '/' stays a name
  CHECK(error_code("/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=%zz") == 400);
}
