// /openapi/v2, /openapi/v3 and /openapi/v3/apis/<group>[/<version>], answered the way
// kube-openapi's handlers answer them, so the kube-aggregator (which polls every APIService each
// minute) and kubectl can use them:
// - the documents are built once (they are constant); each carries an ETag, the quoted uppercase
//   hex SHA-512 of its JSON, and a matching If-None-Match is answered 304 with no body;
// - /openapi/v2 and the v3 documents negotiate on Accept: JSON is served to any Accept that lists
//   JSON, the protobuf encodings or a wildcard (protobuf itself is not produced: such a client
//   gets JSON, marked as such); 406 only when nothing acceptable is listed, as Kubernetes does;
// - a v3 document asked for with ?hash=<its hash> is immutable: Cache-Control "public, immutable"
//   and Expires a year ahead; with a stale hash, a 301 to the current URL.
#pragma once

#include <string_view>

#include "lib/server/https_server.h"

namespace sma::apiserver {

server::HttpResponse openapi_v2_response(const server::HttpRequest& request);
server::HttpResponse openapi_v3_discovery_response(const server::HttpRequest& request);
// document: "apis/custom.metrics.k8s.io/v1beta2" (one of api::openapi_v3_documents()); hash: the
// request's hash parameter, empty when it had none.
server::HttpResponse openapi_v3_response(const server::HttpRequest& request, std::string_view document,
                                         std::string_view hash);

// The ETag-style hash kube-openapi computes: SHA-512 of `bytes`, uppercase hex (unquoted).
std::string openapi_hash(std::string_view bytes);

}  // namespace sma::apiserver
