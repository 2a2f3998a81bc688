// A throwaway certificate for serving HTTPS when no certificate was configured, as Kubernetes
// servers do. Also handy wherever a test needs a certificate.
#pragma once

#include <string>
#include <string_view>

namespace sma::server {

struct SelfSignedCertificate {
  std::string certificate_pem;  // X.509 v3, ECDSA P-256 / SHA-256, valid for one year
  std::string private_key_pem;  // unencrypted PKCS#8
};

// Generates a fresh key pair and a certificate for it, signed by itself. Subject CN is
// `common_name`; subjectAltName covers localhost, 127.0.0.1, ::1 and this machine's hostname.
// Usable for both serverAuth and clientAuth. Throws std::runtime_error if OpenSSL fails.
SelfSignedCertificate generate_self_signed_certificate(std::string_view common_name);

}  // namespace sma::server
