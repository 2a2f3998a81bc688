#include "lib/http/http_fetcher.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include "lib/api/no_wait.h"
#include "lib/http/proxy_selection.h"
#include "lib/http/request_target.h"
#include "lib/http/tls_client_setup.h"
#include "lib/http/transport_failure.h"

namespace sma::http {
namespace {

namespace client = web::http::client;
using Clock = std::chrono::steady_clock;
using ResponseBytes = std::vector<std::uint8_t>;

// Everything requests to one scheme://host:port share. cpprestsdk pools connections per client.
struct OriginClient {
  std::shared_ptr<TlsClientSetup> tls;
  std::optional<ProxyEndpoint> proxy;
  std::unique_ptr<client::http_client> http;
};

// Raised inside cpprestsdk's callbacks to stop reading an answer that is too large. fetch() looks
// at BodyLimit::exceeded rather than at this exception, which cpprestsdk may replace.
struct BodyLimitReached {};

// How much of an answer may arrive. The progress handler sees the running total after each read
// (at most one 64 KiB read past the limit) and a declared Content-Length is checked before any of
// the body is read. One gap is cpprestsdk's: it reads each chunk of a chunked answer whole before
// reporting progress, so a server sending one giant chunk is stopped only by the deadline.
struct BodyLimit {
  std::size_t max_bytes = 0;
  std::atomic<bool> exceeded{false};
};

bool is_token_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return is_token_char(c); });
}

bool breaks_header_line(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool request_has_body(const OutgoingRequest& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
         request.method == "PATCH";
}

std::optional<std::uint64_t> declared_length(const web::http::http_response& response) {
  std::uint64_t length = 0;
  if (!response.headers().match(web::http::header_names::content_length, length)) {
    return std::nullopt;
  }
  return length;
}

std::string header_or_empty(const web::http::http_response& response, const std::string& name) {
  std::string value;
  response.headers().match(name, value);
  return value;
}

std::string too_large(std::size_t max_bytes) {
  return "the answer is larger than " + std::to_string(max_bytes) + " bytes";
}

std::unique_ptr<client::http_client> make_http_client(const RequestTarget& target,
                                                      const FetcherOptions& options,
                                                      const std::shared_ptr<TlsClientSetup>& tls,
                                                      const std::optional<ProxyEndpoint>& proxy) {
  client::http_client_config config;
  // cpprestsdk restarts this timer on every read or write; fetch() adds the whole-request deadline.
  config.set_timeout(options.timeout);
  // A followed redirect would carry the Authorization header to wherever Location points.
  config.set_max_redirects(0);
  config.set_validate_certificates(!options.insecure_skip_verify);
  config.set_ssl_context_callback(
      [tls](boost::asio::ssl::context& context) { tls->configure(context); });
  if (proxy) {
    web::web_proxy web_proxy{web::uri(proxy->address)};
    if (!proxy->username.empty()) {
      web_proxy.set_credentials(web::credentials(proxy->username, proxy->password));
    }
    config.set_proxy(web_proxy);
  }
  return std::make_unique<client::http_client>(web::uri(target.authority_url()), config);
}

// The cause of a failed exchange, in the words of a FetchError. Called inside a catch block.
std::pair<FetchError::Kind, std::string> failure_cause(const RequestTarget& target,
                                                       const OriginClient& origin) {
  try {
    throw;
  } catch (const FetchError& error) {
    return {error.kind(), error.what()};
  } catch (const web::http::http_exception& error) {
    TransportFailure failure =
        classify_transport_failure(error, origin.tls->last_verification_failure());
    if (failure.kind == FetchError::Kind::Connect && target.host.front() == '[') {
      failure.cause += " (cpprestsdk cannot connect to IPv6 address literals; use a DNS name)";
    }
    if (origin.proxy) failure.cause += " (via proxy " + origin.proxy->address + ")";
    return {failure.kind, failure.cause};
  } catch (const std::exception& error) {
    return {FetchError::Kind::Protocol, error.what()};
  } catch (...) {
    return {FetchError::Kind::Protocol, "unknown failure"};
  }
}

// A request checked and turned into cpprestsdk's message, with the client of its origin.
struct PreparedRequest {
  RequestTarget target;
  std::string label;  // "GET https://host/path", for messages
  std::shared_ptr<OriginClient> origin;
  web::http::http_request message;

  [[noreturn]] void fail(FetchError::Kind kind, const std::string& cause) const {
    throw FetchError(kind, label + ": " + cause);
  }
};

}  // namespace

