#include "lib/apiserver/access_control.h"

#include "lib/api/api_json.h"
#include "lib/auth/request_attributes.h"
#include "lib/telemetry/log.h"

namespace sma::apiserver {
namespace {

server::HttpResponse status(int code, const char* reason, const std::string& message) {
  server::HttpResponse response;
  response.status = code;
  response.body = api::write_status({code, reason, message});
  return response;
}

// The message Kubernetes writes for a denial, so operators recognise it.
std::string forbidden_message(const auth::UserInfo& user, const auth::RequestAttributes& a, const std::string& reason) {
  std::string message = "User \"" + user.name + "\" cannot " + a.verb;
  if (a.resource_request) {
    std::string resource = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource);
    message += " resource \"" + resource + "\" in API group \"" + a.group + "\"";
    message += a.namespace_.empty() ? " at the cluster scope" : " in the namespace \"" + a.namespace_ + "\"";
  } else {
    message += " path \"" + a.path + "\"";
  }
  return reason.empty() ? message : message + ": " + reason;
}

}  // namespace

AccessControl::AccessControl(const auth::Authenticator& authenticator, auth::AccessReviewer& reviewer,
                             std::vector<std::string> always_allow)
    : authenticator_(authenticator), reviewer_(reviewer), always_allow_(std::move(always_allow)) {}

bool AccessControl::always_allowed(const std::string& path) const {
  for (const auto& allowed : always_allow_) {
    if (!allowed.empty() && allowed.back() == '*') {
      if (path.compare(0, allowed.size() - 1, allowed, 0, allowed.size() - 1) == 0) return true;
    } else if (path == allowed) {
      return true;
    }
  }
  return false;
}

std::optional<server::HttpResponse> AccessControl::check(const server::HttpRequest& request) const {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (always_allowed(path)) return std::nullopt;

  auto identity = authenticator_.authenticate(request);
  if (identity.outcome == auth::AuthenticationResult::Outcome::Unavailable) {
    telemetry::log_warning("authentication unavailable", {{"error", identity.reason}});
    return status(503, "ServiceUnavailable", "cannot verify credentials now: " + identity.reason);
  }
  if (identity.outcome != auth::AuthenticationResult::Outcome::Authenticated) {
    telemetry::log_debug("unauthenticated request", {{"path", path}, {"reason", identity.reason}});
    return status(401, "Unauthorized", "Unauthorized: " + identity.reason);
  }

  auto attributes = auth::request_attributes(request.method, request.target);
  try {
    auto decision = reviewer_.review(identity.user, attributes);
    if (!decision.allowed) {
      std::string message = forbidden_message(identity.user, attributes, decision.reason);
      telemetry::log_info("request denied", {{"user", identity.user.name}, {"denied", attributes.describe()}});
      return status(403, "Forbidden", message);
    }
  } catch (const auth::ReviewUnavailable& e) {
    telemetry::log_warning("authorization unavailable", {{"error", e.what()}});
    return status(503, "ServiceUnavailable", std::string("cannot authorize the request now: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace sma::apiserver
