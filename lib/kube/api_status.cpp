#include "lib/kube/api_status.h"

#include <rapidjson/document.h>

namespace sma::kube {

std::string status_message(std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return {};
  const auto kind = document.FindMember("kind");
  if (kind == document.MemberEnd() || !kind->value.IsString() ||
      std::string_view(kind->value.GetString()) != "Status") {
    return {};
  }
  const auto message = document.FindMember("message");
  if (message == document.MemberEnd() || !message->value.IsString()) return {};
  return std::string(message->value.GetString(), message->value.GetStringLength());
}

KubeError error_for_status(int status, std::string_view body, const std::string& request,
                           const std::string& retries_note) {
  std::string text = request + ": HTTP " + std::to_string(status);
  if (const std::string message = status_message(body); !message.empty()) text += ": " + message;
  if (status == 401) {
    return KubeError(KubeError::Kind::Rejected,
                     text +
                         " (the API server rejected the adapter's credentials: the token or client "
                         "certificate is invalid or expired)");
  }
  if (status == 403) {
    return KubeError(
        KubeError::Kind::Rejected,
        text +
            " (the adapter's service account lacks permission for this request; check its RBAC)");
  }
  if (status == 429 || status >= 500) {
    return KubeError(KubeError::Kind::Unavailable, text + retries_note);
  }
  return KubeError(KubeError::Kind::Invalid, text);
}

}  // namespace sma::kube
