// How outgoing TLS connections of one origin are set up: TLS >= 1.2, the trusted CA bundle, the
// client certificate for mutual TLS. It also keeps the reason of the last failed certificate
// check, because cpprestsdk only reports "Error in SSL handshake".
#pragma once

#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/context.hpp>
#include <mutex>
#include <string>

namespace sma::http {

struct FetcherOptions;

class TlsClientSetup {
 public:
  explicit TlsClientSetup(const FetcherOptions& options);
  TlsClientSetup(const TlsClientSetup&) = delete;
  TlsClientSetup& operator=(const TlsClientSetup&) = delete;

  // The http_client_config ssl-context callback. cpprestsdk calls it for every new connection
  // (after set_default_verify_paths). Throws FetchError(Protocol) when a file cannot be loaded.
  // The object must outlive every connection it configured; the fetcher keeps it alive with the
  // http_client that owns those connections.
  void configure(boost::asio::ssl::context& context);

  // Why the most recent certificate check on this origin failed; empty if none failed.
  std::string last_verification_failure() const;

 private:
  static int verify_and_remember(X509_STORE_CTX* store, void* self);
  void remember(std::string reason);

  std::string ca_file_;
  std::string client_cert_file_;
  std::string client_key_file_;

  mutable std::mutex mutex_;
  std::string last_failure_;
};

}  // namespace sma::http
