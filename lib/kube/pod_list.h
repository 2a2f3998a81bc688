// One page of a core/v1 PodList as GET /api/v1/.../pods answers it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/kube/kube_client.h"

namespace sma::kube {

struct PodListPage {
  std::vector<PodInfo> pods;
  std::string continue_token;    // metadata.continue; empty on the last page
  std::string resource_version;  // metadata.resourceVersion: where a watch of this list starts
};

// Pods whose status.phase is Succeeded or Failed are left out: finished pods report no metrics,
// and counting them would skew every per-pod average. Throws KubeError(Invalid) naming the first
// thing that is not what the API documents.
PodListPage parse_pod_list(std::string_view body);

}  // namespace sma::kube
