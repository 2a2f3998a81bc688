// A scripted HTTP/1.1 server on 127.0.0.1 for the fetcher tests. Every connection gets its own
// thread, which reads one request and hands it to the test's responder; the responder writes
// whatever raw bytes the test needs (slow, oversized, chunked, nothing at all). The connection
// closes when the responder returns. Optional TLS, optionally requiring a client certificate.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sma::http::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;  // as on the request line: "/path?query" or an absolute URI via a proxy
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Case-insensitive; empty when absent.
  std::string header(std::string_view name) const;
};

class ServerConnection {
 public:
  ServerConnection(int fd, SSL* tls, const std::atomic<bool>& stopping, std::mutex& mutex,
                   std::condition_variable& wake);
  // False once the peer has gone away.
  bool write(std::string_view bytes);
  std::size_t bytes_written() const { return written_; }
  // Waits up to `duration`, less if the server is stopping.
  void pause(std::chrono::milliseconds duration);

 private:
  int fd_;
  SSL* tls_;
  const std::atomic<bool>& stopping_;
  std::mutex& mutex_;
  std::condition_variable& wake_;
  std::size_t written_ = 0;
};

using Responder = std::function<void(const ReceivedRequest&, ServerConnection&)>;

struct ServerTls {
  std::string certificate_file;
  std::string key_file;
  std::string client_ca_file;  // set: a client certificate signed by this CA is required
};

class LoopbackHttpServer {
 public:
  explicit LoopbackHttpServer(Responder responder, std::optional<ServerTls> tls = std::nullopt);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  // "http(s)://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;
  std::vector<ReceivedRequest> requests() const;
  // Bytes written by the responders of connections that have finished.
  std::size_t total_bytes_written() const;

 private:
  void accept_loop();
  void serve(int fd);

  Responder responder_;
  SSL_CTX* tls_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<ReceivedRequest> requests_;
  std::vector<int> open_fds_;
  std::size_t bytes_written_ = 0;
  std::list<std::thread> connection_threads_;
  std::thread accept_thread_;
};

// "HTTP/1.1 <status> X\r\nContent-Length: n\r\nConnection: close\r\n<extra>\r\n<body>"; every
// extra header line must end in "\r\n".
std::string http_response(int status, std::string_view body,
                          std::string_view content_type = "application/json",
                          std::string_view extra_headers = {});

}  // namespace sma::http::testing
