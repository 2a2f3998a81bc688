// Kind, API version and scope of the Kubernetes resources an HPA commonly targets, so answers can
// fill describedObject without asking a cluster.
#pragma once

#include <optional>
#include <string>

#include "lib/api/metric_types.h"

namespace sma::api {

struct ResourceKind {
  std::string kind;         // "Deployment"
  std::string api_version;  // "apps/v1"; "/v1" for the core group
  bool namespaced = true;
};

// nullopt for resources outside the table (custom resources, ...).
std::optional<ResourceKind> builtin_resource_kind(const GroupResource& resource);

// The described object for an answer. Resources outside the table get a kind derived from the
// resource name ("widgets" -> "Widget") and no apiVersion, since the version is unknown.
ObjectReference described_object(const GroupResource& resource, const std::string& namespace_, const std::string& name);

}  // namespace sma::api
