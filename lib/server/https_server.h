// HTTPS transport: Boost.Beast over Asio SSL. Knows connections, TLS and HTTP framing; knows
// nothing of Kubernetes. Handlers run on a worker pool so a slow backend never blocks I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sma::server {

// The client certificate chain a connection presented during the handshake (leaf first), as PEM.
// The handshake accepts any chain whose key the client proved it holds; deciding whether to trust
// it (front-proxy CA, client CA) is authentication's job, not the transport's.
struct PeerCertificates {
  std::vector<std::string> chain_pem;
  bool empty() const { return chain_pem.empty(); }
};

struct HttpRequest {
  std::string method;   // "GET"
  std::string target;   // raw request target, e.g. "/apis/x?labelSelector=a%3Db"
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string remote_address;  // "127.0.0.1:53422"
  std::shared_ptr<const PeerCertificates> peer;  // never null; empty when no certificate

  // Case-insensitive lookup of the first value; empty when absent.
  std::string_view header(std::string_view name) const;
  // Every value of a header, in order (X-Remote-Group may repeat).
  std::vector<std::string_view> header_values(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;
// Tries to answer on the I/O thread, without waiting on anything (from caches); nullopt: the
// request goes to the worker pool's RequestHandler instead. Must never block.
using FastHandler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

struct HttpsServerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 6443;  // 0 picks a free port; see HttpsServer::port()
  // PEM files. Both empty: a self-signed ECDSA P-256 pair is generated at start.
  std::string cert_file;
  std::string key_file;
  std::size_t max_header_bytes = 64 * 1024;       // beyond: 431
  std::size_t max_body_bytes = 1024 * 1024;       // beyond: 413
  std::chrono::milliseconds read_timeout{30000};  // whole request, from its first byte
  std::chrono::milliseconds idle_timeout{90000};  // keep-alive wait for the next request
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds shutdown_grace{10000};  // how long stop() lets handlers finish
  int io_threads = 1;
  // Handlers may block (backend calls), so the pool grows past worker_threads while every thread
  // is busy, up to max_worker_threads; a thread beyond worker_threads idle for worker_idle_exit ends.
  int worker_threads = 4;
  int max_worker_threads = 4;
  std::chrono::milliseconds worker_idle_exit{30000};
  // Answers what it can on the I/O thread (a cache hit), saving the hand-off to a worker; empty:
  // every request goes to the workers.
  FastHandler fast_handler;
  // While running, how often cert_file and key_file are looked at (modification time, size,
  // inode); when they changed, the pair they hold is served to connections accepted from then on.
  // 0: never. Self-signed mode never reloads.
  std::chrono::milliseconds certificate_check_interval{2000};
  // One line per certificate reload ("serving certificate reloaded from <file>") and per rejected
  // replacement pair (why; the previous pair stays in force). Called one at a time, on an io
  // thread or on the thread calling reload_certificate(); should be quick; exceptions are ignored;
  // reload_certificate() called from it does nothing and returns false.
  std::function<void(const std::string&)> on_certificate_event = [](const std::string&) {};
  // The certificate put in force, each time one is (at start, on reload, on install): its PEM, and
  // where it came from: "file", "self-signed" or "installed". Same rules as on_certificate_event.
  std::function<void(const std::string& certificate_pem, const std::string& source)> on_certificate_in_force =
      [](const std::string&, const std::string&) {};
};

class HttpsServer {
 public:
  HttpsServer(HttpsServerOptions options, RequestHandler handler);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Loads or generates the certificate, binds and starts listening. Throws std::runtime_error with a
  // one-line reason (unreadable certificate, address in use, ...).
  // Once per server: a second call throws, even after stop() or a failed start().
  void start();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Re-reads cert_file and key_file now (on SIGHUP, say) rather than at the next periodic check.
  // True when a new pair is in force for connections accepted from now on; false when the files
  // hold the pair in force already, when the new pair was rejected (reported through
  // on_certificate_event; the previous pair stays), in self-signed mode, and when the server is
  // not running. Open connections keep the certificate they were accepted with. Thread-safe.
  bool reload_certificate();
  // Serves a pair held in memory (from a Kubernetes Secret) to connections accepted from now on,
  // in self-signed mode; see ServingCertificate::install. Throws std::runtime_error when the pair
  // does not load (the pair in force stays) or the server is not running.
  bool install_certificate(const std::string& certificate_pem, const std::string& key_pem, const std::string& source);
  // The certificate PEM in force; empty when the server is not running.
  std::string certificate_pem() const;
  // Stops accepting, lets in-flight requests finish, closes connections, joins threads.
  // Handlers get up to shutdown_grace to return; idle connections close at once. Idempotent; must
  // not be called from inside a handler (it waits for handlers).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sma::server
