#include "providers/exec/exec_call.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "lib/api/message_text.h"
#include "lib/telemetry/self_metrics.h"
#include "providers/exec/process_runner.h"
#include "providers/exec/stdin_document.h"
#include "providers/provider.h"

namespace sma::providers::exec {
namespace {

constexpr std::size_t kStderrExcerpt = 200;

std::string header(const http::OutgoingRequest& request, const char* name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

std::string argv_json(const std::vector<std::string>& argv) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& arg : argv) w.String(arg.data(), static_cast<rapidjson::SizeType>(arg.size()));
  w.EndArray();
  return {buffer.GetString(), buffer.GetSize()};
}

std::vector<std::string> argv_of(const std::string& url) {
  std::vector<std::string> argv;
  const std::string prefix = "exec:";
  if (url.compare(0, prefix.size(), prefix) != 0) return argv;
  rapidjson::Document doc;
  doc.Parse(url.data() + prefix.size(), url.size() - prefix.size());
  if (doc.HasParseError() || !doc.IsArray()) return argv;
  for (const auto& arg : doc.GetArray()) {
    if (arg.IsString()) argv.emplace_back(arg.GetString(), arg.GetStringLength());
  }
  return argv;
}

// Kubernetes' JSON, compact and checked: the object itself, or the items of a list.
std::string compact(const std::string& body, bool items, const std::string& path) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw MetricsError(MetricsError::Kind::Internal, "the Kubernetes API answered " + path + " with something that is not a JSON object");
  }
  const rapidjson::Value* value = &doc;
  if (items) {
    auto it = doc.FindMember("items");
    if (it == doc.MemberEnd() || !it->value.IsArray()) {
      throw MetricsError(MetricsError::Kind::Internal, "the Kubernetes API answered " + path + " without a list of items");
    }
    value = &it->value;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  value->Accept(w);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string first_line(const std::string& text) {
  std::string_view line(text);
  while (!line.empty() && (line.front() == '\n' || line.front() == '\r')) line.remove_prefix(1);
  line = line.substr(0, line.find_first_of("\r\n"));
  return api::escaped_excerpt(line, kStderrExcerpt);
}

std::string signal_name(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation ? std::string("SIG") + abbreviation : "signal " + std::to_string(signal);
}

http::FetchResult answer(int status, std::string body) {
  http::FetchResult result;
  result.status = status;
  result.content_type = "text/plain";
  result.body = std::move(body);
  return result;
}

std::chrono::milliseconds parse_millis(const std::string& text) {
  try {
    return std::chrono::milliseconds(std::stoll(text));
  } catch (const std::exception&) {
    return std::chrono::milliseconds(5000);
  }
}

}  // namespace

std::string rule_location(const config::ResolvedRule& rule) {
  const std::string prefix = "rule at ";
  return rule.origin.compare(0, prefix.size(), prefix) == 0 ? rule.origin.substr(prefix.size()) : rule.origin;
}

http::OutgoingRequest exec_request(const config::ResolvedRule& rule, const config::ExecSpec& spec, std::string document,
                                   const api::Deadline& deadline, const std::string& object_path,
                                   const std::string& list_path) {
  http::OutgoingRequest request;
  request.method = kExecMethod;
  request.url = "exec:" + argv_json(spec.command);
  request.headers.emplace_back("Rule", rule_location(rule));
  request.headers.emplace_back("Timeout", std::to_string(spec.timeout.count()) + "ms");
  if (!spec.env.empty()) {
    std::string names;
    for (const auto& name : spec.env) names += (names.empty() ? "" : ",") + name;
    request.headers.emplace_back("Env", names);
  }
  if (!object_path.empty()) request.headers.emplace_back("Object", object_path);
  if (!list_path.empty()) request.headers.emplace_back("Objects", list_path);
  request.body = std::move(document);
  request.deadline = deadline;
  if (rule.cache_ttl) request.reuse_for = *rule.cache_ttl;
  return request;
}