struct HttpFetcher::Impl {
  FetcherOptions options;
  ProxySelection proxies;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<OriginClient>> clients;  // by origin

  std::shared_ptr<OriginClient> client_for(const RequestTarget& target) {
    std::lock_guard lock(mutex);
    auto& entry = clients[target.origin()];
    if (!entry) {
      auto created = std::make_shared<OriginClient>();
      created->tls = std::make_shared<TlsClientSetup>(options);
      created->proxy = proxies.proxy_for(target);
      created->http = make_http_client(target, options, created->tls, created->proxy);
      entry = std::move(created);
    }
    return entry;
  }

  PreparedRequest prepare(const OutgoingRequest& request) {
    PreparedRequest prepared{parse_request_target(request.url), "", nullptr,
                             web::http::http_request(request.method)};
    prepared.label = request.method + " " + prepared.target.described();
    const auto fail = [&prepared](FetchError::Kind kind, const std::string& cause) { prepared.fail(kind, cause); };

    if (!is_token(request.method)) fail(FetchError::Kind::Protocol, "invalid request method");
    for (const auto& [name, value] : request.headers) {
      // Header values are never quoted in messages: one of them is the bearer token.
      if (!is_token(name)) fail(FetchError::Kind::Protocol, "invalid header name");
      if (breaks_header_line(value)) {
        fail(FetchError::Kind::Protocol, "header " + name + " contains a line break");
      }
    }

    web::http::http_request& message = prepared.message;
    try {
      prepared.origin = client_for(prepared.target);
      message.set_request_uri(web::uri(prepared.target.path_and_query));
    } catch (const FetchError& error) {
      fail(error.kind(), error.what());
    } catch (const web::uri_exception&) {
      fail(FetchError::Kind::Protocol, "the URL (or the proxy URL) is not a valid URI");
    } catch (const std::exception& error) {
      fail(FetchError::Kind::Protocol, std::string("cannot prepare the request: ") + error.what());
    }
    for (const auto& [name, value] : request.headers) message.headers().add(name, value);
    if (request_has_body(request)) {
      // Bytes, not a string: cpprestsdk's string body views a char buffer as a uint8_t one, which
      // UndefinedBehaviorSanitizer rightly reports. Content-Type stays the caller's when given.
      message.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
    }
    return prepared;
  }
};

HttpFetcher::HttpFetcher(FetcherOptions options) : impl_(std::make_unique<Impl>()) {
  // OpenSSL registers its exit-time cleanup when first initialised. Doing that before cpprestsdk
  // starts its thread pool makes the cleanup run after the pool's threads have ended and freed
  // their per-thread OpenSSL state, instead of stranding it (LeakSanitizer reports that).
  OPENSSL_init_ssl(0, nullptr);
  impl_->proxies = ProxySelection::from_options(options);
  impl_->options = std::move(options);
}

HttpFetcher::~HttpFetcher() = default;

const FetcherOptions& HttpFetcher::options() const { return impl_->options; }

