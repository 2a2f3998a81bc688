#include "lib/server/https_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "lib/server/https_connection.h"
#include "lib/server/serving_certificate.h"
#include "lib/server/serving_context.h"
#include "lib/server/worker_pool.h"

namespace sma::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// After a failed accept (typically out of file descriptors), wait instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

std::string describe_endpoint(const std::string& address, std::uint16_t port) {
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

}  // namespace

struct HttpsServer::Impl {
  Impl(HttpsServerOptions options_in, RequestHandler handler_in)
      : options(std::move(options_in)), handler(std::move(handler_in)) {}

  void start();
  void stop();
  void listen();
  void accept_next();
  void on_accept(const boost::system::error_code& error, tcp::socket socket);
  void stop_accepting();
  void schedule_certificate_check();
  bool reload_certificate();
  std::shared_ptr<ServingCertificate> serving_certificate();  // null when not running
  void run_io();
  void tear_down();

  HttpsServerOptions options;
  RequestHandler handler;  // moved into `context` by start()

  std::mutex lifecycle;  // serialises start() and stop()
  bool started = false;
  bool running = false;
  std::atomic<std::uint16_t> bound_port{0};

  // Declared in dependency order; tear_down() destroys them in reverse.
  std::shared_ptr<ServingContext> context;
  std::optional<WorkerPool> workers;
  std::optional<asio::io_context> io;
  // Set by start() before any io thread runs, reset by tear_down() after they all returned: the
  // accept path reads it without a lock. reload_certificate() may run on any thread at any time.
  std::mutex certificate_mutex;
  std::shared_ptr<ServingCertificate> certificate;  // written under certificate_mutex
  std::optional<tcp::acceptor> acceptor;  // runs on a strand of its own
  std::optional<asio::steady_timer> accept_retry;
  std::optional<asio::steady_timer> certificate_check;  // on the acceptor's strand
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_io_running;
  std::vector<std::thread> io_threads;
};

void HttpsServer::Impl::start() {
  std::lock_guard lock(lifecycle);
  if (started) throw std::runtime_error("HTTPS server: start() called twice");
  started = true;
  try {
    auto serving = std::make_shared<ServingCertificate>(options.cert_file, options.key_file,
                                                        options.on_certificate_event, options.on_certificate_in_force);
    {
      std::lock_guard certificate_lock(certificate_mutex);
      certificate = std::move(serving);
    }
    io.emplace();
    listen();
  } catch (...) {
    tear_down();
    throw;
  }

  workers.emplace(static_cast<std::size_t>(std::max(1, options.worker_threads)),
                  static_cast<std::size_t>(std::max(options.worker_threads, options.max_worker_threads)),
                  options.worker_idle_exit);
  context = std::make_shared<ServingContext>(options, std::move(handler), *workers);
  keep_io_running.emplace(io->get_executor());
  running = true;
  accept_next();
  if (certificate->reloadable() && options.certificate_check_interval.count() > 0) {
    schedule_certificate_check();
  }
  int thread_count = std::max(1, options.io_threads);
  for (int i = 0; i < thread_count; ++i) io_threads.emplace_back([this] { run_io(); });
}

void HttpsServer::Impl::listen() {
  std::string where = describe_endpoint(options.bind_address, options.port);
  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(options.bind_address, error);
  if (error) {
    throw std::runtime_error("invalid bind address \"" + options.bind_address +
                             "\": " + error.message());
  }
  tcp::endpoint endpoint(address, options.port);
  acceptor.emplace(asio::make_strand(*io));
  accept_retry.emplace(acceptor->get_executor());
  certificate_check.emplace(acceptor->get_executor());
  auto fail = [&](const char* step) {
    throw std::runtime_error("cannot " + std::string(step) + " " + where + ": " + error.message());
  };
  acceptor->open(endpoint.protocol(), error);
  if (error) fail("open a socket for");
  acceptor->set_option(tcp::acceptor::reuse_address(true), error);
  if (error) fail("configure");
  if (address.is_v6() && address.is_unspecified()) {
    // "::" means every address, IPv4 included, whatever the system default.
    acceptor->set_option(asio::ip::v6_only(false), error);
    error.clear();
  }
  acceptor->bind(endpoint, error);
  if (error) fail("bind");
  acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) fail("listen on");
  tcp::endpoint bound = acceptor->local_endpoint(error);
  if (error) fail("read the port of");
  bound_port = bound.port();
}

