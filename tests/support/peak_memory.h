// Peak memory of a piece of work, for tests that bound it: in a forked child of the test process
// (VmHWM of /proc/self/status after clearing it), or of a program run directly (wait4's ru_maxrss).
#pragma once
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace otel::testing {

// A /proc/self/status field in kB ("VmRSS", "VmHWM"), -1 if absent.
inline long procStatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  return -1;
}

struct PeakMemory {
  long baselineKb = 0;  // resident before the work
  long peakKb = 0;      // high-water mark during it
  long growthKb() const { return peakKb - baselineKb; }
  bool ok = false;      // the child ran to its end (no crash); `result` is what the work returned
  std::string result;
};

// Runs `work` in a forked child: free heap is returned to the kernel and the high-water mark reset
// first (clear_refs 5), so the growth is the work's own. The work's return text comes back through a pipe.
inline PeakMemory measureInChild(const std::function<std::string()>& work) {
  PeakMemory m;
  int fds[2];
  if (::pipe(fds) != 0) return m;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::malloc_trim(0);
    { std::ofstream("/proc/self/clear_refs") << "5"; }
    long base = procStatusKb("VmRSS");
    std::string r;
    try {
      r = work();
    } catch (const std::exception& e) {
      r = std::string("exception: ") + e.what();
    }
    long peak = procStatusKb("VmHWM");
    std::string msg = std::to_string(base) + " " + std::to_string(peak) + " " + r;
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t n = ::write(fds[1], msg.data() + off, msg.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return m;
  size_t a = all.find(' '), b = all.find(' ', a + 1);
  if (a == std::string::npos || b == std::string::npos) return m;
  m.baselineKb = std::strtol(all.c_str(), nullptr, 10);
  m.peakKb = std::strtol(all.c_str() + a + 1, nullptr, 10);
  m.result = all.substr(b + 1);
  m.ok = true;
  return m;
}

struct Run {
  int code = -1;       // exit code, -1 when killed by a signal
  long maxRssKb = 0;   // the program's peak resident memory (wait4)
  std::string out, err;
};

// Runs a program directly (no shell): stdin from `stdinPath` (default /dev/null), stdout and stderr to files,
// then reads them back. The peak memory is the program's own, from wait4.
inline Run runMeasured(const std::vector<std::string>& argv, const std::string& stdinPath = "/dev/null",
                       const std::vector<std::string>& env = {}) {
  Run r;
  char outTmpl[] = "/tmp/otel-run-out-XXXXXX";
  char errTmpl[] = "/tmp/otel-run-err-XXXXXX";
  int outFd = ::mkstemp(outTmpl), errFd = ::mkstemp(errTmpl);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(stdinPath.c_str(), O_RDONLY);
    ::dup2(in, 0);
    ::dup2(outFd, 1);
    ::dup2(errFd, 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.maxRssKb = ru.ru_maxrss;
  auto slurp = [](int fd) {
    std::string s;
    ::lseek(fd, 0, SEEK_SET);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
  };
  r.out = slurp(outFd);
  r.err = slurp(errFd);
  ::unlink(outTmpl);
  ::unlink(errTmpl);
  return r;
}

}  // namespace otel::testing
