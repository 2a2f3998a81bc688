#include "lib/auth/authenticator.h"

#include <algorithm>

#include "lib/routing/url_decoding.h"

namespace sma::auth {
namespace {

constexpr const char* kAuthenticatedGroup = "system:authenticated";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void add_authenticated_group(UserInfo& user) {
  if (std::find(user.groups.begin(), user.groups.end(), kAuthenticatedGroup) == user.groups.end()) {
    user.groups.emplace_back(kAuthenticatedGroup);
  }
}

}  // namespace

Authenticator::Authenticator(RequestHeaderSettings request_header, std::shared_ptr<ClientCertificateVerifier> client_ca,
                             TokenReviewer* tokens)
    : request_header_(std::move(request_header)), client_ca_(std::move(client_ca)), tokens_(tokens) {}

std::optional<UserInfo> Authenticator::from_front_proxy(const server::HttpRequest& request, std::string& reason) const {
  if (!request_header_.front_proxy_ca || request.peer->empty()) return std::nullopt;
  auto proxy = request_header_.front_proxy_ca->verify(request.peer->chain_pem);
  if (!proxy) return std::nullopt;
  const auto& allowed = request_header_.allowed_names;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), proxy->common_name) == allowed.end()) {
    reason = "front-proxy certificate CN \"" + proxy->common_name + "\" is not an allowed requestheader name";
    return std::nullopt;
  }
  UserInfo user;
  for (const auto& header : request_header_.username_headers) {
    auto value = request.header(header);
    if (!value.empty()) {
      user.name = std::string(value);
      break;
    }
  }
  if (user.name.empty()) return std::nullopt;  // the proxy vouches for nobody: try the other ways
  for (const auto& header : request_header_.group_headers) {
    for (auto value : request.header_values(header)) user.groups.emplace_back(value);
  }
  for (const auto& [name, value] : request.headers) {
    std::string lowered = lower(name);
    for (const auto& prefix : request_header_.extra_header_prefixes) {
      std::string p = lower(prefix);
      if (p.empty() || lowered.size() <= p.size() || lowered.compare(0, p.size(), p) != 0) continue;
      // Kubernetes percent-encodes extra keys that are not valid header names.
      auto key = routing::percent_decode(lowered.substr(p.size()), false);
      if (key) user.extra[*key].push_back(value);
    }
  }
  return user;
}

std::optional<UserInfo> Authenticator::from_client_certificate(const server::HttpRequest& request) const {
  if (!client_ca_ || request.peer->empty()) return std::nullopt;
  auto verified = client_ca_->verify(request.peer->chain_pem);
  if (!verified || verified->common_name.empty()) return std::nullopt;
  return UserInfo{verified->common_name, verified->organizations, {}};
}

AuthenticationResult Authenticator::authenticate(const server::HttpRequest& request) const {
  AuthenticationResult result;
  std::optional<UserInfo> user = from_front_proxy(request, result.reason);
  if (!user) user = from_client_certificate(request);
  if (!user) {
    auto authorization = request.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() > kBearer.size() && lower(authorization.substr(0, kBearer.size())) == "bearer ") {
      std::string token(authorization.substr(kBearer.size()));
      if (tokens_ == nullptr) {
        result.reason = "bearer tokens cannot be checked without the Kubernetes API";
        return result;
      }
      try {
        auto review = tokens_->review(token);
        if (!review.authenticated) {
          result.reason = "the bearer token was not accepted" + (review.error.empty() ? "" : ": " + review.error);
          return result;
        }
        user = review.user;
      } catch (const ReviewUnavailable& e) {
        result.outcome = AuthenticationResult::Outcome::Unavailable;
        result.reason = e.what();
        return result;
      }
    }
  }
  if (!user) {
    if (result.reason.empty()) result.reason = "no client certificate or bearer token that this server trusts";
    return result;
  }
  add_authenticated_group(*user);
  result.outcome = AuthenticationResult::Outcome::Authenticated;
  result.user = std::move(*user);
  return result;
}

}  // namespace sma::auth
