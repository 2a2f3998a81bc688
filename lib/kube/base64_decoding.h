// Standard base64 (RFC 4648, with or without padding, line breaks allowed), as kubeconfig files
// carry certificate-authority-data and client-*-data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sma::kube {

// nullopt when `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace sma::kube
