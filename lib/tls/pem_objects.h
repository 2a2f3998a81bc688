// PEM text <-> OpenSSL objects, in one place for everything that reads or writes certificates.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/tls/openssl_handles.h"

namespace sma::tls {

// The first certificate (or private key) in `pem`; null when there is none or it does not parse.
// Leaves OpenSSL's error queue empty either way.
openssl::X509Ptr parse_certificate(std::string_view pem);
openssl::KeyPtr parse_private_key(std::string_view pem);

// Every certificate of a bundle, in order. Empty when one of them does not parse or there is none.
std::vector<openssl::X509Ptr> parse_certificate_bundle(std::string_view pem);

// Throw std::runtime_error when OpenSSL cannot encode the object (out of memory).
std::string certificate_to_pem(X509* certificate);
std::string private_key_to_pem(EVP_PKEY* key);

}  // namespace sma::tls
