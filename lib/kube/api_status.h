// What the API server says when it refuses a request: the metav1.Status body and the KubeError
// a status code becomes.
#pragma once

#include <string>
#include <string_view>

#include "lib/kube/kube_client.h"

namespace sma::kube {

// The `message` of a metav1.Status body ({"kind":"Status",...,"message":"..."}); empty when the
// body is not one.
std::string status_message(std::string_view body);

// The error for a final, non-2xx answer: 401/403 Rejected (with a hint about the token or the
// service account's RBAC), 429/5xx Unavailable, anything else Invalid. `request` names the call,
// e.g. "GET https://10.0.0.1:443/api/v1/pods"; `retries_note` says how often it was tried.
KubeError error_for_status(int status, std::string_view body, const std::string& request,
                           const std::string& retries_note);

}  // namespace sma::kube