FetchResult HttpFetcher::fetch(const OutgoingRequest& request) {
  api::WaitScope waiting;  // a network exchange: never on a thread that may not wait
  const FetcherOptions& options = impl_->options;
  PreparedRequest prepared = impl_->prepare(request);
  const RequestTarget& target = prepared.target;
  const auto fail = [&prepared](FetchError::Kind kind, const std::string& cause) { prepared.fail(kind, cause); };
  std::shared_ptr<OriginClient>& origin = prepared.origin;
  web::http::http_request& message = prepared.message;

  // Nothing is sent once the API request's deadline has passed: the caller answers without it.
  if (request.deadline.expired()) fail(FetchError::Kind::Timeout, "the request's deadline passed before the call");

  // Where the answer goes, and how much of it is accepted.
  Concurrency::streams::container_buffer<ResponseBytes> body_buffer;
  message.set_response_stream(Concurrency::streams::ostream(body_buffer));
  auto limit = std::make_shared<BodyLimit>();
  limit->max_bytes = options.max_body_bytes;
  message.set_progress_handler([limit](web::http::message_direction::direction direction,
                                       utility::size64_t bytes_so_far) {
    if (direction == web::http::message_direction::download && bytes_so_far > limit->max_bytes) {
      limit->exceeded = true;
      throw BodyLimitReached{};
    }
  });

  // The exchange, bounded by one deadline from connect to the last byte of the body: the
  // configured timeout, or what is left of the API request when that is less.
  pplx::cancellation_token_source cancellation;
  auto answer = std::make_shared<std::promise<web::http::http_response>>();
  std::future<web::http::http_response> answered = answer->get_future();
  const auto deadline = request.deadline.end_of(options.timeout, Clock::now());
  const bool cut_short = deadline == request.deadline.when();
  try {
    origin->http->request(message, cancellation.get_token())
        .then([limit, cancellation](web::http::http_response response) {
          const auto length = declared_length(response);
          if (length && *length > limit->max_bytes) {
            limit->exceeded = true;
            cancellation.cancel();  // closes the connection instead of draining the body
            throw BodyLimitReached{};
          }
          return response.content_ready();
        })
        .then([answer](pplx::task<web::http::http_response> finished) {
          try {
            answer->set_value(finished.get());
          } catch (...) {
            answer->set_exception(std::current_exception());
          }
        });
  } catch (const std::exception& error) {
    fail(FetchError::Kind::Protocol, std::string("cannot start the request: ") + error.what());
  }
  if (answered.wait_until(deadline) == std::future_status::timeout) {
    cancellation.cancel();  // cpprestsdk closes the socket; the abandoned task ends on its own
    fail(FetchError::Kind::Timeout, cut_short ? std::string("no complete answer before the request's deadline")
                                              : "no complete answer within " + std::to_string(options.timeout.count()) +
                                                    " ms");
  }

  web::http::http_response response;
  try {
    response = answered.get();
  } catch (...) {
    if (limit->exceeded) fail(FetchError::Kind::BodyTooLarge, too_large(limit->max_bytes));
    const auto [kind, cause] = failure_cause(target, *origin);
    fail(kind, cause);
  }
  const ResponseBytes& bytes = body_buffer.collection();
  if (bytes.size() > options.max_body_bytes) {
    fail(FetchError::Kind::BodyTooLarge, too_large(options.max_body_bytes));
  }

  FetchResult result;
  result.status = response.status_code();
  result.body.assign(bytes.begin(), bytes.end());
  result.content_type = header_or_empty(response, web::http::header_names::content_type);
  result.retry_after = header_or_empty(response, "Retry-After");
  return result;
}

void set_client_threads(std::size_t threads) {
  // OpenSSL first, as in HttpFetcher's constructor: its exit-time cleanup must run after the pool's
  // threads have ended, so it must be registered before the pool starts.
  OPENSSL_init_ssl(0, nullptr);
  try {
    crossplat::threadpool::initialize_with_threads(threads);
  } catch (const std::exception&) {
    // Already running: it keeps its size.
  }
}

void StreamCancel::cancel() {
  std::function<void()> action;
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    action = action_;
  }
  if (action) action();
}

