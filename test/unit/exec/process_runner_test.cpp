// The process runner with real commands (/bin/sh, coreutils): outputs, exit statuses, timeouts that
// kill whole process groups, limits, pipes that cannot deadlock, and nothing left behind: no
// zombie, no descriptor, no stray process.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "providers/exec/process_runner.h"

using namespace sma::providers::exec;
using End = ProcessOutcome::End;

namespace {

ProcessSpec shell(const std::string& script, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.timeout = timeout;
  return spec;
}

int open_descriptors() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count - 1;  // the directory's own
}

// Processes whose parent is this one, zombies included.
int children() {
  int count = 0;
  DIR* dir = ::opendir("/proc");
  const std::string me = std::to_string(::getpid());
  while (dirent* entry = ::readdir(dir)) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    count += ppid == me;
  }
  ::closedir(dir);
  return count;
}

// Gone, or a zombie waiting for a parent that is not us: either way no longer running.
bool not_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  return line.substr(line.rfind(')') + 2, 1) == "Z";
}

bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace

TEST_CASE("stdin reaches the command and stdout comes back") {
  ProcessSpec spec;
  spec.argv = {"/bin/cat"};
  spec.stdin_data = R"({"version":1,"metric":"m"})";
  auto outcome = run_process(spec);
  CHECK(outcome.end == End::Exited);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.stdout_data == spec.stdin_data);
  CHECK_FALSE(outcome.stdin_closed_early);
}

TEST_CASE("a failing command: its status and the start of its stderr") {
  auto outcome = run_process(shell("echo 'queue not found' >&2; echo more >&2; exit 3"));
  CHECK(outcome.end == End::Exited);
  CHECK(outcome.exit_code == 3);
  CHECK(outcome.stderr_data == "queue not found\nmore\n");
  auto signalled = run_process(shell("kill -SEGV $$"));
  CHECK(signalled.end == End::Signalled);
  CHECK(signalled.signal == SIGSEGV);
}

TEST_CASE("past the timeout the whole group is killed, also what ignores SIGTERM") {
  // The shell ignores SIGTERM and starts a child that ignores it too; both print their pid first.
  auto outcome = run_process(shell("trap '' TERM; echo $$; sh -c 'trap \"\" TERM; echo $$; exec sleep 30'; sleep 30",
                                    std::chrono::milliseconds(300)));
  CHECK(outcome.end == End::TimedOut);
  CHECK(outcome.elapsed < std::chrono::seconds(15));
  std::istringstream pids(outcome.stdout_data);
  pid_t parent = 0, child = 0;
  pids >> parent >> child;
  REQUIRE(parent > 0);
  REQUIRE(child > 0);
  CHECK(not_running(parent));
  CHECK(eventually([&] { return not_running(child); }));
}

TEST_CASE("what a command leaves running in its group is killed when it exits") {
  auto outcome = run_process(shell("sleep 30 >/dev/null 2>&1 & echo $!"));
  CHECK(outcome.end == End::Exited);
  pid_t background = std::stoi(outcome.stdout_data);
  CHECK(eventually([&] { return not_running(background); }));
}

TEST_CASE("more output than the limit kills the command") {
  auto spec = shell("while :; do echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; done");
  spec.max_stdout = 100000;
  auto outcome = run_process(spec);
  CHECK(outcome.end == End::OutputTooLarge);
  CHECK(outcome.stdout_data.size() == 100000);
  // Exactly at the limit is fine; one byte more is not.
  auto exact = shell("head -c 100000 /dev/zero");
  exact.max_stdout = 100000;
  CHECK(run_process(exact).end == End::Exited);
  auto one_more = shell("head -c 100001 /dev/zero");
  one_more.max_stdout = 100000;
  CHECK(run_process(one_more).end == End::OutputTooLarge);
  // stderr is read to its end but only the start kept, and never fails the call.
  auto noisy = shell("i=0; while [ $i -lt 2000 ]; do echo 'warning: something' >&2; i=$((i+1)); done; echo 7");
  noisy.max_stderr_kept = 64;
  auto kept = run_process(noisy);
  CHECK(kept.end == End::Exited);
  CHECK(kept.stdout_data == "7\n");
  CHECK(kept.stderr_data.size() == 64);
}

