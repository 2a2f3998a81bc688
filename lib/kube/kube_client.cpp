#include "lib/kube/kube_client.h"

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "lib/api/names.h"
#include "lib/kube/api_status.h"
#include "lib/kube/bearer_token.h"
#include "lib/kube/pod_list.h"
#include "lib/kube/pod_watch_event.h"
#include "lib/kube/private_pem_file.h"
#include "lib/kube/retry_policy.h"

namespace sma::kube {
namespace {

// Pods per page: large enough that most lists take one call, small enough to keep each answer
// (and the API server's work per call) bounded.
constexpr int kPodsPerPage = 500;
// 500 pods with managedFields can approach 10 MiB; allow headroom over the fetcher's default.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024 * 1024;
constexpr const char* kUserAgent = "sysdig-metrics-adapter";

double random_jitter() {
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

std::string without_query(const std::string& path_and_query) {
  return path_and_query.substr(0, path_and_query.find('?'));
}

std::string attempts_note(int attempts) {
  return attempts == 1 ? std::string(" (1 attempt)")
                       : " (after " + std::to_string(attempts) + " attempts)";
}

}  // namespace

struct KubeClient::Impl {
  KubeConnection connection;
  KubeClientOptions options;
  std::vector<PrivatePemFile> inline_pems;  // kept for as long as the fetcher may load them
  std::unique_ptr<http::HttpFetcher> fetcher;
  std::unique_ptr<http::HttpFetcher> watch_fetcher;  // its timeout is a watch's silence, not a call's length
  BearerToken token;

  Impl(KubeConnection connection_in, KubeClientOptions options_in)
      : connection(std::move(connection_in)), options(options_in), token(make_token(connection)) {
    if (connection.server.empty()) {
      throw std::runtime_error("Kubernetes API connection (" + connection.source +
                               ") has no server URL");
    }
    while (connection.server.size() > 1 && connection.server.back() == '/') {
      connection.server.pop_back();
    }
    if (options.max_attempts < 1) options.max_attempts = 1;

    http::FetcherOptions fetch;
    fetch.timeout = options.timeout;
    fetch.insecure_skip_verify = connection.insecure_skip_verify;
    fetch.max_body_bytes = kMaxAnswerBytes;
    fetch.ca_file = pem_path(connection.ca_data_pem, "ca", connection.ca_file);
    fetch.client_cert_file =
        pem_path(connection.client_cert_data_pem, "client-cert", connection.client_cert_file);
    fetch.client_key_file =
        pem_path(connection.client_key_data_pem, "client-key", connection.client_key_file);
    fetch.timeout = options.watch_silence;
    watch_fetcher = std::make_unique<http::HttpFetcher>(fetch);
    fetch.timeout = options.timeout;
    fetcher = std::make_unique<http::HttpFetcher>(std::move(fetch));
  }

  static BearerToken make_token(const KubeConnection& connection) {
    // A token file wins over a fixed token, as in client-go: the file is the one kept fresh.
    if (!connection.token_file.empty()) return BearerToken::from_file(connection.token_file);
    if (!connection.token.empty()) return BearerToken::fixed(connection.token);
    return BearerToken();
  }

  // Inline PEM data goes to a private file; otherwise the configured file is used as it is.
  std::string pem_path(const std::string& pem, const char* what, const std::string& file) {
    if (pem.empty()) return file;
    inline_pems.emplace_back(pem, what);
    return inline_pems.back().path();
  }

  std::string describe(const std::string& method, const std::string& path_and_query) const {
    return method + " " + connection.server + without_query(path_and_query);
  }

  http::OutgoingRequest build_request(const std::string& method, const std::string& path_and_query,
                                      const std::string& body, const api::Deadline& deadline,
                                      const std::string& content_type) {
    http::OutgoingRequest request;
    request.deadline = deadline;
    request.method = method;
    request.url = connection.server + path_and_query;
    request.headers = {{"Accept", "application/json"}, {"User-Agent", kUserAgent}};
    if (const std::string bearer = token.current(); !bearer.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + bearer);
    }
    if (method != "GET") {
      request.headers.emplace_back("Content-Type", content_type);
      request.body = body;
    }
    return request;
  }

  struct Answer {
    http::FetchResult result;
    int attempts = 0;
  };

