// The scale target as the HPA controller sees it through the /scale subresource
// (autoscaling/v1 Scale): desired replicas (spec), observed replicas (status) and the pod selector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/hpa/hpa_spec.h"

namespace sma::hpa {

struct ScaleState {
  std::int32_t spec_replicas = 0;    // the controller's "current replicas"
  std::int32_t status_replicas = 0;  // used by Object and External AverageValue targets
  std::string selector;              // status.selector, a selector string
};

// Throws HpaError when the document is not a Scale.
ScaleState read_scale(std::string_view json);

// The API path of the target's /scale subresource: the resource is looked up for the kinds an HPA
// targets (Deployment, StatefulSet, ReplicaSet, ReplicationController), else guessed from the
// kind as Kubernetes guesses it (lower case, plural).
std::string scale_path(const std::string& namespace_, const ObjectRef& target);

// The plural resource of a kind: "Service" -> "services", "Ingress" -> "ingresses".
std::string resource_for_kind(const std::string& kind);

}  // namespace sma::hpa
