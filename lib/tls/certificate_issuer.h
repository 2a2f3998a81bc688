// Makes X.509 certificates with OpenSSL: self-signed ones, a certificate authority, and serving
// certificates that authority signs. Keys are ECDSA P-256, signatures SHA-256, as Kubernetes' own
// generated serving certificates are.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace sma::tls {

struct IssuedPair {
  std::string certificate_pem;  // X.509 v3
  std::string private_key_pem;  // unencrypted PKCS#8
};

struct SubjectNames {
  std::string common_name;
  std::vector<std::string> dns_names;     // plain LDH names; anything else is refused
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
};

// notBefore is set back by min(1 h, validity / 10), so a peer whose clock runs a little behind
// still accepts a certificate made a moment ago; notAfter is now + validity.
std::chrono::seconds backdating_for(std::chrono::seconds validity);

// Signed by its own key; a CA for itself, usable for serverAuth and clientAuth (the server's
// fallback when no pair is configured). Throws std::runtime_error naming the OpenSSL step that
// failed, or a name that cannot go into a certificate.
IssuedPair issue_self_signed(const SubjectNames& names, std::chrono::seconds validity);

// A root that signs only certificates (keyCertSign, cRLSign; pathlen 0).
IssuedPair issue_certificate_authority(std::string_view common_name, std::chrono::seconds validity);

// A serverAuth leaf signed by `authority` (its certificate and key, as PEM). Throws
// std::runtime_error when the authority does not parse or its key is not the certificate's.
IssuedPair issue_serving_certificate(const IssuedPair& authority, const SubjectNames& names,
                                     std::chrono::seconds validity);

}  // namespace sma::tls
