// The gate in front of every route: authenticate, then authorize with SubjectAccessReview, except
// for the always-allowed paths (health). Fails closed: a review that cannot be made is a 503, never
// a pass.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/auth/authenticator.h"
#include "lib/auth/kube_reviews.h"
#include "lib/server/https_server.h"

namespace sma::apiserver {

class AccessControl {
 public:
  // always_allow: exact paths, or prefixes written with a trailing "*" ("/healthz/*").
  AccessControl(const auth::Authenticator& authenticator, auth::AccessReviewer& reviewer,
                std::vector<std::string> always_allow);

  // nullopt: the request may proceed. Otherwise the 401 / 403 / 503 Status to answer.
  std::optional<server::HttpResponse> check(const server::HttpRequest& request) const;

 private:
  bool always_allowed(const std::string& path) const;

  const auth::Authenticator& authenticator_;
  auth::AccessReviewer& reviewer_;
  std::vector<std::string> always_allow_;
};

}  // namespace sma::apiserver