CommandRunner::CommandRunner(ObjectReader objects, CommandRunnerOptions options)
    : objects_(std::move(objects)), options_(std::move(options)) {
  if (!options_.environment) {
    // Read when a command starts; the adapter sets no variables while it serves.
    options_.environment = [](const std::string& name) -> std::optional<std::string> {
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) return std::nullopt;
      return std::string(value);
    };
  }
}

http::FetchResult CommandRunner::operator()(const http::OutgoingRequest& request) const {
  auto& metrics = telemetry::SelfMetrics::instance();
  const std::string rule = header(request, "Rule");
  ProcessSpec spec;
  spec.argv = argv_of(request.url);
  if (spec.argv.empty()) throw http::FetchError(http::FetchError::Kind::Protocol, "not an exec request: " + request.url);
  const std::string env = header(request, "Env");
  for (std::size_t start = 0; start < env.size();) {
    std::size_t comma = env.find(',', start);
    std::string name = env.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (auto value = options_.environment(name)) spec.env.push_back(name + "=" + *value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const std::string timeout_text = header(request, "Timeout");
  const auto rule_timeout = parse_millis(timeout_text.substr(0, timeout_text.size() - 2));

  std::string object_json;
  std::string objects_json;
  if (objects_) {
    if (auto path = header(request, "Object"); !path.empty()) object_json = compact(objects_(path, request.deadline), false, path);
    if (auto path = header(request, "Objects"); !path.empty()) objects_json = compact(objects_(path, request.deadline), true, path);
  }
  // The command has its rule's timeout, cut to what is left of the request.
  if (request.deadline.expired()) {
    metrics.exec_call(rule, "timeout", 0);
    throw http::FetchError(http::FetchError::Kind::Timeout,
                           spec.argv.front() + " was not started: the request's deadline (--request-timeout) had passed");
  }
  spec.timeout = request.deadline.clamp(rule_timeout);
  const bool cut_by_request = spec.timeout < rule_timeout;
  const auto wall_deadline = api::Clock::now() + std::chrono::duration_cast<api::Clock::duration>(spec.timeout);
  spec.stdin_data = completed_document(request.body, wall_deadline, spec.timeout, object_json, objects_json);
  spec.max_stdout = options_.max_stdout;

  ProcessOutcome outcome = run_process(spec);
  const double seconds = std::chrono::duration<double>(outcome.elapsed).count();
  const std::string& program = spec.argv.front();
  switch (outcome.end) {
    case ProcessOutcome::End::Exited:
      if (outcome.exit_code == 0) {
        metrics.exec_call(rule, "success", seconds);
        return answer(200, std::move(outcome.stdout_data));
      }
      metrics.exec_call(rule, "exit_status", seconds);
      return answer(503, program + " exited with status " + std::to_string(outcome.exit_code) +
                             (outcome.stderr_data.empty() ? " and printed nothing on stderr"
                                                          : ": " + first_line(outcome.stderr_data)));
    case ProcessOutcome::End::Signalled:
      metrics.exec_call(rule, "signal", seconds);
      return answer(503, program + " was killed by " + signal_name(outcome.signal) +
                             (outcome.stderr_data.empty() ? "" : ": " + first_line(outcome.stderr_data)));
    case ProcessOutcome::End::TimedOut:
      metrics.exec_call(rule, "timeout", seconds);
      throw http::FetchError(http::FetchError::Kind::Timeout,
                             program + " did not finish within " + std::to_string(spec.timeout.count()) + "ms (" +
                                 (cut_by_request ? "what was left of the request's deadline, --request-timeout"
                                                 : "the rule's exec.timeout") +
                                 "); its process group was killed");
    case ProcessOutcome::End::OutputTooLarge:
      metrics.exec_call(rule, "output_too_large", seconds);
      throw http::FetchError(http::FetchError::Kind::BodyTooLarge,
                             program + " printed more than " + std::to_string(options_.max_stdout) +
                                 " bytes on stdout; its process group was killed");
    case ProcessOutcome::End::SpawnFailed:
      break;
  }
  metrics.exec_call(rule, "spawn_failed", seconds);
  throw http::FetchError(http::FetchError::Kind::Connect, program + " could not be started: " + outcome.spawn_error);
}

}  // namespace sma::providers::exec
