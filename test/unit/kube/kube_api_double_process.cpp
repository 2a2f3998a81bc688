#include "test/unit/kube/kube_api_double_process.h"

#include <fcntl.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sma::kube::testing {
namespace {

// The first line the double prints, or empty if none arrives in time.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {};
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return {};
    char buffer[256];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return {};
    line.append(buffer, static_cast<std::size_t>(n));
  }
  return line.substr(0, line.find('\n'));
}

}  // namespace

KubeApiDoubleProcess::KubeApiDoubleProcess(const std::string& token) {
  // The tests talk to loopback directly; a proxy set in the environment of a CI machine must not
  // intercept them (the fetcher, like Go, does not exempt loopback on its own).
  for (const char* name : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}) {
    ::unsetenv(name);
  }

  // Everything the child needs is built before fork(): only exec-safe calls happen after it.
  std::vector<std::string> args = {SMA_PYTHON3, SMA_KUBE_API_DOUBLE, "--port",
                                   "0",         "--token",           token};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int quiet = ::open("/dev/null", O_WRONLY);
    ::dup2(quiet,
           STDERR_FILENO);  // one log line per request; the tests read the control API instead
    ::close(out[0]);
    ::close(out[1]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  const std::string line = read_line(out[0], std::chrono::seconds(15));
  ::close(out[0]);
  rapidjson::Document info;
  info.Parse(line.c_str());
  if (line.empty() || info.HasParseError() || !info.IsObject() || !info.HasMember("port") ||
      !info.HasMember("ca_file")) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("the Kubernetes API double did not start (" +
                             std::string(SMA_KUBE_API_DOUBLE) + ")");
  }
  port_ = info["port"].GetInt();
  ca_file_ = info["ca_file"].GetString();
  http::FetcherOptions options;
  options.ca_file = ca_file_;
  control_fetcher_ = std::make_unique<http::HttpFetcher>(options);
}

KubeApiDoubleProcess::~KubeApiDoubleProcess() {
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string KubeApiDoubleProcess::server() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

KubeConnection KubeApiDoubleProcess::connection() const {
  KubeConnection connection;
  connection.server = server();
  connection.ca_file = ca_file_;
  connection.token = kToken;
  connection.source = "test";
  return connection;
}

std::string KubeApiDoubleProcess::control(const std::string& method, const std::string& path,
                                          const std::string& body) {
  http::OutgoingRequest request;
  request.method = method;
  request.url = server() + "/_control/" + path;
  request.body = body;
  request.headers = {{"Content-Type", "application/json"}};
  const auto result = control_fetcher_->fetch(request);
  if (result.status < 200 || result.status >= 300) {
    throw std::runtime_error("control " + method + " " + path + " answered " +
                             std::to_string(result.status) + ": " + result.body);
  }
  return result.body;
}

}  // namespace sma::kube::testing
