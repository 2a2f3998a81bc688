// The server side of TLS: which protocol versions and ciphers are spoken, which certificate is
// served, and how client certificates are requested and read back.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "lib/server/https_server.h"

namespace sma::server {

// The certificate chain and private key a server context serves, as PEM.
struct ServingIdentity {
  std::string certificate_pem;
  std::string key_pem;
  // For error messages: certificate file "<path>", or generated certificate; likewise the key.
  std::string certificate_source;
  std::string key_source;
  bool same_pair_as(const ServingIdentity& other) const {
    return certificate_pem == other.certificate_pem && key_pem == other.key_pem;
  }
};

// Reads the PEM certificate chain and key from the given files, or generates a self-signed pair
// when both are empty. Throws std::runtime_error with a one-line reason naming the offending file.
// Only reads: whether the PEM is valid is found out by make_server_tls_context.
ServingIdentity load_serving_identity(const std::string& cert_file, const std::string& key_file);

// TLS >= 1.2 with ECDHE + AEAD ciphers for 1.2; no renegotiation, no session resumption.
// Serves the given pair. Client certificates are requested but optional, and any chain is
// accepted: trusting it is authentication's decision.
// Throws std::runtime_error with a one-line reason naming the offending file (invalid PEM, key
// not matching the certificate).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const ServingIdentity& identity);

// Both steps above in one.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

// The certificates the peer of a completed handshake presented, leaf first, as PEM.
PeerCertificates presented_peer_certificates(SSL* connection);

}  // namespace sma::server
