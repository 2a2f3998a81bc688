#include <catch2/catch.hpp>

#include "lib/auth/request_attributes.h"

using sma::auth::request_attributes;

TEST_CASE("an object path is get on the resource with the metric as subresource") {
  auto a = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dx");
  CHECK(a.resource_request);
  CHECK(a.group == "custom.metrics.k8s.io");
  CHECK(a.version == "v1beta2");
  CHECK(a.namespace_ == "default");
  CHECK(a.resource == "pods");
  CHECK(a.name == "*");
  CHECK(a.subresource == "http_requests");
  CHECK(a.verb == "get");
}

TEST_CASE("%2A is decoded like the API server decodes it") {
  auto a = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/%2A/m");
  CHECK(a.name == "*");
}

TEST_CASE("a path that ends on a collection is list") {
  auto a = request_attributes("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth");
  CHECK(a.resource_request);
  CHECK(a.group == "external.metrics.k8s.io");
  CHECK(a.namespace_ == "default");
  CHECK(a.resource == "queue_depth");
  CHECK(a.name.empty());
  CHECK(a.verb == "list");
}

TEST_CASE("root-scoped objects and the namespace metric") {
  auto node = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/nodes/node-1/load");
  CHECK(node.namespace_.empty());
  CHECK(node.resource == "nodes");
  CHECK(node.name == "node-1");
  CHECK(node.subresource == "load");
  auto ns = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/metrics/queue");
  CHECK(ns.namespace_ == "team-a");
  CHECK(ns.resource == "metrics");
  CHECK(ns.name == "queue");
  CHECK(ns.verb == "get");
  auto nsobj = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a");
  CHECK(nsobj.resource == "namespaces");
  CHECK(nsobj.name == "team-a");
}

TEST_CASE("discovery, health and writes are non-resource requests") {
  for (auto path : {"/apis", "/apis/custom.metrics.k8s.io", "/apis/custom.metrics.k8s.io/v1beta2", "/metrics", "/healthz"}) {
    auto a = request_attributes("GET", path);
    INFO(path);
    CHECK_FALSE(a.resource_request);
    CHECK(a.path == path);
    CHECK(a.verb == "get");
  }
  auto write = request_attributes("POST", "/write-metrics/namespaces/default/pods/p/m");
  CHECK_FALSE(write.resource_request);
  CHECK(write.verb == "create");
  CHECK(write.path == "/write-metrics/namespaces/default/pods/p/m");
}

TEST_CASE("OpenAPI documents are non-resource paths, read with get, like discovery") {
  for (auto path : {"/openapi/v2", "/openapi/v3", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2",
                    "/openapi/v3/apis/external.metrics.k8s.io"}) {
    auto a = request_attributes("GET", path);
    INFO(path);
    CHECK_FALSE(a.resource_request);
    CHECK(a.path == path);
    CHECK(a.verb == "get");
    CHECK(a.describe() == std::string("get on path ") + path);
  }
  // The query (the aggregator's ?hash=) is not part of the path a SubjectAccessReview names.
  auto hashed = request_attributes("GET", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=ABC");
  CHECK(hashed.path == "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2");
  CHECK(hashed.cache_key() == request_attributes("GET", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2").cache_key());
  CHECK(request_attributes("GET", "/openapi/v2").cache_key() != request_attributes("GET", "/openapi/v3").cache_key());
}

TEST_CASE("descriptions and cache keys tell requests apart") {
  auto a = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/m");
  auto b = request_attributes("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/other/pods/*/m");
  CHECK(a.cache_key() != b.cache_key());
  CHECK(a.describe() == "get custom.metrics.k8s.io/pods/m \"*\" in namespace default");
}
