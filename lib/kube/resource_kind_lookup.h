// Kind, API version and scope of a resource the built-in table does not know (custom resources),
// from the Kubernetes API's discovery documents; answers are cached.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lib/api/builtin_resources.h"
#include "lib/kube/kube_client.h"

namespace sma::kube {

class ResourceKindLookup {
 public:
  explicit ResourceKindLookup(KubeClient& client, std::chrono::seconds ttl = std::chrono::minutes(5));

  // nullopt when the API does not know the resource or cannot be asked (never throws: a missing kind
  // only makes an answer less descriptive, never wrong).
  std::optional<api::ResourceKind> lookup(const api::GroupResource& resource);

 private:
  std::optional<api::ResourceKind> discover(const api::GroupResource& resource);

  struct Cached {
    std::optional<api::ResourceKind> kind;
    std::chrono::steady_clock::time_point expires;
  };
  KubeClient& client_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
};

}  // namespace sma::kube
