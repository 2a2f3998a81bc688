// sysdig-metrics-adapter: serves the Kubernetes custom and external metrics APIs.
// Wires flags to objects; everything with behaviour lives in lib/ and providers/.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>

#include "cmd/heap_retention.h"
#include "lib/api/no_wait.h"
#include "lib/http/http_fetcher.h"
#include "lib/http/tls_client_setup.h"
#include "cmd/access_setup.h"
#include "cmd/adapter_options.h"
#include "cmd/backend_set.h"
#include "cmd/cluster_connection.h"
#include "cmd/flag_set.h"
#include "cmd/operator_commands.h"
#include "cmd/serving_cert_setup.h"
#include "cmd/simulate_command.h"
#include "lib/apiserver/api_handler.h"
#include "lib/apiserver/request_kind.h"
#include "lib/config/file_watcher.h"
#include "lib/server/https_server.h"
#include "lib/server/plain_http_server.h"
#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"
#include "lib/tls/certificate_facts.h"

namespace {

using namespace sma;

constexpr const char* kUsageCommands =
    "\nCommands:\n"
    "  (none)              serve the metrics APIs\n"
    "  explain <API path>  print the backend request an API path becomes (token masked), without sending it\n"
    "  query <API path>    send it and print the answer the HPA would get\n"
    "  simulate            what the HPA controller would decide for an HPA (-f FILE | --name NAME), from live values\n";

// "host:port" or ":port" (all addresses) as Kubernetes components write bind addresses.
std::pair<std::string, std::uint16_t> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    throw std::runtime_error("invalid --metrics-bind-address \"" + address + "\": expected host:port or :port");
  }
  return {host.empty() ? "0.0.0.0" : host, static_cast<std::uint16_t>(std::stoul(port))};
}

// The expiry of the certificate in force, on /metrics, whatever put it in force.
void report_certificate_in_force(const std::string& certificate_pem, const std::string& source) {
  try {
    double not_after =
        std::chrono::duration<double>(tls::read_certificates(certificate_pem).front().not_after.time_since_epoch())
            .count();
    telemetry::SelfMetrics::instance().serving_certificate(source == "installed" ? "secret" : source, not_after);
  } catch (const std::exception& e) {
    telemetry::log_warning("cannot read the expiry of the serving certificate", {{"error", e.what()}});
  }
}

