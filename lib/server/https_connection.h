// One accepted TCP connection: the TLS handshake, then HTTP/1.1 requests one after another
// (keep-alive), each handed to the worker pool and answered in order.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>

#include "lib/server/http_messages.h"
#include "lib/server/serving_context.h"

namespace sma::server {

class HttpsConnection : public std::enable_shared_from_this<HttpsConnection> {
 public:
  // Takes over an accepted socket, whose executor must be a strand of its own, registers the
  // connection with the context and starts the handshake. The connection keeps `tls` for its
  // whole life, whatever certificate the server serves to later connections.
  static void serve(const std::shared_ptr<ServingContext>& context,
                    std::shared_ptr<boost::asio::ssl::context> tls,
                    boost::asio::ip::tcp::socket socket);

  // Thread-safe. Closes at once when handshaking, idle or reading a request; when a request is
  // with the handler or its response is being written, closes after that response.
  void shutdown();

  HttpsConnection(std::shared_ptr<ServingContext> context,
                  std::shared_ptr<boost::asio::ssl::context> tls,
                  boost::asio::ip::tcp::socket socket);
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

 private:
  enum class Phase { handshaking, awaiting_request, reading_request, in_handler, writing, closing };

  boost::beast::tcp_stream& tcp();
  const HttpsServerOptions& options() const { return context_->options; }

  void begin_handshake();
  void on_handshake(boost::beast::error_code error);
  void await_request();
  void on_first_bytes(boost::beast::error_code error, std::size_t bytes);
  void read_request();
  void on_request(boost::beast::error_code error);
  void run_handler(WireRequest request);
  void respond(WireResponse response);
  void respond_with_error(int code, const char* reason, const char* message);
  void on_written(boost::beast::error_code error);
  void close_gracefully();
  void on_tls_closed(boost::beast::error_code error);
  void discard_until_peer_closes();
  void close_now();
  void on_shutdown();

  const std::shared_ptr<ServingContext> context_;
  const boost::asio::ip::tcp::socket::executor_type strand_;  // every step below runs on it
  const std::string remote_address_;                          // "127.0.0.1:53422"
  // Declared before stream_, so it outlives the SSL object made from it.
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  WireResponse response_;
  std::shared_ptr<const PeerCertificates> peer_;  // set by the handshake, shared by all requests
  Phase phase_ = Phase::handshaking;
  bool stopping_ = false;  // the server is stopping: no further requests on this connection
};

}  // namespace sma::server
