// Outgoing HTTP(S) for every remote the adapter talks to (Sysdig, Prometheus, the Kubernetes API),
// on cpprestsdk's client. One place for timeouts, CA files, proxies and body limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "lib/api/deadline.h"

namespace sma::http {

struct OutgoingRequest {
  std::string method = "GET";
  std::string url;  // absolute: "https://host:port/path?query"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The API request's deadline: the exchange ends by min(FetcherOptions::timeout, time left).
  // Not part of what is sent, nor of the cache key.
  api::Deadline deadline;
  // How long the value cache may reuse the answer (a rule's cacheTTL); unset: the cache's default
  // (--cache-ttl). Not sent, not part of the cache key.
  std::optional<std::chrono::milliseconds> reuse_for;
  // Sent only to explain a failed answer (a 404's check of the whole cluster): not part of what an
  // API path becomes, so `explain` leaves it out. Not sent, not part of the cache key.
  bool follow_up = false;
};

// An answer body kept by the value cache and handed to every request that reuses it, with what a
// reader parsed out of it: the first reader parses, every later one (any thread) gets the same
// object, so a large answer is neither copied nor parsed again per request.
class SharedBody {
 public:
  explicit SharedBody(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

  // The body read by `parse` (a callable std::string_view -> T), once per body and type.
  template <typename T, typename Parse>
  std::shared_ptr<const T> parsed(Parse&& parse) const {
    std::lock_guard lock(mutex_);  // concurrent first readers wait for one parse
    if (parsed_ && *parsed_type_ == typeid(T)) return std::static_pointer_cast<const T>(parsed_);
    auto value = std::make_shared<const T>(parse(std::string_view(text_)));
    parsed_ = value;
    parsed_type_ = &typeid(T);
    return value;
  }

 private:
  const std::string text_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const void> parsed_;
  mutable const std::type_info* parsed_type_ = nullptr;
};

struct FetchResult {
  int status = 0;
  std::string body;  // empty when `shared` holds it
  std::string content_type;
  std::string retry_after;  // the Retry-After header, when present
  std::shared_ptr<const SharedBody> shared;  // the body of an answer the value cache keeps

  std::string_view text() const { return shared ? std::string_view(shared->text()) : std::string_view(body); }
  // What `parse` makes of the body: memoised with a cached answer, parsed afresh otherwise.
  template <typename T, typename Parse>
  std::shared_ptr<const T> parsed(Parse&& parse) const {
    if (shared) return shared->parsed<T>(std::forward<Parse>(parse));
    return std::make_shared<const T>(parse(std::string_view(body)));
  }
};

// The request did not produce a complete answer. Never carries header values (tokens).
class FetchError : public std::runtime_error {
 public:
  enum class Kind { Timeout, Connect, BodyTooLarge, Protocol };
  FetchError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct FetcherOptions {
  std::chrono::milliseconds timeout{5000};  // whole request, connect to last body byte
  std::string ca_file;                      // PEM bundle to trust instead of the system store
  bool insecure_skip_verify = false;        // kubeconfig's insecure-skip-tls-verify only
  std::string client_cert_file;             // PEM client certificate (kubeconfig users)
  std::string client_key_file;
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // larger answers fail without buffering more
  // Proxy settings; empty means "read HTTPS_PROXY / HTTP_PROXY / NO_PROXY (any case) from the
  // environment".
  std::string proxy_url;
  std::string no_proxy;
};

// Ends a running HttpFetcher::stream() from another thread (shutdown). Cancelling before the stream
// starts makes it end at once.
class StreamCancel {
 public:
  void cancel();
  bool cancelled() const;
  // What cancel() does for the stream now running; empty when none runs. Set by the fetcher.
  void set_action(std::function<void()> action);

 private:

  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> action_;
};

struct StreamHandlers {
  std::function<void()> opened;                // a 2xx status line and its headers arrived
  std::function<bool(std::string_view)> data;  // the next bytes of the body; false stops reading
};

// How a stream_async() answer ended, told once to its `done` handler.
struct StreamEnd {
  // The status (0 when no answer arrived); for a non-2xx answer also its body, read whole.
  FetchResult result;
  std::shared_ptr<const FetchError> failure;  // a transport failure, also in the middle of the body
  bool cancelled = false;                     // StreamCancel::cancel() ended it
  bool stopped = false;                       // `data` returned false
};

struct AsyncStreamHandlers : StreamHandlers {
  std::function<void(const StreamEnd&)> done;  // exactly once, last
};

class HttpFetcher {
 public:
  explicit HttpFetcher(FetcherOptions options);
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Thread-safe. Any HTTP status is a result; only transport failures throw FetchError.
  FetchResult fetch(const OutgoingRequest& request);

  // Reads a long-lived answer (a Kubernetes watch) as it arrives. options().timeout bounds each wait
  // for more bytes, not the whole answer. A non-2xx answer is read whole (up to max_body_bytes) and
  // returned without calling the handlers; after a 2xx answer the result has only the status.
  // Returns when the server ends the answer, `data` returns false, or `cancel` is cancelled.
  // Transport failures, also in the middle of the body, throw FetchError.
  FetchResult stream(const OutgoingRequest& request, const StreamHandlers& handlers, StreamCancel& cancel);

  // The same without a thread of its own: returns at once, and the handlers run on the HTTP
  // client's threads (one at a time for one stream), so any number of streams share those few
  // threads. `data` throwing ends the stream as a failure. `cancel` must live until `done` ran.
  void stream_async(const OutgoingRequest& request, AsyncStreamHandlers handlers, std::shared_ptr<StreamCancel> cancel);

  const FetcherOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How many threads carry every outgoing exchange of the process (cpprestsdk's pool, 40 unless
// set). Call once, before the first HttpFetcher; later calls change nothing. Nothing blocks on
// those threads: callers wait on their own.
void set_client_threads(std::size_t threads);

// application/x-www-form-urlencoded encoding of one key or value.
std::string form_encode(std::string_view text);

}  // namespace sma::http
