// Who is calling: a front proxy (the kube-aggregator) vouching for a user with X-Remote-* headers,
// a user's own client certificate, or a bearer token checked with TokenReview; in that order, as
// Kubernetes' delegated authentication does. The identity headers are believed only on a
// connection whose certificate verifies against the front-proxy CA (and carries an allowed CN);
// anywhere else they are ignored.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/auth/client_certificate_verifier.h"
#include "lib/auth/kube_reviews.h"
#include "lib/auth/user_info.h"
#include "lib/server/https_server.h"

namespace sma::auth {

struct RequestHeaderSettings {
  // Shared with whoever reloads it (cmd/access_setup); null: front-proxy headers never count.
  std::shared_ptr<ClientCertificateVerifier> front_proxy_ca;
  std::vector<std::string> allowed_names;                   // empty: any CN the CA signed
  std::vector<std::string> username_headers{"X-Remote-User"};
  std::vector<std::string> group_headers{"X-Remote-Group"};
  std::vector<std::string> extra_header_prefixes{"X-Remote-Extra-"};
};

struct AuthenticationResult {
  enum class Outcome { Authenticated, Unauthenticated, Unavailable };
  Outcome outcome = Outcome::Unauthenticated;
  UserInfo user;
  std::string reason;  // why not, for the 401/503 message and the log
};

class Authenticator {
 public:
  // tokens may be null (no Kubernetes API): bearer tokens are then not accepted.
  // client_ca may be null: client certificates are then not accepted.
  Authenticator(RequestHeaderSettings request_header, std::shared_ptr<ClientCertificateVerifier> client_ca,
                TokenReviewer* tokens);

  AuthenticationResult authenticate(const server::HttpRequest& request) const;

 private:
  std::optional<UserInfo> from_front_proxy(const server::HttpRequest& request, std::string& reason) const;
  std::optional<UserInfo> from_client_certificate(const server::HttpRequest& request) const;

  RequestHeaderSettings request_header_;
  std::shared_ptr<ClientCertificateVerifier> client_ca_;
  TokenReviewer* tokens_;
};

}  // namespace sma::auth
