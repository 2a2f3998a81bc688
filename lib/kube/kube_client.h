// A small Kubernetes API client: enough to list pods by label selector now, and to post
// TokenReviews / SubjectAccessReviews and read ConfigMaps later. Built on http::HttpFetcher.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/api/deadline.h"
#include "lib/api/label_selector.h"
#include "lib/http/http_fetcher.h"

namespace sma::kube {

// Where the API server is and how to authenticate to it.
struct KubeConnection {
  std::string server;            // "https://10.0.0.1:443"
  std::string ca_file;           // PEM; empty = system store
  std::string ca_data_pem;       // inline CA from a kubeconfig (written to a private temp file)
  bool insecure_skip_verify = false;
  std::string token;             // static bearer token
  std::string token_file;        // re-read when it changes (service-account tokens rotate)
  std::string client_cert_file;  // client certificate authentication
  std::string client_key_file;
  std::string client_cert_data_pem;
  std::string client_key_data_pem;
  std::string source;            // "in-cluster" or "kubeconfig <path> context <name>", for logs
  // The namespace the adapter runs in (the service account's, or the kubeconfig context's); empty
  // when neither says.
  std::string own_namespace;
};

// In a pod: KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token and CA.
// nullopt when not running in a cluster. Throws std::runtime_error when the environment says
// "in a cluster" but the token cannot be read. The mount directory
// (/var/run/secrets/kubernetes.io/serviceaccount) can be replaced with SMA_SERVICEACCOUNT_DIR,
// for tests.
std::optional<KubeConnection> in_cluster_connection();

// Reads the current context (or `context` when given) of a kubeconfig file. Throws
// std::runtime_error naming the file and what is wrong.
KubeConnection load_kubeconfig(const std::string& path, const std::string& context = "");

struct PodInfo {
  std::string name;
  api::Labels labels;
  std::string namespace_;  // metadata.namespace: empty only where the API leaves it out
};

class KubeError : public std::runtime_error {
 public:
  // Unavailable: could not reach or got 5xx/429 after retries. Rejected: 401/403. Invalid: 4xx or
  // a body that is not what the API documents.
  enum class Kind { Unavailable, Rejected, Invalid };
  KubeError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct KubeClientOptions {
  std::chrono::milliseconds timeout{5000};  // per attempt
  int max_attempts = 3;                     // retries with backoff on 429, 5xx and transport errors
  std::chrono::milliseconds initial_backoff{100};
  // How long the API server keeps one watch open (timeoutSeconds).
  std::chrono::seconds watch_timeout{300};
  // A watch that sends nothing (no event, no bookmark) for this long is taken for a dead connection.
  // The API server sends a bookmark about every minute.
  std::chrono::seconds watch_silence{150};
};

// The pods of one list, and the resourceVersion a watch continuing it starts from.
struct PodSnapshot {
  std::vector<PodInfo> pods;
  std::string resource_version;
};

struct PodWatchEvent;

class KubeClient {
 public:
  KubeClient(KubeConnection connection, KubeClientOptions options = {});
  ~KubeClient();

  // GET /api/v1/namespaces/{ns}/pods?labelSelector=... (all namespaces when ns is empty). Every
  // page, attempt and retry wait ends by `deadline` (past it: KubeError Unavailable).
  std::vector<PodInfo> list_pods(const std::string& namespace_, const api::LabelSelector& selector,
                                 const api::Deadline& deadline = {});
  PodSnapshot list_pod_snapshot(const std::string& namespace_, const api::LabelSelector& selector,
                                const api::Deadline& deadline = {});
  // The names of list_pods, sorted, no repeats (a list across namespaces can name a pod twice).
  std::vector<std::string> list_pod_names(const std::string& namespace_, const api::LabelSelector& selector,
                                          const api::Deadline& deadline = {});

  // GET /api/v1/namespaces/{ns}/pods?watch=1 (all namespaces when ns is empty) from
  // `resource_version`, with bookmarks. Returns at once: no thread waits on the watch, and the
  // handlers run on the HTTP client's threads, one at a time for one watch. `opened` runs once the
  // API server has accepted the watch; `on_event` gets each event and returns false to stop. `done`
  // runs once, last: `error` empty when the server ended the watch (watch_timeout), on_event said
  // stop, or `cancel` fired; else Unavailable when it cannot be reached or breaks off, Rejected on
  // 401/403, Invalid for another status or an event that is not what the API documents. A
  // resourceVersion too old to watch from comes as an Error event with code 410, whether the API
  // server answers 410 or says so in the stream.
  struct WatchHandlers {
    std::function<void()> opened;
    std::function<bool(const PodWatchEvent&)> on_event;
    std::function<void(const std::optional<KubeError>& error)> done;
  };
  void watch_pods(const std::string& namespace_, const std::string& resource_version, WatchHandlers handlers,
                  std::shared_ptr<http::StreamCancel> cancel);

  // Raw JSON calls for later users (reviews, ConfigMaps). Return the body of a 2xx answer.
  std::string get_json(const std::string& path);
  std::string post_json(const std::string& path, const std::string& body);

  // A call whose refusals the caller reads itself (404 before a create, 409 after a lost race):
  // the final status and body, whatever the status. Retried as get_json (GET) or post_json (any
  // other method) are; throws KubeError only when no answer arrived. `content_type` goes with the
  // body: application/json, or application/merge-patch+json for a JSON merge patch.
  struct Answer {
    int status = 0;
    std::string body;
  };
  Answer exchange(const std::string& method, const std::string& path, const std::string& body = {},
                  const std::string& content_type = "application/json");
  // The KubeError a non-2xx Answer of `method path` stands for (as get_json would have thrown).
  KubeError error_for(const std::string& method, const std::string& path, const Answer& answer) const;

  const KubeConnection& connection() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sma::kube
