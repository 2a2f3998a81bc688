// sysdig-metrics-adapter: serves the Kubernetes custom and external metrics APIs.
// Wires flags to objects; everything with behaviour lives in lib/ and providers/.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cmd/flag_set.h"
#include "lib/apiserver/api_handler.h"
#include "lib/server/https_server.h"
#include "lib/telemetry/log.h"
#include "providers/push/push_provider.h"

namespace {

using namespace sma;

struct Options {
  std::uint16_t secure_port = 6443;
  std::string bind_address = "0.0.0.0";
  std::string tls_cert_file;
  std::string tls_private_key_file;
  bool insecure_allow_anonymous = false;
  std::string backend = "push";
  std::chrono::milliseconds push_ttl{std::chrono::minutes(10)};
  std::string log_level = "info";
  bool version = false;
};

void register_flags(cmd::FlagSet& flags, Options& o) {
  flags.add_port("secure-port", &o.secure_port, "HTTPS port the metrics APIs are served on (0 picks a free port)");
  flags.add_string("bind-address", &o.bind_address, "address to listen on for the secure port");
  flags.add_string("tls-cert-file", &o.tls_cert_file,
                   "PEM serving certificate (with intermediates); a self-signed pair is generated when not given");
  flags.add_string("tls-private-key-file", &o.tls_private_key_file, "PEM private key matching --tls-cert-file");
  flags.add_bool("insecure-allow-anonymous", &o.insecure_allow_anonymous,
                 "serve requests without authentication (development and tests only)");
  flags.add_string("backend", &o.backend, "metrics backend: push");
  flags.add_duration("push-ttl", &o.push_ttl, "how long a pushed value is served (0 keeps values forever)");
  flags.add_string("log-level", &o.log_level, "debug, info, warning or error");
  flags.add_bool("version", &o.version, "print the version and exit");
}

// The one-line reason the daemon cannot start with these options, or empty.
std::string startup_problem(const Options& o) {
  if (o.backend != "push") return "unknown --backend \"" + o.backend + "\" (available: push)";
  if (o.tls_cert_file.empty() != o.tls_private_key_file.empty()) {
    return "--tls-cert-file and --tls-private-key-file must be given together";
  }
  if (!o.insecure_allow_anonymous) {
    return "no authentication is configured: this build has no front-proxy or token authentication yet, so "
           "pass --insecure-allow-anonymous to serve without it (development and tests only)";
  }
  return {};
}

int serve(const Options& o) {
  providers::push::PushProvider push(o.push_ttl);
  apiserver::ApiHandler handler(push, &push);

  server::HttpsServerOptions server_options;
  server_options.bind_address = o.bind_address;
  server_options.port = o.secure_port;
  server_options.cert_file = o.tls_cert_file;
  server_options.key_file = o.tls_private_key_file;
  server::HttpsServer https(server_options, [&handler](const server::HttpRequest& r) { return handler.handle(r); });

  try {
    https.start();
  } catch (const std::exception& e) {
    std::cerr << "sysdig-metrics-adapter: " << e.what() << "\n";
    return 1;
  }
  handler.set_ready(true);
  telemetry::log_warning("serving without authentication (--insecure-allow-anonymous): anyone who can reach the "
                         "port can read and write metrics");
  std::string port = std::to_string(https.port());
  telemetry::log_info("listening", {{"address", o.bind_address}, {"port", port}, {"backend", o.backend}});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  telemetry::log_info("shutting down", {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}});
  handler.set_ready(false);
  https.stop();
  telemetry::log_info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so only sigwait() in serve() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Options options;
  cmd::FlagSet flags;
  register_flags(flags, options);
  std::vector<std::string> positional;
  try {
    positional = flags.parse(argc, argv);
  } catch (const cmd::FlagError& e) {
    std::cerr << "sysdig-metrics-adapter: " << e.what() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.usage("sysdig-metrics-adapter");
    return 0;
  }
  if (options.version) {
    std::cout << "sysdig-metrics-adapter " << SMA_VERSION << "\n";
    return 0;
  }
  if (!positional.empty()) {
    std::cerr << "sysdig-metrics-adapter: unknown command \"" << positional.front() << "\" (see --help)\n";
    return 2;
  }
  telemetry::LogLevel level;
  if (!telemetry::parse_log_level(options.log_level, level)) {
    std::cerr << "sysdig-metrics-adapter: invalid --log-level \"" << options.log_level << "\"\n";
    return 2;
  }
  telemetry::set_log_level(level);
  if (auto problem = startup_problem(options); !problem.empty()) {
    std::cerr << "sysdig-metrics-adapter: " << problem << "\n";
    return 1;
  }
  return serve(options);
}