bool StreamCancel::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

void StreamCancel::set_action(std::function<void()> action) {
  std::lock_guard lock(mutex_);
  action_ = std::move(action);
}

namespace {

// One stream_async() answer: a chain of cpprestsdk continuations, no thread of its own. Each step
// holds the object alive through its shared_ptr; the next read is asked for only after the current
// handler returned, so one stream's handlers never run at the same time.
class AsyncStream : public std::enable_shared_from_this<AsyncStream> {
 public:
  AsyncStream(PreparedRequest prepared, AsyncStreamHandlers handlers, std::shared_ptr<StreamCancel> cancel,
              std::size_t max_body_bytes)
      : prepared_(std::move(prepared)),
        handlers_(std::move(handlers)),
        cancel_(std::move(cancel)),
        max_body_bytes_(max_body_bytes),
        piece_(64 * 1024) {}

  void start() {
    // cpprestsdk closes the connection when the token is cancelled, which also ends a body being read.
    pplx::cancellation_token_source cancellation = cancellation_;
    cancel_->set_action([cancellation] { cancellation.cancel(); });
    if (cancel_->cancelled()) return end_cancelled();
    auto self = shared_from_this();
    try {
      prepared_.origin->http->request(prepared_.message, cancellation_.get_token())
          .then([self](pplx::task<web::http::http_response> answered) { self->on_headers(std::move(answered)); });
    } catch (...) {
      fail();
    }
  }

 private:
  void on_headers(pplx::task<web::http::http_response> answered) {
    try {
      response_ = answered.get();
    } catch (...) {
      return cancel_->cancelled() ? end_cancelled() : fail();
    }
    end_.result.status = response_.status_code();
    end_.result.content_type = header_or_empty(response_, web::http::header_names::content_type);
    end_.result.retry_after = header_or_empty(response_, "Retry-After");
    body_ = response_.body().streambuf();
    if (end_.result.status < 200 || end_.result.status >= 300) return read_error_answer();
    try {
      if (handlers_.opened) handlers_.opened();
    } catch (...) {
      return fail();
    }
    read_on();
  }

  // An error answer is short: read it whole, within the size limit.
  void read_error_answer() {
    const auto length = declared_length(response_);
    if (length && *length > max_body_bytes_) {
      cancellation_.cancel();
      return fail_with(FetchError(FetchError::Kind::BodyTooLarge, prepared_.label + ": " + too_large(max_body_bytes_)));
    }
    auto self = shared_from_this();
    response_.content_ready().then([self](pplx::task<web::http::http_response> ready) {
      try {
        ready.get();  // rethrows a connection lost before the end
        std::vector<std::uint8_t> bytes(std::min(self->body_.in_avail(), self->max_body_bytes_));
        if (!bytes.empty()) bytes.resize(self->body_.getn(bytes.data(), bytes.size()).get());
        self->end_.result.body.assign(bytes.begin(), bytes.end());
      } catch (...) {
        return self->cancel_->cancelled() ? self->end_cancelled() : self->fail();
      }
      self->finish();
    });
  }

  // Hands over what is buffered, then waits (without a thread) for the next byte or the end.
  void read_on() {
    while (true) {
      if (cancel_->cancelled()) return end_cancelled();
      std::size_t available = 0;
      try {
        available = body_.in_avail();
        if (available == 0) break;
        // Buffered bytes: this completes at once.
        std::size_t got = body_.getn(piece_.data(), std::min(available, piece_.size())).get();
        if (!deliver(got)) return;
      } catch (...) {
        return cancel_->cancelled() ? end_cancelled() : fail();
      }
    }
    auto self = shared_from_this();
    body_.bumpc().then([self](pplx::task<int> next) {
      int byte = 0;
      try {
        byte = next.get();
      } catch (...) {
        return self->cancel_->cancelled() ? self->end_cancelled() : self->fail();
      }
      if (byte == std::char_traits<char>::eof()) return self->on_body_end();
      self->piece_[0] = static_cast<std::uint8_t>(byte);
      if (self->deliver(1)) self->read_on();
    });
  }

