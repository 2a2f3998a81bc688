// What a certificate says, read once from its PEM: who it is for, when it is valid, whether it is
// an authority, and whether another certificate or a key belongs with it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace sma::tls {

using Clock = std::chrono::system_clock;

struct CertificateFacts {
  std::string pem;  // this certificate alone
  std::string common_name;
  Clock::time_point not_before;
  Clock::time_point not_after;
  bool is_authority = false;          // basicConstraints CA:TRUE
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, in order
  std::string sha256_fingerprint;      // lower-case hex of the DER

  // How much of its validity has passed at `now`: 0 at notBefore, 1 at notAfter (may go beyond).
  double life_used(Clock::time_point now) const;
  bool expired(Clock::time_point now) const { return now >= not_after; }
};

// Every certificate of a PEM bundle, in order. Throws std::runtime_error when the text holds none
// or one of them does not parse.
std::vector<CertificateFacts> read_certificates(std::string_view pem);

// Whether `authority_pem`'s key signed `certificate_pem` and its subject is the certificate's
// issuer. False when either does not parse.
bool issued_by(std::string_view certificate_pem, std::string_view authority_pem);

// Whether `private_key_pem` is the private half of `certificate_pem`'s public key.
bool key_matches(std::string_view certificate_pem, std::string_view private_key_pem);

}  // namespace sma::tls
