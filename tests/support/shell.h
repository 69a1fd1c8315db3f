// Running the real kubectl-otel binary (or kubectl) from tests: a shell command with stdout, stderr and the exit code
// captured, and per-process temporary folders.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "lib/core/files.h"

namespace otel::clitest {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `cmd` with /bin/sh, stdin from /dev/null, stdout and stderr captured to temp files. Thread-safe.
inline Result sh(const std::string& cmd) {
  static std::atomic<int> counter{0};
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("otel-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int n = counter++;
  std::string o = (dir / ("out" + std::to_string(n))).string();
  std::string e = (dir / ("err" + std::to_string(n))).string();
  int rc = std::system(("(" + cmd + ") </dev/null >" + o + " 2>" + e).c_str());
  Result r;
  r.code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = otel::readFile(o);
  r.err = otel::readFile(e);
  return r;
}

// A fresh, empty folder under the temp dir, unique to this process and `name`.
inline std::string tempDir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path d = fs::temp_directory_path() / ("otel-cli-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

inline bool haveKubectl() { return sh("command -v kubectl").code == 0; }

// Polls `cond` until it holds or `limit` has passed (the last answer decides): how tests wait on
// something another process or thread does, with a bound and no fixed sleep.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // between two looks at the condition
  }
  return cond();
}

}  // namespace otel::clitest
