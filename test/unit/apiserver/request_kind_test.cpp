#include <catch2/catch.hpp>

#include "lib/apiserver/request_kind.h"

using sma::apiserver::request_kind;

TEST_CASE("OpenAPI documents are their own request kind") {
  for (auto target : {"/openapi/v2", "/openapi/v3", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=AB",
                      "/openapi/v3/apis/external.metrics.k8s.io"}) {
    INFO(target);
    auto kind = request_kind(target);
    CHECK(kind.kind == "openapi");
    CHECK(kind.version == "none");
  }
  CHECK(request_kind("/openapi").kind == "other");
}

TEST_CASE("request kinds of the metrics API") {
  CHECK(request_kind("/apis").kind == "discovery");
  CHECK(request_kind("/apis/custom.metrics.k8s.io/v1beta2").kind == "discovery");
  CHECK(request_kind("/apis/custom.metrics.k8s.io/v1beta2").version == "v1beta2");
  CHECK(request_kind("/apis/custom.metrics.k8s.io/v1beta1/namespaces/d/pods/*/m").kind == "selector");
  CHECK(request_kind("/apis/custom.metrics.k8s.io/v1beta1/namespaces/d/pods/p/m").kind == "object");
  CHECK(request_kind("/apis/external.metrics.k8s.io/v1beta1/namespaces/d/q").kind == "external");
  CHECK(request_kind("/healthz").kind == "health");
  CHECK(request_kind("/metrics").kind == "metrics");
  CHECK(request_kind("/write-metrics/nodes/n/m").kind == "write");
}
