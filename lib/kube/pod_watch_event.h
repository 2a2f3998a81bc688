// One line of a pod watch (GET .../pods?watch=1): {"type": ..., "object": ...}, as the API server
// streams them.
#pragma once

#include <string>
#include <string_view>

#include "lib/kube/pod_object.h"

namespace sma::kube {

struct PodWatchEvent {
  enum class Type { Added, Modified, Deleted, Bookmark, Error };
  Type type = Type::Error;
  PodObject pod;           // Added, Modified, Deleted; for Bookmark only pod.resource_version
  int error_code = 0;      // Error: the Status code; 410 means "list again, that version is gone"
  std::string error_message;
};

// Throws KubeError(Invalid) naming what is wrong with the line.
PodWatchEvent parse_pod_watch_event(std::string_view line);

}  // namespace sma::kube
