#include "lib/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "lib/tls/openssl_handles.h"
#include "lib/tls/pem_objects.h"
#include "lib/server/self_signed_cert.h"

namespace sma::server {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites with forward secrecy and authenticated encryption only. TLS 1.3 suites are
// configured separately by OpenSSL and are all of that kind already.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string quoted(const std::string& path) { return "\"" + path + "\""; }

std::string read_pem_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    throw std::runtime_error(std::string("cannot read ") + what + " file " + quoted(path) + ": " +
                             (error != 0 ? std::strerror(error) : "open failed"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    throw std::runtime_error(std::string("cannot read ") + what + " file " + quoted(path));
  }
  return contents.str();
}

// Peer chains are accepted whatever they are; see make_server_tls_context.
int accept_any_client_chain(int /*preverified*/, X509_STORE_CTX* /*store*/) { return 1; }

// Never prompt on a terminal for the passphrase of an encrypted key: fail to load it instead.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return 0; }

void configure_protocol(ssl::context& context) {
  SSL_CTX* handle = context.native_handle();
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::no_compression | ssl::context::single_dh_use);
  // Renegotiation could swap the client certificate after we captured it.
  SSL_CTX_set_options(handle, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(handle, kTls12Ciphers) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot configure TLS protocol versions and ciphers");
  }
  // A resumed session does not carry the client's chain again, and authentication needs it on
  // every connection: always do a full handshake.
  SSL_CTX_set_session_cache_mode(handle, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(handle, 0);
  // Idle keep-alive connections then hold no read/write buffers.
  SSL_CTX_set_mode(handle, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(handle, SSL_VERIFY_PEER, &accept_any_client_chain);
  SSL_CTX_set_default_passwd_cb(handle, &refuse_passphrase);
}

void use_identity(ssl::context& context, const ServingIdentity& identity) {
  try {
    context.use_certificate_chain(boost::asio::buffer(identity.certificate_pem));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("invalid " + identity.certificate_source + ": " + e.code().message());
  }
  try {
    context.use_private_key(boost::asio::buffer(identity.key_pem), ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("invalid " + identity.key_source + ": " + e.code().message());
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    throw std::runtime_error(identity.key_source + " does not match " +
                             identity.certificate_source);
  }
}


}  // namespace

ServingIdentity load_serving_identity(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) {
    SelfSignedCertificate generated = generate_self_signed_certificate("sysdig-metrics-adapter");
    return {std::move(generated.certificate_pem), std::move(generated.private_key_pem),
            "generated certificate", "generated key"};
  }
  if (key_file.empty()) {
    throw std::runtime_error("certificate file " + quoted(cert_file) +
                             " given without a private key file");
  }
  if (cert_file.empty()) {
    throw std::runtime_error("private key file " + quoted(key_file) +
                             " given without a certificate file");
  }
  return {read_pem_file(cert_file, "certificate"), read_pem_file(key_file, "private key"),
          "certificate file " + quoted(cert_file), "private key file " + quoted(key_file)};
}

std::shared_ptr<ssl::context> make_server_tls_context(const ServingIdentity& identity) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  try {
    configure_protocol(*context);
    use_identity(*context, identity);
  } catch (...) {
    // This thread may go on to serve connections: leave nothing in its OpenSSL error queue.
    ERR_clear_error();
    throw;
  }
  return context;
}

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file) {
  return make_server_tls_context(load_serving_identity(cert_file, key_file));
}

PeerCertificates presented_peer_certificates(SSL* connection) {
  PeerCertificates peer;
  tls::openssl::X509Ptr leaf(SSL_get1_peer_certificate(connection));
  if (!leaf) return peer;
  peer.chain_pem.push_back(tls::certificate_to_pem(leaf.get()));
  // On the server side OpenSSL leaves the leaf out of this stack (borrowed, not ours to free);
  // skip it anyway should a version put it in.
  STACK_OF(X509)* rest = SSL_get_peer_cert_chain(connection);
  int count = rest != nullptr ? sk_X509_num(rest) : 0;
  for (int i = 0; i < count; ++i) {
    X509* certificate = sk_X509_value(rest, i);
    if (i == 0 && X509_cmp(certificate, leaf.get()) == 0) continue;
    peer.chain_pem.push_back(tls::certificate_to_pem(certificate));
  }
  return peer;
}

}  // namespace sma::server
