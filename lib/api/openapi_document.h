// The OpenAPI documents a Kubernetes API server serves, written from openapi_operations and
// openapi_definitions with RapidJSON: the Swagger 2.0 document of /openapi/v2, the OpenAPI 3.0
// document of each group and group version under /openapi/v3/, and the /openapi/v3 discovery
// document that points at them, as kube-openapi's handlers lay them out. They are constant: callers
// build them once.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sma::api {

// Swagger 2.0: every path and every definition. `version` goes into info.version.
std::string write_openapi_v2(std::string_view version);

// OpenAPI 3.0.0 for one of openapi_v3_documents() ("apis/custom.metrics.k8s.io/v1beta2"): its paths
// and the definitions they reach, under components/schemas. Empty for an unknown document.
std::string write_openapi_v3(std::string_view document, std::string_view version);

// {"paths":{"apis/custom.metrics.k8s.io/v1beta2":{"serverRelativeURL":"/openapi/v3/apis/...?hash=H"}}}
// as kube-openapi's handler3 writes it; `hashes` pairs each document with the hash of its JSON.
std::string write_openapi_v3_discovery(const std::vector<std::pair<std::string, std::string>>& hashes);

}  // namespace sma::api
