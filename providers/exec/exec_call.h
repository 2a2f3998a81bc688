// An exec rule's call, made to look like every other backend call: an http::OutgoingRequest. So the
// value cache (keyed by method, URL and body: the rule's command and the stdin document),
// coalescing of identical calls, stale-on-error, the backend call slots (--max-backend-concurrency)
// and `explain` treat running a command exactly as they treat a query to Sysdig.
//
//   EXEC exec:["/opt/metrics/queue-age.py","--queue-label","queue"]      (the argv, as JSON)
//   Rule: adapter.yaml:12
//   Timeout: 2000ms
//   Env: RABBITMQ_URL                                       (names only; values are read at start)
//   Object: /apis/apps/v1/namespaces/default/deployments/kuard         (input: object)
//
//   {"version":1,"kind":"object",...}                      (the stdin document, without deadline)
//
// The deadline, the time the command has and, with input: object, the object read from the
// Kubernetes API are added when the command starts (stdin_document.h): they change with every call
// and are not part of the key.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "lib/api/deadline.h"
#include "lib/config/adapter_config.h"
#include "lib/http/http_fetcher.h"

namespace sma::providers::exec {

inline constexpr const char* kExecMethod = "EXEC";

// object_path: the API path of the described object (input: object, object queries); list_path:
// the path listing the selected objects (input: object, selector queries).
http::OutgoingRequest exec_request(const config::ResolvedRule& rule, const config::ExecSpec& spec, std::string document,
                                   const api::Deadline& deadline, const std::string& object_path = {},
                                   const std::string& list_path = {});

// "adapter.yaml:12" from a rule's origin ("rule at adapter.yaml:12").
std::string rule_location(const config::ResolvedRule& rule);

// GETs a path of the Kubernetes API: the body of a 2xx answer. Throws MetricsError: NotFound for
// 404, Unavailable (Timeout past the deadline) otherwise.
using ObjectReader = std::function<std::string(const std::string& path, const api::Deadline& deadline)>;

struct CommandRunnerOptions {
  std::size_t max_stdout = 1024 * 1024;
  // The value of an environment variable a rule passes through; nullopt when unset.
  std::function<std::optional<std::string>(const std::string& name)> environment;
};

// Runs EXEC requests, the exec backend's transport. Answers as an HTTP backend would: 200 with
// stdout when the command exited 0; 503 with a message (its status or signal and the first line of
// its stderr, bounded and escaped) otherwise. Throws http::FetchError: Timeout when it ran past its
// time (its process group is killed), BodyTooLarge for more output than max_stdout, Connect when it
// could not start; MetricsError when the object for input: object cannot be read. Records
// sysdig_metrics_adapter_exec_* self-metrics per rule.
class CommandRunner {
 public:
  explicit CommandRunner(ObjectReader objects, CommandRunnerOptions options = {});
  http::FetchResult operator()(const http::OutgoingRequest& request) const;

 private:
  ObjectReader objects_;
  CommandRunnerOptions options_;
};

}  // namespace sma::providers::exec