void HttpsServer::Impl::accept_next() {
  acceptor->async_accept(asio::make_strand(*io),
                         [this](const boost::system::error_code& error, tcp::socket socket) {
                           on_accept(error, std::move(socket));
                         });
}

void HttpsServer::Impl::on_accept(const boost::system::error_code& error, tcp::socket socket) {
  if (!acceptor->is_open()) return;  // stop_accepting() ran
  if (error) {
    accept_retry->expires_after(kAcceptRetryDelay);
    accept_retry->async_wait([this](const boost::system::error_code& wait_error) {
      if (!wait_error && acceptor->is_open()) accept_next();
    });
    return;
  }
  try {
    HttpsConnection::serve(context, certificate->current(), std::move(socket));
  } catch (const std::exception&) {
    // Could not set the connection up (out of memory): drop it, keep accepting others.
  }
  accept_next();
}

void HttpsServer::Impl::stop_accepting() {
  boost::system::error_code ignored;
  acceptor->close(ignored);
  accept_retry->cancel();
  certificate_check->cancel();
}

// Runs on the acceptor's strand, where an open acceptor means the server is still running.
void HttpsServer::Impl::schedule_certificate_check() {
  certificate_check->expires_after(options.certificate_check_interval);
  certificate_check->async_wait([this](const boost::system::error_code& error) {
    if (error || !acceptor->is_open()) return;
    try {
      certificate->reload_if_changed();  // reports what it did itself
    } catch (const std::exception&) {
      // Out of memory while reporting: try again at the next check.
    }
    schedule_certificate_check();
  });
}

bool HttpsServer::Impl::reload_certificate() {
  std::shared_ptr<ServingCertificate> serving;
  {
    std::lock_guard lock(certificate_mutex);
    serving = certificate;
  }
  return serving != nullptr && serving->reload();
}

std::shared_ptr<ServingCertificate> HttpsServer::Impl::serving_certificate() {
  std::lock_guard lock(certificate_mutex);
  return certificate;
}

void HttpsServer::Impl::run_io() {
  for (;;) {
    try {
      io->run();
      return;
    } catch (const std::exception&) {
      // An exception escaping one connection's handler must not stop the others being served.
    }
  }
}

void HttpsServer::Impl::stop() {
  std::lock_guard lock(lifecycle);
  if (!running) return;
  running = false;

  asio::post(acceptor->get_executor(), [this] { stop_accepting(); });
  // Idle and half-read connections close now; requests already with a handler are answered.
  context->connections.close_all();
  context->in_flight.wait_until_idle(options.shutdown_grace);
  // The io threads return once the last response is written (bounded by its write timeout).
  keep_io_running.reset();
  for (std::thread& thread : io_threads) thread.join();
  io_threads.clear();
  // A handler that outlived the wait is still joined: its thread cannot be abandoned safely.
  workers->join();
  tear_down();
}

// Also drops whatever the io_context still holds, such as a response that came too late.
void HttpsServer::Impl::tear_down() {
  keep_io_running.reset();
  certificate_check.reset();
  accept_retry.reset();
  acceptor.reset();
  io.reset();
  {
    std::lock_guard lock(certificate_mutex);
    certificate.reset();
  }
  workers.reset();
  context.reset();
}

HttpsServer::HttpsServer(HttpsServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpsServer::~HttpsServer() {
  try {
    stop();
  } catch (...) {
    // Nothing sensible left to do while destroying.
  }
}

void HttpsServer::start() { impl_->start(); }

std::uint16_t HttpsServer::port() const { return impl_->bound_port.load(); }

bool HttpsServer::reload_certificate() { return impl_->reload_certificate(); }

bool HttpsServer::install_certificate(const std::string& certificate_pem, const std::string& key_pem,
                                      const std::string& source) {
  std::shared_ptr<ServingCertificate> serving = impl_->serving_certificate();
  if (!serving) throw std::runtime_error("the HTTPS server is not running");
  return serving->install(certificate_pem, key_pem, source);
}

std::string HttpsServer::certificate_pem() const {
  std::shared_ptr<ServingCertificate> serving = impl_->serving_certificate();
  return serving ? serving->certificate_pem() : std::string();
}

void HttpsServer::stop() { impl_->stop(); }

}  // namespace sma::server