  // False when the stream has ended (the reader stopped or threw).
  bool deliver(std::size_t got) {
    bool more = false;
    try {
      more = handlers_.data(std::string_view(reinterpret_cast<const char*>(piece_.data()), got));
    } catch (const std::exception& error) {
      cancellation_.cancel();  // the reader gave up on the answer: close it rather than read on
      fail_with(FetchError(FetchError::Kind::Protocol, prepared_.label + ": " + error.what()));
      return false;
    }
    if (!more) {
      cancellation_.cancel();  // close the connection rather than drain the answer
      end_.stopped = true;
      finish();
      return false;
    }
    return true;
  }

  // An answer cut off mid-body shows as a failure of the answer rather than in the buffer.
  void on_body_end() {
    auto self = shared_from_this();
    response_.content_ready().then([self](pplx::task<web::http::http_response> ready) {
      try {
        ready.get();
      } catch (...) {
        return self->cancel_->cancelled() ? self->end_cancelled() : self->fail();
      }
      self->finish();
    });
  }

  // Called inside a catch block.
  void fail() {
    const auto [kind, cause] = failure_cause(prepared_.target, *prepared_.origin);
    cancellation_.cancel();
    fail_with(FetchError(kind, prepared_.label + ": " + cause));
  }

  void fail_with(FetchError error) {
    end_.failure = std::make_shared<const FetchError>(std::move(error));
    finish();
  }

  void end_cancelled() {
    end_.cancelled = true;
    finish();
  }

  void finish() {
    if (finished_.exchange(true)) return;
    cancel_->set_action({});
    if (handlers_.done) {
      try {
        handlers_.done(end_);
      } catch (...) {
        // The owner's bookkeeping failed; nothing is left to tell.
      }
    }
  }

  PreparedRequest prepared_;
  AsyncStreamHandlers handlers_;
  std::shared_ptr<StreamCancel> cancel_;
  const std::size_t max_body_bytes_;
  pplx::cancellation_token_source cancellation_;
  web::http::http_response response_;
  Concurrency::streams::streambuf<std::uint8_t> body_;
  std::vector<std::uint8_t> piece_;
  StreamEnd end_;
  std::atomic<bool> finished_{false};
};

}  // namespace

void HttpFetcher::stream_async(const OutgoingRequest& request, AsyncStreamHandlers handlers,
                               std::shared_ptr<StreamCancel> cancel) {
  PreparedRequest prepared = impl_->prepare(request);  // throws FetchError for a request that cannot be sent
  auto stream = std::make_shared<AsyncStream>(std::move(prepared), std::move(handlers), std::move(cancel),
                                              impl_->options.max_body_bytes);
  stream->start();
}

FetchResult HttpFetcher::stream(const OutgoingRequest& request, const StreamHandlers& handlers,
                                StreamCancel& cancel) {
  api::WaitScope waiting;
  // The waiting form of stream_async: the caller's thread waits for `done`.
  auto ended = std::make_shared<std::promise<StreamEnd>>();
  std::future<StreamEnd> end = ended->get_future();
  AsyncStreamHandlers async;
  async.opened = handlers.opened;
  async.data = handlers.data;
  async.done = [ended](const StreamEnd& how) { ended->set_value(how); };
  // A StreamCancel the caller owns, seen through a shared_ptr that does not own it: this call
  // returns only after `done`, so it outlives the stream.
  std::shared_ptr<StreamCancel> borrowed(&cancel, [](StreamCancel*) {});
  stream_async(request, std::move(async), borrowed);
  StreamEnd how = end.get();
  if (how.failure) throw *how.failure;
  return how.cancelled ? FetchResult{} : how.result;
}

}  // namespace sma::http
