// What a request asks to do, in SubjectAccessReview terms, read from the path the way Kubernetes'
// own request-info parser reads it:
//   GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests
//     -> resource: group custom.metrics.k8s.io, version v1beta2, namespace default, resource pods,
//        name "*", subresource http_requests, verb get
//   GET /apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth
//     -> resource queue_depth in namespace default, verb list (a collection)
//   GET /apis, /apis/<group>, /apis/<group>/<version>, /healthz, /metrics, POST /write-metrics/...
//     -> non-resource path with verb get (or create, update, delete by method)
#pragma once

#include <string>
#include <string_view>

namespace sma::auth {

struct RequestAttributes {
  bool resource_request = false;
  std::string verb;  // get, list, create, update, patch, delete
  // Resource requests
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string subresource;
  std::string name;
  // Non-resource requests
  std::string path;

  // "get custom.metrics.k8s.io/pods/http_requests in namespace default", for denial messages.
  std::string describe() const;
  // A stable key for caching decisions.
  std::string cache_key() const;
};

// target is the raw request target (the query string is ignored); path segments are percent-decoded
// as the API server decodes them. A target that cannot be decoded is read as a non-resource path.
RequestAttributes request_attributes(std::string_view method, std::string_view target);

}  // namespace sma::auth
