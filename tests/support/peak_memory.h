// Peak memory of a piece of work, for tests that bound it: in a forked child of the test process
// (VmHWM of /proc/self/status after clearing it), or of a program run directly (wait4's ru_maxrss).
#pragma once
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace otel::testing {

// Under AddressSanitizer (`make test-sanitize`) the figures are the sanitizer's own (redzones, the
// quarantine of freed memory): memory bounds are checked by the normal build only.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kMemoryBoundsApply = false;
#else
inline constexpr bool kMemoryBoundsApply = true;
#endif
// EXPECT_LT for a memory figure (streams a message as EXPECT_LT does); nothing under AddressSanitizer.
#define OTEL_EXPECT_MEMORY_LT(a, b) \
  if (!::otel::testing::kMemoryBoundsApply) { \
  } else                                      \
    EXPECT_LT(a, b)

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

namespace detail {

inline bool readFull(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t k = ::read(fd, c, n);
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
inline bool writeFull(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t k = ::write(fd, c, n);
    if (k <= 0) return false;
    c += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}
inline void putString(std::string& out, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += s;
}
inline std::string getString(const std::string& in, size_t& off) {
  uint32_t n = 0;
  std::memcpy(&n, in.data() + off, sizeof n);
  off += sizeof n;
  std::string s = in.substr(off, n);
  off += n;
  return s;
}

// Linux carries a process's peak RSS over fork and exec (signal->maxrss takes the old mm's high-water
// mark), so a program forked from a large test process reports the test's size. Programs are therefore
// started by a small process forked once, before the tests grow: it runs each request and answers
// with the exit status and wait4's ru_maxrss.
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner s;
    return s;
  }
  // request: argv, stdin path, stdout path, stderr path, env
  bool run(const std::vector<std::string>& argv, const std::string& in, const std::string& out,
           const std::string& err, const std::vector<std::string>& env, int& status, long& maxRssKb) {
    std::string req;
    putString(req, std::to_string(argv.size()));
    for (const auto& a : argv) putString(req, a);
    putString(req, in);
    putString(req, out);
    putString(req, err);
    putString(req, std::to_string(env.size()));
    for (const auto& e : env) putString(req, e);
    uint32_t n = static_cast<uint32_t>(req.size());
    if (!writeFull(toChild_, &n, sizeof n) || !writeFull(toChild_, req.data(), req.size())) return false;
    long answer[2];
    if (!readFull(fromChild_, answer, sizeof answer)) return false;
    status = static_cast<int>(answer[0]);
    maxRssKb = answer[1];
    return true;
  }

 private:
  Spawner() {
    int a[2], b[2];
    if (::pipe(a) != 0 || ::pipe(b) != 0) return;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(a[1]);
      ::close(b[0]);
      serve(a[0], b[1]);
      ::_exit(0);
    }
    ::close(a[0]);
    ::close(b[1]);
    toChild_ = a[1];
    fromChild_ = b[0];
  }
  [[noreturn]] static void serve(int in, int out) {
    while (true) {
      uint32_t n = 0;
      if (!readFull(in, &n, sizeof n)) ::_exit(0);
      std::string req(n, '\0');
      if (!readFull(in, req.data(), n)) ::_exit(0);
      size_t off = 0;
      size_t argc = std::stoul(getString(req, off));
      std::vector<std::string> argv;
      for (size_t i = 0; i < argc; ++i) argv.push_back(getString(req, off));
      std::string inPath = getString(req, off), outPath = getString(req, off), errPath = getString(req, off);
      size_t envc = std::stoul(getString(req, off));
      std::vector<std::string> env;
      for (size_t i = 0; i < envc; ++i) env.push_back(getString(req, off));
      pid_t pid = ::fork();
      if (pid == 0) {
        int i = ::open(inPath.c_str(), O_RDONLY);
        int o = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(i, 0);
        ::dup2(o, 1);
        ::dup2(e, 2);
        for (auto& v : env) ::putenv(v.data());
        std::vector<char*> args;
        for (auto& x : argv) args.push_back(x.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
      }
      int status = 0;
      struct rusage ru {};
      ::wait4(pid, &status, 0, &ru);
      long answer[2] = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss};
      if (!writeFull(out, answer, sizeof answer)) ::_exit(0);
    }
  }
  int toChild_ = -1, fromChild_ = -1;
};

}  // namespace detail

// Starts the spawner now (call before the test process grows, e.g. from a namespace-scope initializer).
inline void startSpawner() { detail::Spawner::instance(); }

// Runs a program directly (no shell): stdin from `stdinPath` (default /dev/null), stdout and stderr to files,
// then reads them back. The peak memory is the program's own (wait4 in the spawner).
inline Run runMeasured(const std::vector<std::string>& argv, const std::string& stdinPath = "/dev/null",
                       const std::vector<std::string>& env = {}) {
  Run r;
  char outTmpl[] = "/tmp/otel-run-out-XXXXXX";
  char errTmpl[] = "/tmp/otel-run-err-XXXXXX";
  int outFd = ::mkstemp(outTmpl), errFd = ::mkstemp(errTmpl);
  int status = 0;
  long maxRss = 0;
  if (!detail::Spawner::instance().run(argv, stdinPath, outTmpl, errTmpl, env, status, maxRss)) status = -1;
  r.code = status;
  r.maxRssKb = maxRss;
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
