#include "tls_test_client.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>
#include <stdexcept>
#include <utility>

namespace sma::server::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

asio::ssl::context make_client_context(const ClientTlsSettings& settings) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_verify_mode(asio::ssl::verify_none);
  SSL_CTX* handle = context.native_handle();
  if (settings.allow_legacy) {
    SSL_CTX_set_security_level(handle, 0);
    SSL_CTX_set_cipher_list(handle, "ALL:@SECLEVEL=0");
  }
  if (settings.min_version != 0) SSL_CTX_set_min_proto_version(handle, settings.min_version);
  if (settings.max_version != 0) SSL_CTX_set_max_proto_version(handle, settings.max_version);
  if (!settings.tls12_ciphers.empty()) {
    if (SSL_CTX_set_cipher_list(handle, settings.tls12_ciphers.c_str()) != 1) {
      throw std::runtime_error("test client: bad cipher list " + settings.tls12_ciphers);
    }
  }
  if (settings.certificate) {
    context.use_certificate_chain(asio::buffer(settings.certificate->certificate_pem));
    context.use_private_key(asio::buffer(settings.certificate->private_key_pem),
                            asio::ssl::context::pem);
  }
  return context;
}

void throw_if_failed(const beast::error_code& error, const char* step) {
  if (error) throw boost::system::system_error(error, std::string("test client: ") + step);
}

}  // namespace

TlsTestClient::TlsTestClient(std::uint16_t port, ClientTlsSettings settings)
    : port_(port), tls_(make_client_context(settings)), stream_(io_, tls_) {}

template <typename Start>
beast::error_code TlsTestClient::run(std::chrono::milliseconds timeout, Start start) {
  beast::error_code result;
  bool done = false;
  beast::get_lowest_layer(stream_).expires_after(timeout);
  start([&](beast::error_code error, auto&&...) {
    result = error;
    done = true;
  });
  io_.restart();
  io_.run();
  if (!done) throw std::logic_error("test client: operation did not complete");
  return result;
}

beast::error_code TlsTestClient::connect_tcp() {
  asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port_);
  beast::error_code error = run(kTimeout, [&](auto handler) {
    beast::get_lowest_layer(stream_).async_connect(server, std::move(handler));
  });
  // As real HTTP clients do; otherwise Nagle holds the first request back for a delayed ACK.
  beast::error_code ignored;
  if (!error)
    beast::get_lowest_layer(stream_).socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  return error;
}

beast::error_code TlsTestClient::handshake() {
  return run(kTimeout, [&](auto handler) {
    stream_.async_handshake(asio::ssl::stream_base::client, std::move(handler));
  });
}

void TlsTestClient::connect() {
  throw_if_failed(connect_tcp(), "connect");
  throw_if_failed(handshake(), "handshake");
}

void TlsTestClient::send(const ClientRequest& request) {
  beast::error_code error =
      run(kTimeout, [&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
  throw_if_failed(error, "send");
}

void TlsTestClient::send_raw(std::string_view bytes) {
  beast::error_code error = run(kTimeout, [&](auto handler) {
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  throw_if_failed(error, "send");
}

ClientResponse TlsTestClient::receive(bool head) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  parser.skip(head);
  beast::error_code error = run(kTimeout, [&](auto handler) {
    http::async_read(stream_, buffer_, parser, std::move(handler));
  });
  throw_if_failed(error, "receive");
  return parser.release();
}

ClientResponse TlsTestClient::round_trip(const ClientRequest& request) {
  send(request);
  return receive(request.method() == http::verb::head);
}

beast::error_code TlsTestClient::receive_error(std::chrono::milliseconds timeout) {
  http::response_parser<http::string_body> parser;
  return run(timeout,
             [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
}

bool TlsTestClient::closed_by_server(std::chrono::milliseconds timeout) {
  beast::error_code error = receive_error(timeout);
  return error && error != beast::error::timeout;
}

ClientRequest make_request(http::verb method, std::string target, std::string body) {
  ClientRequest request(method, target, 11);
  request.set(http::field::host, "localhost");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

}  // namespace sma::server::testing
