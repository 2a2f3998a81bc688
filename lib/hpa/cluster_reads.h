// The reads of the cluster the HPA controller makes before it computes anything: the HPA object,
// the target's /scale, the pods its selector selects, and the cluster's version (which decides the
// arithmetic). Through an injected getter, so the Kubernetes client stays outside.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/hpa/hpa_spec.h"
#include "lib/hpa/metric_reader.h"
#include "lib/hpa/pod_state.h"
#include "lib/hpa/scale_state.h"

namespace sma::hpa {

// autoscaling/v2, else (an older cluster) autoscaling/v2beta2. Throws HpaError "... not found".
HpaSpec read_cluster_hpa(const ApiGet& get, const std::string& namespace_, const std::string& name);
// Throws HpaError when the target or its /scale cannot be read.
ScaleState read_cluster_scale(const ApiGet& get, const std::string& namespace_, const ObjectRef& target);
// Throws HpaError when the pods cannot be listed.
std::vector<PodState> read_cluster_pods(const ApiGet& get, const std::string& namespace_, const std::string& selector);
// The minor version of GET /version ("v1.30.2" -> 30), or nullopt when it cannot be read.
std::optional<int> read_cluster_minor_version(const ApiGet& get);

}  // namespace sma::hpa
