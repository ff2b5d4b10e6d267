// Running the lmul binary under an injected fault: a file-size limit (writes past it fail with
// EFBIG, as on a full disk), an unprivileged user (so that a read-only directory is read-only even
// when the tests run as root), or a SIGKILL after a fixed delay.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test_helpers.h"

namespace lmul::testing {

struct Fault {
  int64_t file_size_limit = -1;  // RLIMIT_FSIZE in bytes (SIGXFSZ ignored: write() fails with EFBIG)
  bool unprivileged = false;     // run as nobody (uid/gid 65534) when the tests run as root
};

// The uid the child runs as under `unprivileged`: nobody for root, else the caller itself.
inline uid_t fault_uid() { return ::geteuid() == 0 ? 65534 : ::geteuid(); }

// Starts `lmul ARGS` with the fault applied; stdout and stderr go to out_fd. Returns its pid.
inline pid_t spawn_with_fault(const std::vector<std::string>& args, const Fault& fault, int out_fd) {
  std::vector<char*> argv{const_cast<char*>(LMUL_BINARY)};  // built before fork: the child only calls syscalls
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const rlimit lim{static_cast<rlim_t>(fault.file_size_limit), static_cast<rlim_t>(fault.file_size_limit)};
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    if (fault.file_size_limit >= 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // an ignored signal stays ignored across execv
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
    }
    if (fault.unprivileged && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
    ::execv(LMUL_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

struct FaultRun {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr together
};

// Runs `lmul ARGS` to the end under the fault.
inline FaultRun run_with_fault(const std::vector<std::string>& args, const Fault& fault) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const pid_t pid = spawn_with_fault(args, fault, p[1]);
  ::close(p[1]);
  FaultRun r;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) r.output.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

// Starts `lmul ARGS` (output to the file log), SIGKILLs it after delay unless it ended before;
// returns true when the kill landed (the process was still running).
inline bool kill_after(const std::vector<std::string>& args, std::chrono::milliseconds delay, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  REQUIRE(fd >= 0);
  const pid_t pid = spawn_with_fault(args, {}, fd);
  ::close(fd);
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// The lines of text that start with prefix.
inline std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return out;
}

}  // namespace lmul::testing
