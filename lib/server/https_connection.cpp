#include "lib/server/https_connection.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <utility>

#include "lib/server/tls_context.h"

namespace sma::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxTargetBytes = 8 * 1024;
// Read size while waiting for the next request; kept small because idle connections hold it.
constexpr std::size_t kFirstReadBytes = 4 * 1024;
constexpr std::size_t kDiscardReadBytes = 16 * 1024;
// How long a closing connection keeps draining what the client still sends (see close_gracefully).
constexpr std::chrono::seconds kLingerTimeout{2};

std::string describe(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

std::string remote_address_of(const tcp::socket& socket) {
  beast::error_code error;
  tcp::endpoint endpoint = socket.remote_endpoint(error);
  return error ? std::string("unknown") : describe(endpoint);
}

// Parse failures (bad method, bad header line, bad chunk, ...) as opposed to the client going
// away mid-request, which deserves no answer.
bool is_malformed_request(const beast::error_code& error) {
  return error.category() == http::make_error_code(http::error::bad_method).category() &&
         error != http::error::end_of_stream && error != http::error::partial_message;
}

HttpResponse call_handler(const RequestHandler& handler, const HttpRequest& request) {
  try {
    return handler(request);
  } catch (...) {
    // The handler's failure is its own; the transport keeps serving.
    return status_error(500, "InternalError", "internal error");
  }
}

}  // namespace

void HttpsConnection::serve(const std::shared_ptr<ServingContext>& context,
                            std::shared_ptr<asio::ssl::context> tls, tcp::socket socket) {
  // Responses are written whole; Nagle's algorithm would only delay their last segment.
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto connection = std::make_shared<HttpsConnection>(context, std::move(tls), std::move(socket));
  context->connections.add(connection);
  asio::dispatch(connection->strand_, [connection] { connection->begin_handshake(); });
}

HttpsConnection::HttpsConnection(std::shared_ptr<ServingContext> context,
                                 std::shared_ptr<asio::ssl::context> tls, tcp::socket socket)
    : context_(std::move(context)),
      strand_(socket.get_executor()),
      remote_address_(remote_address_of(socket)),
      tls_(std::move(tls)),
      stream_(std::move(socket), *tls_) {}

HttpsConnection::~HttpsConnection() { context_->connections.remove(this); }

void HttpsConnection::shutdown() {
  asio::post(strand_, [self = shared_from_this()] { self->on_shutdown(); });
}

beast::tcp_stream& HttpsConnection::tcp() { return beast::get_lowest_layer(stream_); }

void HttpsConnection::begin_handshake() {
  if (stopping_) return close_now();
  phase_ = Phase::handshaking;
  tcp().expires_after(options().handshake_timeout);
  stream_.async_handshake(
      asio::ssl::stream_base::server,
      [self = shared_from_this()](beast::error_code error) { self->on_handshake(error); });
}

void HttpsConnection::on_handshake(beast::error_code error) {
  if (error || stopping_) return close_now();
  try {
    peer_ = std::make_shared<const PeerCertificates>(
        presented_peer_certificates(stream_.native_handle()));
  } catch (const std::exception&) {
    return close_now();
  }
  await_request();
}

// Idle until the first byte of the next request: idle_timeout applies here, read_timeout after.
void HttpsConnection::await_request() {
  if (stopping_) return close_now();
  if (buffer_.size() > 0) return read_request();  // the client pipelined it already
  phase_ = Phase::awaiting_request;
  buffer_.shrink_to_fit();
  tcp().expires_after(options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](beast::error_code error, std::size_t bytes) {
                            self->on_first_bytes(error, bytes);
                          });
}

void HttpsConnection::on_first_bytes(beast::error_code error, std::size_t bytes) {
  buffer_.commit(bytes);
  if (error || stopping_) return close_now();
  read_request();
}

void HttpsConnection::read_request() {
  phase_ = Phase::reading_request;
  tcp().expires_after(options().read_timeout);
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(options().max_body_bytes);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code error, std::size_t) {
                     self->on_request(error);
                   });
}