TEST_CASE("a command that never reads a large stdin, or closes stdout early, does not block anything") {
  auto spec = shell("echo 1");
  spec.stdin_data.assign(4 * 1024 * 1024, 'x');  // far more than a pipe holds
  auto outcome = run_process(spec);
  CHECK(outcome.end == End::Exited);
  CHECK(outcome.stdout_data == "1\n");
  CHECK(outcome.stdin_closed_early);

  auto closer = shell("exec 1>&-; exec 0<&-; sleep 0.2; echo bye >&2");
  closer.stdin_data.assign(1024 * 1024, 'x');
  auto closed = run_process(closer);
  CHECK(closed.end == End::Exited);
  CHECK(closed.stdout_data.empty());
  CHECK(closed.stderr_data == "bye\n");
}

TEST_CASE("a program that does not exist is a spawn failure, not a crash") {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/metrics-script"};
  auto outcome = run_process(spec);
  CHECK(outcome.end == End::SpawnFailed);
  CHECK_THAT(outcome.spawn_error, Catch::Contains("No such file"));
}

TEST_CASE("the command sees only what it is given") {
  // Environment: exactly the list.
  ProcessSpec env;
  env.argv = {"/usr/bin/env"};
  env.env = {"RABBITMQ_URL=amqp://q", "A=1"};
  CHECK(run_process(env).stdout_data == "RABBITMQ_URL=amqp://q\nA=1\n");
  // Working directory "/".
  ProcessSpec pwd;
  pwd.argv = {"/bin/pwd"};
  CHECK(run_process(pwd).stdout_data == "/\n");
  // No descriptor of ours, even one without O_CLOEXEC.
  int leaky = ::open("/dev/null", O_RDONLY);
  REQUIRE(::dup2(leaky, 100) == 100);
  ::close(leaky);
  CHECK(run_process(shell("[ -e /proc/$$/fd/100 ] && echo leaked || echo clean")).stdout_data == "clean\n");
  // No pipeline here: the shell holds a pipeline's pipe ends for a moment while it starts its
  // members, and `ls` could list them (a flaky "0 1 2 3 4 5").
  CHECK(run_process(shell("ls /proc/$$/fd")).stdout_data == "0\n1\n2\n");
  ::close(100);
  // Default signal handling and an empty mask, whatever this thread has.
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  auto old_pipe = ::signal(SIGPIPE, SIG_IGN);
  auto status = run_process(shell("grep -E '^(SigBlk|SigIgn):' /proc/$$/status"));
  ::signal(SIGPIPE, old_pipe);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  // Bits of /proc/<pid>/status: signal n is bit n-1. glibc's posix_spawn leaves its own two
  // internal signals (32 and 33, below SIGRTMIN) ignored; every signal a program uses is default.
  std::istringstream lines(status.stdout_data);
  std::string blocked_label, blocked, ignored_label, ignored;
  lines >> blocked_label >> blocked >> ignored_label >> ignored;
  CHECK(blocked_label == "SigBlk:");
  CHECK(std::stoull(blocked, nullptr, 16) == 0);
  CHECK(ignored_label == "SigIgn:");
  CHECK((std::stoull(ignored, nullptr, 16) & ~0x180000000ull) == 0);
  // A process group of its own: its pgid is its pid.
  auto group = run_process(shell("cut -d' ' -f1,5 /proc/$$/stat"));
  std::istringstream ids(group.stdout_data);
  std::string pid, pgid;
  ids >> pid >> pgid;
  CHECK(pid == pgid);
}

TEST_CASE("a command closing stdin early raises no SIGPIPE here") {
  // Without SIGPIPE ignored (as in this test binary), a write to a closed pipe would end the process.
  auto spec = shell("exec 0<&-; echo 5");
  spec.stdin_data.assign(8 * 1024 * 1024, 'x');
  for (int i = 0; i < 5; ++i) {
    auto outcome = run_process(spec);
    CHECK(outcome.end == End::Exited);
    CHECK(outcome.stdout_data == "5\n");
  }
  sigset_t pending;
  sigpending(&pending);
  CHECK_FALSE(sigismember(&pending, SIGPIPE));
}

TEST_CASE("many calls, one after the other and at once, leave no zombie and no descriptor") {
  const int before = open_descriptors();
  for (int i = 0; i < 300; ++i) {
    ProcessSpec spec;
    spec.argv = {"/bin/cat"};
    spec.stdin_data = std::to_string(i);
    REQUIRE(run_process(spec).stdout_data == std::to_string(i));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 10; ++i) {
        auto spec = shell(i % 3 == 0 ? "cat; exit 1" : "cat");
        spec.stdin_data = std::to_string(t * 100 + i);
        auto outcome = run_process(spec);
        if (outcome.stdout_data != spec.stdin_data || outcome.exit_code != (i % 3 == 0 ? 1 : 0)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(open_descriptors() == before);
  CHECK(children() == 0);
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);  // ECHILD: nothing left to reap
}