int serve(const cmd::AdapterOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_private_key_file.empty()) {
    std::cerr << "sysdig-metrics-adapter: --tls-cert-file and --tls-private-key-file must be given together\n";
    return 1;
  }
  if (!o.serving_cert_secret.empty() && !o.tls_cert_file.empty()) {
    std::cerr << "sysdig-metrics-adapter: --serving-cert-secret and --tls-cert-file are two ways of serving a "
                 "certificate: give one\n";
    return 1;
  }
  std::unique_ptr<kube::KubeClient> kube;
  std::unique_ptr<cmd::AccessSetup> access;  // null only with --insecure-allow-anonymous
  std::unique_ptr<cmd::BackendSet> backends;
  std::optional<servingcert::ManagerOptions> certificate_options;
  try {
    kube = cmd::connect_kubernetes(o);
    if (!o.serving_cert_secret.empty()) {
      if (!kube) {
        throw std::runtime_error("--serving-cert-secret needs the Kubernetes API: run in a cluster or give --kubeconfig");
      }
      certificate_options = cmd::serving_cert_options(o, kube->connection().own_namespace);
    }
    if (!o.insecure_allow_anonymous) access = std::make_unique<cmd::AccessSetup>(o, kube.get());
    backends = std::make_unique<cmd::BackendSet>(o, kube.get());
  } catch (const std::exception& e) {
    std::cerr << "sysdig-metrics-adapter: " << e.what() << "\n";
    return 1;
  }
  routing::RouteOptions route_options;
  route_options.legacy_workload_names = o.legacy_workload_names;
  apiserver::ApiHandler handler(backends->provider(), backends->writer(), route_options, o.request_timeout);

  server::HttpsServerOptions server_options;
  server_options.bind_address = o.bind_address;
  server_options.port = o.secure_port;
  server_options.cert_file = o.tls_cert_file;
  server_options.key_file = o.tls_private_key_file;
  server_options.shutdown_grace = o.shutdown_grace;
  // A worker waits on its backend call; with fewer workers than backend slots the slots beyond the
  // workers could never be used and requests would queue without a deadline. No cap (0) still
  // stops at 1,024 threads.
  std::size_t slots = std::stoul(o.max_backend_concurrency);
  server_options.max_worker_threads =
      server_options.worker_threads + static_cast<int>(slots == 0 ? 1024 : std::min<std::size_t>(slots, 1024));
  server_options.on_certificate_event = [](const std::string& event) {
    bool rejected = event.find("rejected") != std::string::npos;
    telemetry::log(rejected ? telemetry::LogLevel::Error : telemetry::LogLevel::Info, event);
  };
  const apiserver::AccessControl* gate = access ? &access->gate() : nullptr;
  server_options.on_certificate_in_force = &report_certificate_in_force;
  // Authentication, authorization, then the API; counted once the answer is made.
  auto answer = [&handler, gate](const server::HttpRequest& r) {
    auto started = std::chrono::steady_clock::now();
    std::optional<server::HttpResponse> refused = gate != nullptr ? gate->check(r) : std::nullopt;
    // The request's deadline counts from here: authentication and authorization use part of it.
    server::HttpResponse response = refused ? std::move(*refused) : handler.handle(r, started);
    auto kind = apiserver::request_kind(r.target);
    telemetry::SelfMetrics::instance().request_finished(
        kind.kind, kind.version, response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return response;
  };
  // On the I/O thread first: what caches can answer (reviews, backend answers, pods) is answered
  // there; anything that would wait throws api::WouldBlock and goes to a worker.
  server_options.fast_handler = [answer](const server::HttpRequest& r) -> std::optional<server::HttpResponse> {
    api::NoWaitScope no_waiting;
    telemetry::SelfMetrics::instance().request_started();
    try {
      server::HttpResponse response = answer(r);
      cmd::after_answer(response.body.size());
      return response;
    } catch (const api::WouldBlock&) {
      telemetry::SelfMetrics::instance().request_handed_off();
      return std::nullopt;
    }
  };
  server::HttpsServer https(server_options, [answer](const server::HttpRequest& r) {
    telemetry::SelfMetrics::instance().request_started();
    server::HttpResponse response = answer(r);
    cmd::after_answer(response.body.size());
    return response;
  });
  // The plain port answers health and /metrics only, whatever else is asked.
  std::unique_ptr<server::PlainHttpServer> plain;
  try {
    https.start();
    if (!o.metrics_bind_address.empty()) {
      auto [host, port] = split_host_port(o.metrics_bind_address);
      plain = std::make_unique<server::PlainHttpServer>(host, port, [&handler](const server::HttpRequest& r) {
        std::string path = r.target.substr(0, r.target.find('?'));
        if (path == "/metrics" || path == "/healthz" || path == "/livez" || path == "/readyz") return handler.handle(r);
        return server::HttpResponse{404, "text/plain; charset=utf-8", "this port serves /metrics and health only\n", {}};
      });
      plain->start();
    }
  } catch (const std::exception& e) {
    std::cerr << "sysdig-metrics-adapter: " << e.what() << "\n";
    return 1;
  }
  // Declared after the server, so it stops (and no longer installs) before the server goes.
  std::unique_ptr<servingcert::ServingCertificateManager> certificates;
  if (certificate_options) {
    const std::string source = "Secret " + certificate_options->secret.text();
    certificates = std::make_unique<servingcert::ServingCertificateManager>(
        *kube, *certificate_options, [&https, source](const std::string& certificate, const std::string& key) {
          https.install_certificate(certificate, key, source);
        });
    // Before readiness: the first answers already carry the Secret's certificate when it works.
    certificates->check_now();
    certificates->start();
    handler.set_readiness_check("serving-certificate", [manager = certificates.get()] { return manager->readiness_problem(); });
  }
  backends->start_discovery();
  auto reload_config = [&backends](const char* trigger) {
    std::string problem;
    if (backends->reload_config(problem)) {
      telemetry::log_info("configuration reloaded", {{"trigger", trigger}});
    } else {
      telemetry::log_error("configuration reload rejected; the previous configuration stays in force",
                           {{"trigger", trigger}, {"error", problem}});
    }
  };
  std::unique_ptr<config::FileWatcher> config_watcher;
  if (!o.config_file.empty()) {
    config_watcher = std::make_unique<config::FileWatcher>(o.config_file, std::chrono::seconds(2),
                                                            [&reload_config] { reload_config("file change"); });
  }
  handler.set_ready(true);
  if (access) {
    telemetry::log_info("access control", {{"authentication", access->description()}});
  } else {
    telemetry::log_warning("serving without authentication (--insecure-allow-anonymous): anyone who can reach the "
                           "port can read metrics and write pushed values");
  }
  std::string port = std::to_string(https.port());
  std::string metrics_port = plain ? std::to_string(plain->port()) : "off";
  std::string described = backends->describe();
  telemetry::log_info("listening", {{"address", o.bind_address},
                                    {"port", port},
                                    {"backend", backends->config()->default_backend},
                                    {"backends", described},
                                    {"metrics_port", metrics_port}});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  int received = 0;
  while (sigwait(&signals, &received) == 0 && received == SIGHUP) {
    reload_config("SIGHUP");
    https.reload_certificate();  // reports through on_certificate_event
    if (access) access->reload_certificate_authorities("SIGHUP");
  }
  sigdelset(&signals, SIGHUP);
  // In order: fail readiness at once; keep serving while endpoints and the aggregator stop routing
  // here (a second signal cuts this short); stop accepting; let in-flight requests finish.
  handler.set_ready(false);
  std::string delay = std::to_string(o.shutdown_delay.count()) + "ms";
  telemetry::log_info("shutting down: readiness off, still serving",
                      {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}, {"delay", delay}});
  if (o.shutdown_delay.count() > 0) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(o.shutdown_delay);
    timespec wait{static_cast<time_t>(seconds.count()),
                  static_cast<long>(std::chrono::nanoseconds(o.shutdown_delay - seconds).count())};
    sigtimedwait(&signals, nullptr, &wait);
  }
  telemetry::log_info("shutting down: no longer accepting, finishing in-flight requests");
  if (certificates) certificates->stop();
  https.stop();
  if (plain) plain->stop();
  telemetry::log_info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cmd::limit_heap_retention();
  // Block the shutdown signals before any thread starts, so only sigwait() in serve() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Outgoing calls are a few at a time (a handful of workers, discovery, one watch per namespace).
  // The pool starts here, after the mask, so its threads never take the shutdown signals.
  http::set_client_threads(4);
  // Each outgoing connection shares its origin's trust store instead of reading the system bundle.
  http::share_system_trust_store();

  cmd::AdapterOptions options;
  cmd::FlagSet flags;
  cmd::register_flags(flags, options);
  cmd::SimulateOptions simulate_options;
  cmd::register_simulate_flags(flags, simulate_options);
  std::vector<std::string> positional;
  try {
    positional = flags.parse(argc, argv);
  } catch (const cmd::FlagError& e) {
    std::cerr << "sysdig-metrics-adapter: " << e.what() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.usage("sysdig-metrics-adapter [command]") << kUsageCommands;
    return 0;
  }
  if (options.version) {
    std::cout << "sysdig-metrics-adapter " << SMA_VERSION << "\n";
    return 0;
  }
  telemetry::LogLevel level;
  if (!telemetry::parse_log_level(options.log_level, level)) {
    std::cerr << "sysdig-metrics-adapter: invalid --log-level \"" << options.log_level << "\"\n";
    return 2;
  }
  telemetry::set_log_level(level);
  cmd::apply_environment(flags, options);
  if (auto problem = cmd::backend_problem(options); !problem.empty()) {
    std::cerr << "sysdig-metrics-adapter: " << problem << "\n";
    return 1;
  }

  if (!positional.empty()) {
    const std::string& command = positional.front();
    if ((command == "explain" || command == "query") && positional.size() == 2) {
      return command == "explain" ? cmd::run_explain(options, positional[1], std::cout, std::cerr)
                                  : cmd::run_query(options, positional[1], std::cout, std::cerr);
    }
    if (command == "simulate" && positional.size() == 1) {
      return cmd::run_simulate(options, simulate_options, std::cout, std::cerr);
    }
    if (command == "explain" || command == "query") {
      std::cerr << "sysdig-metrics-adapter: usage: sysdig-metrics-adapter " << command << " <API path>\n";
      return 2;
    }
    std::cerr << "sysdig-metrics-adapter: unknown command \"" << command << "\" (see --help)\n";
    return 2;
  }
  return serve(options);
}
