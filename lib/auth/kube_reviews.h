// TokenReview and SubjectAccessReview against the kube-apiserver, with answers cached for a TTL.
// A review that cannot be made fails closed: the caller answers 503, never "allowed".
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

#include "lib/auth/request_attributes.h"
#include "lib/auth/ttl_cache.h"
#include "lib/auth/user_info.h"

namespace sma::auth {

// POSTs a JSON body to an API path and returns the 2xx answer; throws on any failure.
using KubePost = std::function<std::string(const std::string& path, const std::string& body)>;

struct ReviewUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TokenReviewResult {
  bool authenticated = false;
  UserInfo user;
  std::string error;  // the API's reason when not authenticated
};

class TokenReviewer {
 public:
  TokenReviewer(KubePost post, std::chrono::milliseconds cache_ttl);
  // Throws ReviewUnavailable when the API cannot answer.
  TokenReviewResult review(const std::string& token);

 private:
  KubePost post_;
  TtlCache<TokenReviewResult> cache_;
};

struct AccessDecision {
  bool allowed = false;
  std::string reason;
};

class AccessReviewer {
 public:
  AccessReviewer(KubePost post, std::chrono::milliseconds cache_ttl);
  // Throws ReviewUnavailable when the API cannot answer.
  AccessDecision review(const UserInfo& user, const RequestAttributes& attributes);

 private:
  KubePost post_;
  TtlCache<AccessDecision> cache_;
};

}  // namespace sma::auth
