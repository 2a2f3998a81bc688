#include "lib/http/http_fetcher.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>

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

// Raised inside cpprestsdk's callbacks to stop reading an answer that is too large; the flag,
// not the exception, is what fetch() looks at (cpprestsdk may replace the exception).
struct BodyLimitReached {};

struct BodyLimit {
  std::size_t max_bytes;
  std::atomic<bool> exceeded{false};
};

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return is_token_char(c); });
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
  if (!response.headers().match(web::http::header_names::content_length, length)) return std::nullopt;
  return length;
}

std::string header_or_empty(const web::http::http_response& response, const std::string& name) {
  std::string value;
  response.headers().match(name, value);
  return value;
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
  config.set_ssl_context_callback([tls](boost::asio::ssl::context& context) { tls->configure(context); });
  if (proxy) {
    web::web_proxy web_proxy{web::uri(proxy->address)};
    if (!proxy->username.empty()) web_proxy.set_credentials(web::credentials(proxy->username, proxy->password));
    config.set_proxy(web_proxy);
  }
  return std::make_unique<client::http_client>(web::uri(target.origin()), config);
}

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
};

HttpFetcher::HttpFetcher(FetcherOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->proxies = ProxySelection::from_options(options);
  impl_->options = std::move(options);
}

HttpFetcher::~HttpFetcher() = default;

const FetcherOptions& HttpFetcher::options() const { return impl_->options; }

FetchResult HttpFetcher::fetch(const OutgoingRequest& request) {
  const FetcherOptions& options = impl_->options;
  const RequestTarget target = parse_request_target(request.url);
  const std::string label = request.method + " " + target.described();
  const auto fail = [&label](FetchError::Kind kind, const std::string& cause) {
    throw FetchError(kind, label + ": " + cause);
  };

  if (!is_token(request.method)) fail(FetchError::Kind::Protocol, "invalid request method");
  for (const auto& [name, value] : request.headers) {
    // Header values are never quoted in messages: one of them is the bearer token.
    if (!is_token(name)) fail(FetchError::Kind::Protocol, "invalid header name");
    if (breaks_header_line(value)) fail(FetchError::Kind::Protocol, "header " + name + " contains a line break");
  }

  std::shared_ptr<OriginClient> origin;
  web::http::http_request message(request.method);
  try {
    origin = impl_->client_for(target);
    message.set_request_uri(web::uri(target.path_and_query));
  } catch (const FetchError& error) {
    fail(error.kind(), error.what());
  } catch (const web::uri_exception&) {
    fail(FetchError::Kind::Protocol, "the URL (or the proxy URL) is not a valid URI");
  }
  for (const auto& [name, value] : request.headers) message.headers().add(name, value);
  if (request_has_body(request)) message.set_body(request.body, "application/octet-stream");

  // The answer goes into our own buffer; the progress handler and the Content-Length check stop
  // the transfer once it passes the limit, so at most one read chunk beyond it is ever held.
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

  pplx::cancellation_token_source cancellation;
  auto answer = std::make_shared<std::promise<web::http::http_response>>();
  std::future<web::http::http_response> answered = answer->get_future();
  const auto deadline = Clock::now() + options.timeout;
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
    fail(FetchError::Kind::Timeout,
         "no complete answer within " + std::to_string(options.timeout.count()) + " ms");
  }

  web::http::http_response response;
  try {
    response = answered.get();
  } catch (...) {
    if (limit->exceeded) {
      fail(FetchError::Kind::BodyTooLarge,
           "the answer is larger than " + std::to_string(limit->max_bytes) + " bytes");
    }
    try {
      throw;
    } catch (const FetchError& error) {
      fail(error.kind(), error.what());
    } catch (const web::http::http_exception& error) {
      const TransportFailure failure =
          classify_transport_failure(error, origin->tls->last_verification_failure());
      std::string cause = failure.cause;
      if (failure.kind == FetchError::Kind::Connect && target.host.front() == '[') {
        cause += " (cpprestsdk cannot connect to IPv6 address literals; use a DNS name)";
      }
      if (origin->proxy) cause += " (via proxy " + origin->proxy->address + ")";
      fail(failure.kind, cause);
    } catch (const std::exception& error) {
      fail(FetchError::Kind::Protocol, error.what());
    }
  }

  const ResponseBytes& bytes = body_buffer.collection();
  if (bytes.size() > options.max_body_bytes) {
    fail(FetchError::Kind::BodyTooLarge,
         "the answer is larger than " + std::to_string(options.max_body_bytes) + " bytes");
  }
  FetchResult result;
  result.status = response.status_code();
  result.body.assign(bytes.begin(), bytes.end());
  result.content_type = header_or_empty(response, web::http::header_names::content_type);
  result.retry_after = header_or_empty(response, "Retry-After");
  return result;
}

}  // namespace sma::http
