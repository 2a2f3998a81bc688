// The paths the adapter serves, as OpenAPI operations: discovery (/apis/, each group, each group
// version), the custom metrics paths of v1beta1 and v1beta2 and the external metrics path. Names
// follow the Kubernetes generic API server's conventions: operation ids such as
// listCustomMetricsV1beta2NamespacedMetricValue, tags such as customMetrics_v1beta2, and OpenAPI v3
// documents per group and per group version ("apis/custom.metrics.k8s.io/v1beta2").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/api/openapi_definitions.h"

namespace sma::api {

struct OpenApiParameter {
  std::string name;
  std::string in;  // "path" or "query"
  std::string description;
  bool required = false;
};

struct OpenApiOperation {
  std::string path;  // "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}"
  // The OpenAPI v3 document that holds it ("apis/custom.metrics.k8s.io/v1beta2"); empty for /apis/,
  // which only the v2 document describes: in a cluster the kube-apiserver's own /apis is the one
  // clients see.
  std::string v3_document;
  std::string operation_id;
  std::string description;
  std::string tag;
  std::vector<OpenApiParameter> parameters;
  std::string response;  // the definition a 200 answer follows
  std::optional<GroupVersionKind> kind;  // x-kubernetes-group-version-kind of the answer
};

// Every GET operation, sorted by path. Built once.
const std::vector<OpenApiOperation>& openapi_operations();

// The OpenAPI v3 documents, sorted: "apis/custom.metrics.k8s.io", "apis/custom.metrics.k8s.io/v1beta1", ...
const std::vector<std::string>& openapi_v3_documents();

}  // namespace sma::api
