// Runs one command of an exec rule and collects what it printed, safely inside a multithreaded
// server:
//  - posix_spawn (no fork of a process holding locks); the child gets only its three pipes
//    (every other descriptor is closed in it, whatever its O_CLOEXEC flag), an environment of
//    exactly what the caller passes, "/" as its working directory, default signal handling and an
//    empty signal mask (the server blocks its shutdown signals), and a process group of its own;
//  - stdin is written, stdout and stderr read, all at once through poll(), so neither side can block
//    the other whatever the command reads or writes first (or never reads);
//  - past the timeout, or once stdout passes its limit, the whole process group is killed (SIGKILL:
//    a command ignoring SIGTERM is killed all the same); when the command exits, whatever it left
//    running in its group is killed too;
//  - the command is always reaped (waitpid), as are members of its group that became our children.
// Descendants that leave the group (setsid, daemonizing) are beyond its reach.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace sma::providers::exec {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: an absolute path, not looked up in PATH
  std::vector<std::string> env;   // "NAME=value", the whole environment of the command
  std::string stdin_data;
  std::chrono::milliseconds timeout{5000};
  std::size_t max_stdout = 1024 * 1024;  // more than this kills the command (OutputTooLarge)
  std::size_t max_stderr_kept = 4096;    // stderr is read to the end, only this much kept
};

struct ProcessOutcome {
  enum class End {
    Exited,          // exit_code holds its status (0 or not)
    Signalled,       // killed by a signal it did not get from us (signal holds it)
    TimedOut,        // killed by us at the timeout
    OutputTooLarge,  // killed by us: stdout passed max_stdout
    SpawnFailed,     // never ran: spawn_error says why
  };
  End end = End::SpawnFailed;
  int exit_code = 0;
  int signal = 0;
  std::string stdout_data;
  std::string stderr_data;        // at most max_stderr_kept bytes
  bool stdin_closed_early = false;  // the command closed stdin (or exited) before reading all of it
  std::string spawn_error;
  std::chrono::steady_clock::duration elapsed{};
};

// Thread-safe; any number may run at once.
ProcessOutcome run_process(const ProcessSpec& spec);

}  // namespace sma::providers::exec
