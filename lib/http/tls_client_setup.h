// How outgoing TLS connections of one origin are set up: TLS >= 1.2, the trusted CA bundle, the
// client certificate for mutual TLS. The trust store and the client pair are built once per origin
// and shared by every connection (cpprestsdk makes a fresh OpenSSL context per connection), and
// built again only when their files change. It also keeps the reason of the last failed
// certificate check, because cpprestsdk only reports "Error in SSL handshake".
#pragma once

#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace sma::http {

struct FetcherOptions;

// Once at start, before any thread: every later OpenSSL context stops reading the system CA bundle
// for itself (the eager part of set_default_verify_paths, which cpprestsdk runs for each new
// connection); TlsClientSetup reads it once per origin instead. Sets SSL_CERT_FILE for the process.
void share_system_trust_store();

class TlsClientSetup {
 public:
  explicit TlsClientSetup(const FetcherOptions& options);
  ~TlsClientSetup();
  TlsClientSetup(const TlsClientSetup&) = delete;
  TlsClientSetup& operator=(const TlsClientSetup&) = delete;

  // The http_client_config ssl-context callback. cpprestsdk calls it for every new connection.
  // Throws FetchError(Protocol) when no trust material could ever be built (a file missing or
  // broken at the first connection); a file that breaks later keeps the material built before.
  // The object must outlive every connection it configured; the fetcher keeps it alive with the
  // http_client that owns those connections.
  void configure(boost::asio::ssl::context& context);

  // Why the most recent certificate check on this origin failed; empty if none failed.
  std::string last_verification_failure() const;

 private:
  struct Material;
  std::shared_ptr<const Material> material();  // built, or rebuilt when a file changed
  static int verify_and_remember(X509_STORE_CTX* store, void* self);
  void remember(std::string reason);

  std::string ca_file_;
  std::string client_cert_file_;
  std::string client_key_file_;

  std::mutex material_mutex_;
  std::shared_ptr<const Material> material_;  // guarded by material_mutex_
  std::chrono::steady_clock::time_point next_look_;  // guarded by material_mutex_

  mutable std::mutex mutex_;
  std::string last_failure_;
};

}  // namespace sma::http
