// Standard base64 (RFC 4648 section 4: the '+' '/' alphabet, '=' padding) on OpenSSL's codec, as
// kubeconfig files carry certificate-authority-data and client-*-data, and as an APIService's
// caBundle and a Secret's data are written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sma::kube {

// The bytes `text` encodes; nullopt when it is not base64. Line breaks, spaces and tabs anywhere
// are skipped (PEM-style and hand-folded input); padding may be left out, but when present it is
// whole ("YQ==", never "YQ="). Any other byte (the URL-safe '-' '_', a '=' before the end) is
// refused.
std::optional<std::string> decode_base64(std::string_view text);

// `bytes` as padded base64 on one line, with no line breaks (what caBundle and Secret data expect).
std::string encode_base64(std::string_view bytes);

}  // namespace sma::kube