  // Sends the request, repeating it as retry_policy allows, and returns the final answer, whatever
  // its status. Throws KubeError when no answer arrived: Unavailable after transport failures,
  // Invalid for an answer over the size limit. Attempts and the waits between them stay within
  // `deadline`: no retry starts that could not finish before it.
  Answer send(const std::string& method, const std::string& path_and_query,
              const std::string& body, const api::Deadline& deadline = {},
              const std::string& content_type = "application/json") {
    const CallKind kind = method == "GET" ? CallKind::Read : CallKind::Write;
    for (int attempt = 1;; ++attempt) {
      std::chrono::milliseconds wait =
          backoff_delay(attempt, options.initial_backoff, random_jitter());
      const bool last_attempt = attempt >= options.max_attempts || deadline.remaining() <= wait;
      try {
        http::FetchResult result = fetcher->fetch(build_request(method, path_and_query, body, deadline, content_type));
        if (last_attempt || !worth_retrying_status(result.status, kind)) {
          return {std::move(result), attempt};
        }
        if (result.status == 429) wait = retry_after_delay(result.retry_after).value_or(wait);
      } catch (const http::FetchError& error) {
        if (error.kind() == http::FetchError::Kind::BodyTooLarge) {
          throw KubeError(KubeError::Kind::Invalid, error.what());
        }
        if (last_attempt || !worth_retrying_failure(error.kind(), kind)) {
          throw KubeError(KubeError::Kind::Unavailable,
                          std::string("cannot reach the Kubernetes API: ") + error.what() +
                              attempts_note(attempt));
        }
      }
      std::this_thread::sleep_for(wait);
    }
  }

  // The body of a 2xx answer; any other status becomes its KubeError.
  std::string body_of_success(const std::string& method, const std::string& path_and_query,
                              Answer answer) const {
    const int status = answer.result.status;
    if (status >= 200 && status < 300) return std::move(answer.result.body);
    throw error_for_status(status, answer.result.body, describe(method, path_and_query),
                           attempts_note(answer.attempts));
  }

  std::string call(const std::string& method, const std::string& path_and_query,
                   const std::string& body) {
    if (path_and_query.empty() || path_and_query.front() != '/') {
      throw KubeError(KubeError::Kind::Invalid,
                      "API path \"" + path_and_query + "\" does not start with '/'");
    }
    return body_of_success(method, path_and_query, send(method, path_and_query, body));
  }
};

KubeClient::KubeClient(KubeConnection connection, KubeClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(connection), options)) {}

KubeClient::~KubeClient() = default;

const KubeConnection& KubeClient::connection() const { return impl_->connection; }

std::string KubeClient::get_json(const std::string& path) { return impl_->call("GET", path, ""); }

std::string KubeClient::post_json(const std::string& path, const std::string& body) {
  return impl_->call("POST", path, body);
}

KubeClient::Answer KubeClient::exchange(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& content_type) {
  if (path.empty() || path.front() != '/') {
    throw KubeError(KubeError::Kind::Invalid, "API path \"" + path + "\" does not start with '/'");
  }
  Impl::Answer answer = impl_->send(method, path, body, {}, content_type);
  return Answer{answer.result.status, std::move(answer.result.body)};
}

KubeError KubeClient::error_for(const std::string& method, const std::string& path, const Answer& answer) const {
  return error_for_status(answer.status, answer.body, impl_->describe(method, path), "");
}

std::vector<PodInfo> KubeClient::list_pods(const std::string& namespace_, const api::LabelSelector& selector,
                                           const api::Deadline& deadline) {
  return list_pod_snapshot(namespace_, selector, deadline).pods;
}

