#include "lib/http/tls_client_setup.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <utility>

#include "lib/http/http_fetcher.h"

namespace sma::http {
namespace {

// The newest OpenSSL error of this thread, as text ("no such file", "PEM lib", ...).
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void fail_to_load(const std::string& what, const std::string& path) {
  throw FetchError(FetchError::Kind::Protocol,
                   "cannot load " + what + " \"" + path + "\": " + openssl_reason());
}

// An encrypted key must fail to load, never prompt on the terminal for its passphrase.
int refuse_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) { return 0; }

}  // namespace

TlsClientSetup::TlsClientSetup(const FetcherOptions& options)
    : ca_file_(options.ca_file),
      client_cert_file_(options.client_cert_file),
      client_key_file_(options.client_key_file) {}

void TlsClientSetup::configure(boost::asio::ssl::context& context) {
  SSL_CTX* handle = context.native_handle();
  ERR_clear_error();
  context.set_options(boost::asio::ssl::context::default_workarounds |
                      boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                      boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(handle, refuse_passphrase);

  if (!ca_file_.empty()) {
    // The bundle replaces the system store: a kubeconfig CA pins the cluster's own CA.
    SSL_CTX_set_cert_store(handle, X509_STORE_new());
    if (SSL_CTX_load_verify_locations(handle, ca_file_.c_str(), nullptr) != 1) {
      fail_to_load("CA file", ca_file_);
    }
  }
  if (!client_cert_file_.empty() || !client_key_file_.empty()) {
    if (client_cert_file_.empty() || client_key_file_.empty()) {
      throw FetchError(FetchError::Kind::Protocol,
                       "a client certificate needs both a certificate file and a key file");
    }
    if (SSL_CTX_use_certificate_chain_file(handle, client_cert_file_.c_str()) != 1) {
      fail_to_load("client certificate", client_cert_file_);
    }
    if (SSL_CTX_use_PrivateKey_file(handle, client_key_file_.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail_to_load("client key", client_key_file_);
    }
    if (SSL_CTX_check_private_key(handle) != 1) {
      fail_to_load("client key (it does not match the certificate)", client_key_file_);
    }
  }
  // Wraps the whole chain check; cpprestsdk's own per-certificate callback (which checks the
  // host name) still runs inside X509_verify_cert.
  SSL_CTX_set_cert_verify_callback(handle, &TlsClientSetup::verify_and_remember, this);
}

int TlsClientSetup::verify_and_remember(X509_STORE_CTX* store, void* self) {
  const int verified = X509_verify_cert(store);
  auto* setup = static_cast<TlsClientSetup*>(self);
  if (verified > 0) {
    setup->remember({});
  } else {
    const int error = X509_STORE_CTX_get_error(store);
    // The chain was fine and cpprestsdk's host-name callback refused the leaf: OpenSSL records
    // no reason of its own for that (3.x says "unspecified").
    const bool host_name_refused = error == X509_V_OK || error == X509_V_ERR_UNSPECIFIED;
    setup->remember(host_name_refused
                        ? std::string("the server certificate does not match the host name")
                        : std::string("server certificate not trusted: ") +
                              X509_verify_cert_error_string(error));
  }
  return verified;
}

void TlsClientSetup::remember(std::string reason) {
  std::lock_guard lock(mutex_);
  last_failure_ = std::move(reason);
}

std::string TlsClientSetup::last_verification_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

}  // namespace sma::http
