#include "lib/api/builtin_resources.h"

#include <array>
#include <cctype>

namespace sma::api {
namespace {

struct Entry {
  const char* resource;
  const char* group;
  const char* kind;
  const char* api_version;
  bool namespaced;
};

constexpr std::array kBuiltins = {
    Entry{"pods", "", "Pod", "/v1", true},
    Entry{"services", "", "Service", "/v1", true},
    Entry{"namespaces", "", "Namespace", "/v1", false},
    Entry{"nodes", "", "Node", "/v1", false},
    Entry{"persistentvolumeclaims", "", "PersistentVolumeClaim", "/v1", true},
    Entry{"persistentvolumes", "", "PersistentVolume", "/v1", false},
    Entry{"replicationcontrollers", "", "ReplicationController", "/v1", true},
    Entry{"endpoints", "", "Endpoints", "/v1", true},
    Entry{"deployments", "apps", "Deployment", "apps/v1", true},
    Entry{"statefulsets", "apps", "StatefulSet", "apps/v1", true},
    Entry{"daemonsets", "apps", "DaemonSet", "apps/v1", true},
    Entry{"replicasets", "apps", "ReplicaSet", "apps/v1", true},
    Entry{"jobs", "batch", "Job", "batch/v1", true},
    Entry{"cronjobs", "batch", "CronJob", "batch/v1", true},
    Entry{"ingresses", "networking.k8s.io", "Ingress", "networking.k8s.io/v1", true},
};

std::string kind_from_resource(const std::string& resource) {
  std::string kind = resource;
  if (kind.size() > 1 && kind.back() == 's') kind.pop_back();
  if (!kind.empty()) kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
  return kind;
}

}  // namespace

std::optional<ResourceKind> builtin_resource_kind(const GroupResource& resource) {
  for (const auto& e : kBuiltins) {
    if (resource.resource == e.resource && resource.group == e.group) {
      return ResourceKind{e.kind, e.api_version, e.namespaced};
    }
  }
  return std::nullopt;
}

ObjectReference described_object(const GroupResource& resource, const std::string& namespace_,
                                 const std::string& name) {
  if (auto known = builtin_resource_kind(resource)) {
    return {known->kind, known->namespaced ? namespace_ : std::string{}, name, known->api_version};
  }
  return {kind_from_resource(resource.resource), namespace_, name, ""};
}

}  // namespace sma::api
