// One Pod object as the API server writes it, in a PodList or a watch event: the parts the
// adapter keeps (name, labels, whether it has finished).
#pragma once

#include <rapidjson/document.h>

#include <string>

#include "lib/kube/kube_client.h"

namespace sma::kube {

struct PodObject {
  PodInfo info;
  // status.phase is Succeeded or Failed: finished pods report no metrics, and counting them would
  // skew every per-pod average, so lists and caches leave them out.
  bool finished = false;
  std::string resource_version;  // metadata.resourceVersion; empty when absent
};

// Throws KubeError(Invalid) with "<what> is malformed: <where> ..." naming the first thing that is
// not what the API documents.
PodObject read_pod_object(const rapidjson::Value& pod, const std::string& what, const std::string& where);

// api::json_member, with a null member counted as absent: Go writes nil maps and slices as null.
const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name);

// api::json_string as a std::string.
std::string json_text(const rapidjson::Value& value);

}  // namespace sma::kube