void HttpsConnection::on_request(beast::error_code error) {
  if (stopping_) return close_now();
  if (error == http::error::header_limit) {
    return respond_with_error(431, "RequestHeaderFieldsTooLarge",
                              "request header fields too large");
  }
  if (error == http::error::body_limit) {
    return respond_with_error(413, "RequestEntityTooLarge", "request body too large");
  }
  if (is_malformed_request(error)) {
    return respond_with_error(400, "BadRequest", "malformed HTTP request");
  }
  if (error) return close_now();  // timed out, went away, or broke TLS: nobody to answer
  WireRequest request = parser_->release();
  parser_.reset();
  if (request.target().size() > kMaxTargetBytes) {
    return respond_with_error(414, "URITooLong", "request URI too long");
  }
  run_handler(std::move(request));
}

// The handler runs on the worker pool; its response comes back to this connection's strand.
void HttpsConnection::run_handler(WireRequest request) {
  phase_ = Phase::in_handler;
  ResponseFraming framing{request.version(), request.keep_alive(),
                          request.method() == http::verb::head};
  HttpRequest handler_request = to_http_request(std::move(request), remote_address_, peer_);
  if (const FastHandler& fast = context_->options.fast_handler) {
    std::optional<HttpResponse> answered;
    try {
      answered = fast(handler_request);
    } catch (...) {
      answered.reset();  // the worker path answers it, failures included
    }
    if (answered) return respond(to_wire_response(std::move(*answered), framing));
  }
  context_->in_flight.begin();
  context_->workers.post([self = shared_from_this(), framing, handler_request = std::move(handler_request)] {
    HttpResponse response = call_handler(self->context_->handler, handler_request);
    asio::post(self->strand_, [self, framing, response = std::move(response)]() mutable {
      self->respond(to_wire_response(std::move(response), framing));
    });
    self->context_->in_flight.end();
  });
}

void HttpsConnection::respond_with_error(int code, const char* reason, const char* message) {
  respond(to_wire_response(status_error(code, reason, message), ResponseFraming{}));
}

void HttpsConnection::respond(WireResponse response) {
  phase_ = Phase::writing;
  response_ = std::move(response);
  if (stopping_) response_.keep_alive(false);
  // A client that stops reading is dropped like one that stops sending.
  tcp().expires_after(options().read_timeout);
  http::async_write(stream_, response_,
                    [self = shared_from_this()](beast::error_code error, std::size_t) {
                      self->on_written(error);
                    });
}

void HttpsConnection::on_written(beast::error_code error) {
  if (error) return close_now();
  bool keep_alive = response_.keep_alive() && !stopping_;
  response_ = {};
  if (keep_alive) return await_request();
  close_gracefully();
}

// Ends the connection after a final response without losing it: send close_notify and a FIN,
// then read and discard until the client closes. Closing with unread input would make the
// kernel send a reset, which can destroy the response before the client has read it (say, a 413
// while the client is still sending its body).
void HttpsConnection::close_gracefully() {
  phase_ = Phase::closing;
  // Treat the client's close_notify as already received, so the shutdown completes once ours is
  // sent instead of waiting for the client's.
  SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
  tcp().expires_after(kLingerTimeout);  // covers the shutdown and all the draining below
  stream_.async_shutdown(
      [self = shared_from_this()](beast::error_code error) { self->on_tls_closed(error); });
}

void HttpsConnection::on_tls_closed(beast::error_code error) {
  if (error || stopping_) return close_now();
  beast::error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  discard_until_peer_closes();
}

void HttpsConnection::discard_until_peer_closes() {
  buffer_.clear();
  tcp().async_read_some(buffer_.prepare(kDiscardReadBytes),
                        [self = shared_from_this()](beast::error_code error, std::size_t) {
                          if (error || self->stopping_) return self->close_now();
                          self->discard_until_peer_closes();
                        });
}

void HttpsConnection::close_now() {
  phase_ = Phase::closing;
  beast::error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp().close();  // also cancels the timer and every pending operation
}

void HttpsConnection::on_shutdown() {
  stopping_ = true;
  // A request already with the handler still gets its response; on_written then closes.
  if (phase_ == Phase::in_handler || phase_ == Phase::writing) return;
  close_now();
}

}  // namespace sma::server
