// exec rules in the rules file: the command must be usable at load (else file:line), and what does
// not apply to a command is refused.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "lib/config/adapter_config.h"

using namespace sma;
using config::ConfigError;
using config::parse_config;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "adapter.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A file in a fresh directory, removed with it.
struct ScratchFile {
  std::string dir;
  std::string path;
  explicit ScratchFile(mode_t mode) {
    char templ[] = "/tmp/sma-exec-rules-XXXXXX";
    dir = ::mkdtemp(templ);
    path = dir + "/script.sh";
    std::ofstream(path) << "#!/bin/sh\necho 1\n";
    ::chmod(path.c_str(), mode);
  }
  ~ScratchFile() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("an exec rule: command, timeout, input and env") {
  auto c = parse_config(R"yaml(
rules:
  - metric: queue_oldest_message_age_seconds
    resources: [services, deployments.apps]
    backend: exec
    exec:
      command: ["/bin/sh", "-c", "echo 1", "$(rm -rf /)"]
      timeout: 1500ms
      input: object
      env: [RABBITMQ_URL, http_proxy]
    cacheTTL: 0s
  - external: vendor_backlog
    exec:
      command: [/bin/true]
)yaml",
                        "adapter.yaml");
  auto r = c.resolve_custom("queue_oldest_message_age_seconds", {"services", ""});
  REQUIRE(r);
  CHECK(r->backend == "exec");
  REQUIRE(r->rule->exec);
  const auto& exec = *r->rule->exec;
  CHECK(exec.command == std::vector<std::string>{"/bin/sh", "-c", "echo 1", "$(rm -rf /)"});
  CHECK(exec.timeout == std::chrono::milliseconds(1500));
  CHECK(exec.object_input);
  CHECK(exec.env == std::vector<std::string>{"RABBITMQ_URL", "http_proxy"});
  CHECK(r->cache_ttl == std::chrono::seconds(0));
  auto e = c.resolve_external("vendor_backlog");
  REQUIRE(e);
  CHECK(e->backend == "exec");  // an exec block implies the backend
  CHECK(e->rule->exec->timeout == std::chrono::seconds(5));
  CHECK_FALSE(e->rule->exec->object_input);
}

TEST_CASE("a command that cannot run refuses the file, naming the line") {
  CHECK_THAT(error_of("rules:\n  - metric: m\n    exec:\n      command: [/nonexistent/queue-age.py]\n"),
             Catch::StartsWith("adapter.yaml:4: exec.command /nonexistent/queue-age.py cannot be used: No such file"));
  CHECK_THAT(error_of("rules:\n  - metric: m\n    exec:\n      command: [/tmp]\n"),
             Catch::StartsWith("adapter.yaml:4: exec.command /tmp is not a regular file"));
  CHECK_THAT(error_of("rules:\n  - metric: m\n    exec:\n      command: [queue-age.py]\n"),
             Catch::StartsWith("adapter.yaml:4: exec.command must start with an absolute path"));
  if (::geteuid() != 0) {  // root may execute a file without x bits only if some x bit is set
    ScratchFile plain(0644);
    CHECK_THAT(error_of("rules:\n  - metric: m\n    exec:\n      command: [" + plain.path + "]\n"),
               Catch::Contains("is not executable by this process"));
  }
  ScratchFile script(0755);
  CHECK(error_of("rules:\n  - metric: m\n    exec:\n      command: [" + script.path + "]\n") == "");
}

TEST_CASE("exec rule errors") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  for (auto c : {
           Case{"rules:\n  - metric: m\n    backend: exec\n", "adapter.yaml:3: backend exec needs an exec block"},
           Case{"rules:\n  - metric: m\n    backend: sysdig\n    exec:\n      command: [/bin/true]\n",
                "adapter.yaml:3: a rule with exec uses backend exec"},
           Case{"rules:\n  - metric: m\n    exec: {}\n", "adapter.yaml:3: exec needs a command"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: []\n", "adapter.yaml:4: exec.command must be a non-empty list"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: /bin/true\n", "adapter.yaml:4: exec.command must be a non-empty list"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n      timeout: 0s\n",
                "adapter.yaml:5: exec.timeout must be between 1ms and 10m"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n      timeout: soon\n",
                "adapter.yaml:5: exec.timeout \"soon\" is not a duration"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n      input: everything\n",
                "adapter.yaml:5: exec.input must be query or object"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n      env: [\"A=B\"]\n",
                "adapter.yaml:5: exec.env: \"A=B\" is not a variable name"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n      shell: true\n",
                "adapter.yaml:5: unknown key \"shell\" in exec"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n    query: 'x{<<.LabelMatchers>>} by (<<.GroupBy>>)'\n",
                "adapter.yaml:5: query does not apply to exec rules"},
           Case{"rules:\n  - metric: m\n    exec:\n      command: [/bin/true]\n    aggregation: sum\n",
                "adapter.yaml:5: aggregation does not apply to exec rules"},
           Case{"defaults:\n  backend: exec\n", "adapter.yaml:2: backend must be one of sysdig, prometheus, push"},
       }) {
    INFO(c.yaml);
    CHECK_THAT(error_of(c.yaml), Catch::StartsWith(c.expected));
  }
}
