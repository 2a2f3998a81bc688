#include "providers/exec/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace sma::providers::exec {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Every descriptor made here is O_CLOEXEC from its first instant (pipe2), so a command spawned by
// another thread at the same moment never inherits it; and at 3 or above, so that dup2 onto 0, 1
// or 2 in the child always makes a new descriptor (dup2 of a descriptor onto itself would keep
// O_CLOEXEC, and the command would start without it).
bool make_pipe(Fd& read_end, Fd& write_end, std::string& error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  for (int& fd : fds) {
    if (fd < 3) {
      int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      ::close(fd);
      fd = moved;
    }
  }
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  if (!read_end.open() || !write_end.open()) {
    error = std::string("fcntl: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void set_nonblocking(const Fd& fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
}

// A descriptor that becomes readable when the process exits; -1 where the kernel has none (before
// Linux 5.3, or a seccomp profile refusing it): then exits are noticed by polling waitid.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);  // pidfd_open sets it; made sure
    return static_cast<int>(fd);
  }
#else
  (void)pid;
#endif
  return -1;
}

bool has_exited(pid_t pid) {
  siginfo_t info{};
  info.si_pid = 0;
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

// Writing into a pipe whose reader is gone raises SIGPIPE, which would end the whole server unless
// ignored. It is blocked on this thread while a command runs, and one it raised is taken back before
// the mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous_);
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) && !sigismember(&previous_, SIGPIPE)) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_only, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t previous_;
};

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // 0 or an errno value.
  int prepare(int stdin_fd, int stdout_fd, int stderr_fd) {
    int rc = 0;
    auto step = [&rc](int result) {
      if (rc == 0) rc = result;
    };
    step(posix_spawn_file_actions_adddup2(&actions_, stdin_fd, STDIN_FILENO));
    step(posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO));
    step(posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO));
    // Whatever else is open here (sockets of other requests, files of libraries that forgot
    // O_CLOEXEC) stays out of the command.
    step(posix_spawn_file_actions_addclosefrom_np(&actions_, 3));
    step(posix_spawn_file_actions_addchdir_np(&actions_, "/"));
    sigset_t none;
    sigemptyset(&none);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    step(posix_spawnattr_setsigmask(&attr_, &none));      // the server blocks SIGTERM, SIGINT, SIGHUP
    step(posix_spawnattr_setsigdefault(&attr_, &all));    // and ignores SIGPIPE
    step(posix_spawnattr_setpgroup(&attr_, 0));           // a group of its own, to kill as a whole
    step(posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    return rc;
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

enum class ReadState { Open, Done };

// Reads what is there now. Done at end of file (or an error other than "nothing yet").
ReadState drain(Fd& fd, std::string& into, std::size_t keep, bool& overflow) {
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      std::size_t room = keep > into.size() ? keep - into.size() : 0;
      into.append(buffer, std::min(room, static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) > room) overflow = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadState::Open;
    fd.reset();
    return ReadState::Done;
  }
}

}  // namespace

