// The server side of TLS: which protocol versions and ciphers are spoken, which certificate is
// served, and how client certificates are requested and read back.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <string>

#include "lib/server/https_server.h"

namespace sma::server {

// TLS >= 1.2 with ECDHE + AEAD ciphers for 1.2; no renegotiation, no session resumption.
// Serves the PEM certificate chain and key from the given files, or a freshly generated
// self-signed pair when both are empty. Client certificates are requested but optional, and any
// chain is accepted: trusting it is authentication's decision.
// Throws std::runtime_error with a one-line reason naming the offending file.
boost::asio::ssl::context make_server_tls_context(const std::string& cert_file,
                                                  const std::string& key_file);

// The certificates the peer of a completed handshake presented, leaf first, as PEM.
PeerCertificates presented_peer_certificates(SSL* connection);

}  // namespace sma::server
