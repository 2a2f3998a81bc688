// A small HTTPS client for the server tests: Beast over Asio SSL, no certificate verification,
// every operation bounded by a timeout so a broken server fails a test instead of hanging it.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/server/self_signed_cert.h"

namespace sma::server::testing {

using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;
using ClientResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct ClientTlsSettings {
  int min_version = 0;  // 0: OpenSSL's default
  int max_version = 0;
  // Lets the client offer what Debian's system policy forbids (TLS 1.1, weak ciphers), so a
  // refusal proves the server's configuration rather than the client's.
  bool allow_legacy = false;
  std::string tls12_ciphers;  // empty: default
  std::optional<SelfSignedCertificate> certificate;
};

// Failures throw boost::system::system_error rather than asserting: Catch2 assertions are not
// thread-safe, and some tests drive a client from a helper thread.
class TlsTestClient {
 public:
  static constexpr std::chrono::milliseconds kTimeout{2000};

  explicit TlsTestClient(std::uint16_t port, ClientTlsSettings settings = {});

  boost::beast::error_code connect_tcp();
  boost::beast::error_code handshake();
  // TCP connect and TLS handshake.
  void connect();

  void send(const ClientRequest& request);
  void send_raw(std::string_view bytes);
  // Reads one response. `head`: the request was HEAD, expect no body.
  ClientResponse receive(bool head = false);
  ClientResponse round_trip(const ClientRequest& request);
  // Tries to read a response and returns why it could not (success when one arrived).
  boost::beast::error_code receive_error(std::chrono::milliseconds timeout = kTimeout);
  // The server closed the connection (cleanly or not) before `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout = kTimeout);

  SSL* native_handle() { return stream_.native_handle(); }

 private:
  template <typename Start>
  boost::beast::error_code run(std::chrono::milliseconds timeout, Start start);

  std::uint16_t port_;
  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

ClientRequest make_request(boost::beast::http::verb method, std::string target,
                           std::string body = {});

}  // namespace sma::server::testing