std::vector<std::string> KubeClient::list_pod_names(const std::string& namespace_,
                                                   const api::LabelSelector& selector, const api::Deadline& deadline) {
  std::vector<std::string> names;
  for (auto& pod : list_pods(namespace_, selector, deadline)) names.push_back(std::move(pod.name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

PodSnapshot KubeClient::list_pod_snapshot(const std::string& namespace_, const api::LabelSelector& selector,
                                          const api::Deadline& deadline) {
  if (!namespace_.empty()) {
    if (auto problem = api::check_namespace_name(namespace_)) {
      throw KubeError(KubeError::Kind::Invalid, *problem);
    }
  }
  const std::string path =
      namespace_.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + namespace_ + "/pods";
  std::string query = "?limit=" + std::to_string(kPodsPerPage);
  if (!selector.empty()) query += "&labelSelector=" + http::form_encode(selector.to_string());

  PodSnapshot snapshot;
  std::vector<PodInfo>& pods = snapshot.pods;
  // A server handing out the same token again would make this loop forever.
  std::set<std::string> seen_tokens;
  std::string continue_token;
  bool restarted = false;
  while (true) {
    const std::string continuation =
        continue_token.empty() ? "" : "&continue=" + http::form_encode(continue_token);
    const std::string page_path = path + query + continuation;
    Impl::Answer answer = impl_->send("GET", page_path, "", deadline);
    // 410 Gone: the continue token outlived the API server's history. Start over, once.
    if (answer.result.status == 410 && !continue_token.empty() && !restarted) {
      restarted = true;
      pods.clear();
      seen_tokens.clear();
      continue_token.clear();
      continue;
    }
    PodListPage page = parse_pod_list(impl_->body_of_success("GET", page_path, std::move(answer)));
    pods.insert(pods.end(), std::make_move_iterator(page.pods.begin()),
                std::make_move_iterator(page.pods.end()));
    // Every page of one list reads the same snapshot; the first page names it.
    if (continue_token.empty()) snapshot.resource_version = page.resource_version;
    if (page.continue_token.empty()) return snapshot;
    if (!seen_tokens.insert(page.continue_token).second) {
      throw KubeError(KubeError::Kind::Invalid,
                      "the API server repeated a continue token while listing " + path);
    }
    continue_token = std::move(page.continue_token);
  }
}

namespace {

// Splits a watch's bytes into lines and each line into an event.
class WatchLineReader {
 public:
  explicit WatchLineReader(std::size_t max_line) : max_line_(max_line) {}

  // False when on_event said stop.
  bool feed(std::string_view bytes, const std::function<bool(const PodWatchEvent&)>& on_event) {
    pending_.append(bytes);
    std::size_t start = 0;
    for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string_view line(pending_.data() + start, end - start);
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      if (!on_event(parse_pod_watch_event(line))) return false;
    }
    pending_.erase(0, start);
    if (pending_.size() > max_line_) {
      throw KubeError(KubeError::Kind::Invalid, "a pod watch event is longer than " + std::to_string(max_line_) + " bytes");
    }
    return true;
  }

 private:
  const std::size_t max_line_;
  std::string pending_;  // the start of a line whose end has not arrived
};

}  // namespace

void KubeClient::watch_pods(const std::string& namespace_, const std::string& resource_version, WatchHandlers handlers,
                            std::shared_ptr<http::StreamCancel> cancel) {
  if (!namespace_.empty()) {
    if (auto problem = api::check_namespace_name(namespace_)) throw KubeError(KubeError::Kind::Invalid, *problem);
  }
  const std::string collection = namespace_.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + namespace_ + "/pods";
  const std::string path = collection + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                           http::form_encode(resource_version) +
                           "&timeoutSeconds=" + std::to_string(impl_->options.watch_timeout.count());
  auto reader = std::make_shared<WatchLineReader>(impl_->watch_fetcher->options().max_body_bytes);
  auto shared = std::make_shared<WatchHandlers>(std::move(handlers));
  // The event that ended the stream from inside (a parse error), kept to report in `done`.
  auto parse_error = std::make_shared<std::optional<KubeError>>();
  http::AsyncStreamHandlers stream;
  stream.opened = shared->opened;
  stream.data = [reader, shared, parse_error](std::string_view bytes) {
    try {
      return reader->feed(bytes, shared->on_event);
    } catch (const KubeError& error) {
      *parse_error = error;
      throw;
    }
  };
  const std::string described = impl_->describe("GET", path);
  stream.done = [shared, parse_error, described](const http::StreamEnd& end) {
    std::optional<KubeError> error;
    if (parse_error->has_value()) {
      error = **parse_error;
    } else if (end.failure) {
      error = KubeError(KubeError::Kind::Unavailable, std::string("the pod watch broke off: ") + end.failure->what());
    } else if (end.result.status == 410) {  // the resourceVersion is too old to watch from: list again
      PodWatchEvent gone;
      gone.error_code = 410;
      gone.error_message = status_message(end.result.body);
      try {
        shared->on_event(gone);
      } catch (...) {
        // The owner's bookkeeping failed; `done` still tells it the watch ended.
      }
    } else if (!end.cancelled && end.result.status != 0 && (end.result.status < 200 || end.result.status >= 300)) {
      error = error_for_status(end.result.status, end.result.body, described, attempts_note(1));
    }
    if (shared->done) shared->done(error);
  };
  try {
    impl_->watch_fetcher->stream_async(impl_->build_request("GET", path, "", {}, ""), std::move(stream),
                                       std::move(cancel));
  } catch (const http::FetchError& error) {
    throw KubeError(KubeError::Kind::Invalid, std::string("cannot watch pods: ") + error.what());
  }
}

}  // namespace sma::kube