ProcessOutcome run_process(const ProcessSpec& spec) {
  ProcessOutcome outcome;
  const auto started = Clock::now();
  const auto deadline = started + spec.timeout;
  auto finish = [&]() -> ProcessOutcome& {
    outcome.elapsed = Clock::now() - started;
    return outcome;
  };
  if (spec.argv.empty()) {
    outcome.spawn_error = "no command";
    return finish();
  }

  Fd stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write;
  if (!make_pipe(stdin_read, stdin_write, outcome.spawn_error) ||
      !make_pipe(stdout_read, stdout_write, outcome.spawn_error) ||
      !make_pipe(stderr_read, stderr_write, outcome.spawn_error)) {
    return finish();
  }
  SpawnSetup setup;
  if (int rc = setup.prepare(stdin_read.get(), stdout_write.get(), stderr_write.get()); rc != 0) {
    outcome.spawn_error = std::string("posix_spawn setup: ") + std::strerror(rc);
    return finish();
  }
  auto argv = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  SigpipeBlock no_sigpipe;
  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data()); rc != 0) {
    outcome.spawn_error = spec.argv.front() + ": " + std::strerror(rc);
    return finish();
  }
  // The child's ends belong to the child now.
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();
  set_nonblocking(stdin_write);
  set_nonblocking(stdout_read);
  set_nonblocking(stderr_read);
  Fd pidfd(open_pidfd(pid));

  std::size_t written = 0;
  if (spec.stdin_data.empty()) stdin_write.reset();
  bool exited = false;
  bool stdout_overflow = false;
  bool stderr_overflow = false;
  enum class Kill { None, Timeout, Oversize } killed = Kill::None;

  while (true) {
    if (!exited && !pidfd.open()) exited = has_exited(pid);
    if (exited) {
      // Output written before the exit is in the pipes: take it. A descendant still holding a pipe
      // open is not waited for (it is killed with the group below).
      if (stdout_read.open()) drain(stdout_read, outcome.stdout_data, spec.max_stdout + 1, stdout_overflow);
      if (stderr_read.open()) drain(stderr_read, outcome.stderr_data, spec.max_stderr_kept, stderr_overflow);
      if (outcome.stdout_data.size() > spec.max_stdout) killed = Kill::Oversize;
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      killed = Kill::Timeout;
      break;
    }
    pollfd fds[4];
    nfds_t count = 0;
    int out_index = -1, err_index = -1, in_index = -1, pid_index = -1;
    if (stdout_read.open()) {
      out_index = static_cast<int>(count);
      fds[count++] = {stdout_read.get(), POLLIN, 0};
    }
    if (stderr_read.open()) {
      err_index = static_cast<int>(count);
      fds[count++] = {stderr_read.get(), POLLIN, 0};
    }
    if (stdin_write.open()) {
      in_index = static_cast<int>(count);
      fds[count++] = {stdin_write.get(), POLLOUT, 0};
    }
    if (pidfd.open()) {
      pid_index = static_cast<int>(count);
      fds[count++] = {pidfd.get(), POLLIN, 0};
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    // Without a pidfd the exit is only seen by asking: every 10 ms.
    int wait_ms = static_cast<int>(std::min<long long>(left, pidfd.open() ? 60000 : 10));
    int ready = ::poll(fds, count, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      killed = Kill::Timeout;  // cannot wait any more: treat as not finishing
      break;
    }
    if (pid_index >= 0 && (fds[pid_index].revents & (POLLIN | POLLHUP | POLLERR))) exited = true;
    if (out_index >= 0 && fds[out_index].revents) {
      // Kept up to one byte past the limit: that byte says the limit was passed.
      drain(stdout_read, outcome.stdout_data, spec.max_stdout + 1, stdout_overflow);
      if (outcome.stdout_data.size() > spec.max_stdout) {
        killed = Kill::Oversize;
        break;
      }
    }
    if (err_index >= 0 && fds[err_index].revents) {
      drain(stderr_read, outcome.stderr_data, spec.max_stderr_kept, stderr_overflow);
    }
    if (in_index >= 0 && fds[in_index].revents) {
      if (fds[in_index].revents & (POLLERR | POLLHUP)) {
        outcome.stdin_closed_early = true;
        stdin_write.reset();
      } else {
        while (written < spec.stdin_data.size()) {
          ssize_t n = ::write(stdin_write.get(), spec.stdin_data.data() + written,
                              std::min<std::size_t>(spec.stdin_data.size() - written, 65536));
          if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          outcome.stdin_closed_early = true;  // EPIPE: the command closed stdin
          break;
        }
        if (written == spec.stdin_data.size() || outcome.stdin_closed_early) stdin_write.reset();
      }
    }
  }
  if (stdin_write.open() && written < spec.stdin_data.size()) outcome.stdin_closed_early = true;
  stdin_write.reset();

  // The group goes, whether the command exited or not: nothing it started outlives the call.
  // The command itself is not reaped yet, so its pid (the group's id) cannot have been reused.
  ::kill(-pid, SIGKILL);
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  // Members of the group that became our children (when this process is PID 1 or a subreaper,
  // orphans are reparented here): reaped too, briefly waiting for the SIGKILL to land.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    pid_t member = ::waitpid(-pid, nullptr, WNOHANG);
    if (member > 0) continue;
    if (member < 0 && errno == EINTR) continue;
    if (member < 0) break;  // ECHILD: none left
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Output the command wrote just before it was killed or exited.
  if (stdout_read.open() && killed == Kill::None) {
    drain(stdout_read, outcome.stdout_data, spec.max_stdout + 1, stdout_overflow);
    if (outcome.stdout_data.size() > spec.max_stdout) killed = Kill::Oversize;
  }
  if (stderr_read.open()) drain(stderr_read, outcome.stderr_data, spec.max_stderr_kept, stderr_overflow);

  if (killed == Kill::Timeout) {
    outcome.end = ProcessOutcome::End::TimedOut;
  } else if (killed == Kill::Oversize) {
    outcome.end = ProcessOutcome::End::OutputTooLarge;
    outcome.stdout_data.resize(std::min(outcome.stdout_data.size(), spec.max_stdout));
  } else if (reaped != pid) {
    outcome.end = ProcessOutcome::End::SpawnFailed;
    outcome.spawn_error = std::string("its exit status was lost: ") + std::strerror(errno);
  } else if (WIFEXITED(status)) {
    outcome.end = ProcessOutcome::End::Exited;
    outcome.exit_code = WEXITSTATUS(status);
  } else {
    outcome.end = ProcessOutcome::End::Signalled;
    outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return finish();
}

}  // namespace sma::providers::exec
