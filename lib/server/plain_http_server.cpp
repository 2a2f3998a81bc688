#include "lib/server/plain_http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>

namespace sma::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(5);

// One connection: read one request, answer it, close.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(tcp::socket socket, const RequestHandler& handler) : stream_(std::move(socket)), handler_(handler) {
    parser_.header_limit(kMaxHeaderBytes);
    parser_.body_limit(0);
  }

  void run() {
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    HttpResponse answer;
    if (ec) {
      if (ec == beast::error::timeout || ec == http::error::end_of_stream) return;
      answer.status = ec == http::error::header_limit ? 431 : 400;
      answer.content_type = "text/plain; charset=utf-8";
      answer.body = "bad request\n";
    } else {
      const auto& message = parser_.get();
      HttpRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) request.headers.emplace_back(field.name_string(), field.value());
      request.peer = std::make_shared<PeerCertificates>();
      try {
        answer = handler_(request);
      } catch (...) {
        answer = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
      }
    }
    response_.result(static_cast<unsigned>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    response_.set(http::field::connection, "close");
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  const RequestHandler& handler_;
};

}  // namespace

struct PlainHttpServer::Impl {
  std::string bind_address;
  std::uint16_t requested_port;
  RequestHandler handler;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<std::uint16_t> bound_port{0};

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<Exchange>(std::move(socket), handler)->run();
      accept();
    });
  }
};

PlainHttpServer::PlainHttpServer(std::string bind_address, std::uint16_t port, RequestHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->bind_address = std::move(bind_address);
  impl_->requested_port = port;
  impl_->handler = std::move(handler);
}

PlainHttpServer::~PlainHttpServer() { stop(); }

void PlainHttpServer::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->bind_address, ec);
  if (ec) throw std::runtime_error("invalid metrics bind address \"" + impl_->bind_address + "\"");
  tcp::endpoint endpoint(address, impl_->requested_port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->bind_address + ":" + std::to_string(impl_->requested_port) +
                             " for metrics: " + ec.message());
  }
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

std::uint16_t PlainHttpServer::port() const { return impl_->bound_port.load(); }

void PlainHttpServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace sma::server
