#include "test/unit/http/loopback_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace sma::http::testing {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;

void set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// One read from the plain or TLS socket; <= 0 on end or error.
long read_some(int fd, SSL* tls, char* buffer, std::size_t size) {
  if (tls != nullptr) return SSL_read(tls, buffer, static_cast<int>(size));
  return ::recv(fd, buffer, size, 0);
}

std::optional<ReceivedRequest> read_request(int fd, SSL* tls) {
  std::string data;
  char buffer[8192];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > kMaxHead) return std::nullopt;
    const long n = read_some(fd, tls, buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  ReceivedRequest request;
  const std::string head = data.substr(0, head_end);
  std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const auto first_space = request_line.find(' ');
  const auto second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) return std::nullopt;
  request.method = request_line.substr(0, first_space);
  request.target = request_line.substr(first_space + 1, second_space - first_space - 1);
  while (line_end != std::string::npos && line_end < head.size()) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    request.headers.emplace_back(line.substr(0, colon), value);
  }
  request.body = data.substr(head_end + 4);
  const std::string length_text = request.header("Content-Length");
  const std::size_t length = length_text.empty() ? 0 : std::stoul(length_text);
  while (request.body.size() < length) {
    const long n = read_some(fd, tls, buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    request.body.append(buffer, static_cast<std::size_t>(n));
  }
  return request;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 302:
      return "Found";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::string ReceivedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return {};
}

ServerConnection::ServerConnection(int fd, SSL* tls, const std::atomic<bool>& stopping,
                                   std::mutex& mutex, std::condition_variable& wake)
    : fd_(fd), tls_(tls), stopping_(stopping), mutex_(mutex), wake_(wake) {}

bool ServerConnection::write(std::string_view bytes) {
  while (!bytes.empty()) {
    long n = 0;
    if (tls_ != nullptr) {
      n = SSL_write(tls_, bytes.data(), static_cast<int>(bytes.size()));
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    if (n <= 0) return false;
    written_ += static_cast<std::size_t>(n);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void ServerConnection::pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

LoopbackHttpServer::LoopbackHttpServer(Responder responder, std::optional<ServerTls> tls)
    : responder_(std::move(responder)) {
  ::signal(SIGPIPE, SIG_IGN);  // a client hanging up mid-answer must fail a write, not the test
  if (tls) {
    tls_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(tls_, tls->certificate_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(tls_);
      throw std::runtime_error("test server: cannot load its certificate");
    }
    if (!tls->client_ca_file.empty()) {
      SSL_CTX_load_verify_locations(tls_, tls->client_ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(tls_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    if (tls_ != nullptr) SSL_CTX_free(tls_);
    throw std::runtime_error("test server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  wake_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  accept_thread_.join();
  ::close(listen_fd_);
  for (auto& thread : connection_threads_) thread.join();
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

std::string LoopbackHttpServer::url(std::string_view path) const {
  return std::string(tls_ != nullptr ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         std::string(path);
}

std::vector<ReceivedRequest> LoopbackHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t LoopbackHttpServer::total_bytes_written() const {
  std::lock_guard lock(mutex_);
  return bytes_written_;
}

void LoopbackHttpServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    connection_threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void LoopbackHttpServer::serve(int fd) {
  set_receive_timeout(fd, std::chrono::milliseconds(3000));
  SSL* tls = nullptr;
  bool ready = true;
  if (tls_ != nullptr) {
    tls = SSL_new(tls_);
    SSL_set_fd(tls, fd);
    ready = SSL_accept(tls) == 1;
    ERR_clear_error();
  }
  if (ready) {
    if (auto request = read_request(fd, tls)) {
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(*request);
      }
      ServerConnection connection(fd, tls, stopping_, mutex_, wake_);
      responder_(*request, connection);
      std::lock_guard lock(mutex_);
      bytes_written_ += connection.bytes_written();
    }
  }
  if (tls != nullptr) {
    SSL_shutdown(tls);
    SSL_free(tls);
    ERR_clear_error();
  }
  // Half-close and drain, so the client reads the whole answer before it sees the socket go.
  ::shutdown(fd, SHUT_WR);
  set_receive_timeout(fd, std::chrono::milliseconds(500));
  char sink[4096];
  while (!stopping_ && ::recv(fd, sink, sizeof sink, 0) > 0) {
  }
  std::lock_guard lock(mutex_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

std::string http_response(int status, std::string_view body, std::string_view content_type,
                          std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace sma::http::testing
