#include "lib/kube/credentials.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/log.h"

extern char** environ;

namespace otel::kube {

namespace {

std::string trimToken(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return s.substr(i);
}

}  // namespace

// ---------------------------------------------------------------- time


// ---------------------------------------------------------------- token file

TokenFileCredentials::TokenFileCredentials(std::string path, std::chrono::seconds refresh, Credentials base)
    : path_(std::move(path)), refresh_(refresh), base_(std::move(base)) {}

Credentials TokenFileCredentials::get() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!haveToken_ || now - readAt_ >= refresh_) {
    // Re-read the whole file every time (the kubelet swaps it through a symlink).
    std::string t = trimToken(otel::readFile(path_));
    token_ = t;
    readAt_ = now;
    haveToken_ = true;
  }
  Credentials c = base_;
  c.token = token_;
  return c;
}

bool TokenFileCredentials::refreshAfterUnauthorized(const Credentials& used) {
  std::string fresh;
  try {
    fresh = trimToken(otel::readFile(path_));
  } catch (const otel::Error&) {
    return false;
  }
  std::lock_guard lock(mu_);
  token_ = fresh;
  readAt_ = std::chrono::steady_clock::now();
  haveToken_ = true;
  return fresh != used.token;
}

// ---------------------------------------------------------------- exec plugin

std::string execInfoJson(const ExecConfig& config, bool interactive) {
  Json spec = {{"interactive", interactive}};
  if (config.provideClusterInfo) spec["cluster"] = config.cluster;
  Json info = {{"kind", "ExecCredential"}, {"apiVersion", config.apiVersion}, {"spec", spec}};
  return info.dump();
}

Credentials parseExecCredential(const std::string& output, const std::string& expectedApiVersion,
                                std::optional<std::chrono::system_clock::time_point>* expiry) {
  Json j = Json::parse(output, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw otel::Error("exec plugin returned invalid JSON on stdout (expected an ExecCredential)");
  std::string got = j.value("apiVersion", "");
  if (got != expectedApiVersion)
    throw otel::Error("exec plugin is configured to use API version " + expectedApiVersion +
                      ", plugin returned version " + got);
  if (!j.contains("status") || !j["status"].is_object())
    throw otel::Error("exec plugin didn't return a status field");
  const Json& st = j["status"];
  Credentials c;
  c.token = st.value("token", "");
  c.clientCertPem = st.value("clientCertificateData", "");
  c.clientKeyPem = st.value("clientKeyData", "");
  if (c.token.empty() && c.clientCertPem.empty() && c.clientKeyPem.empty())
    throw otel::Error("exec plugin didn't return a token or cert/key pair");
  if (c.clientCertPem.empty() != c.clientKeyPem.empty())
    throw otel::Error("exec plugin returned only certificate or key, not both");
  if (expiry) {
    expiry->reset();
    if (st.contains("expirationTimestamp") && st["expirationTimestamp"].is_string()) {
      auto t = parseRfc3339(st["expirationTimestamp"].get<std::string>());
      if (!t) throw otel::Error("exec plugin returned a malformed expirationTimestamp");
      *expiry = t;
    }
  }
  return c;
}

ExecCredentials::ExecCredentials(ExecConfig config) : config_(std::move(config)) {}

int ExecCredentials::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

Credentials ExecCredentials::get() {
  std::lock_guard lock(mu_);
  if (cached_ && (!expiry_ || std::chrono::system_clock::now() < *expiry_)) return *cached_;
  return runLocked();
}

bool ExecCredentials::refreshAfterUnauthorized(const Credentials& used) {
  std::lock_guard lock(mu_);
  // Someone else already rotated the credentials: retry with those.
  if (cached_ && !(*cached_ == used)) return true;
  cached_.reset();
  runLocked();
  return true;
}

Credentials ExecCredentials::runLocked() {
  const std::string who = "user \"" + config_.userName + "\"";
  bool tty = ::isatty(0) != 0;
  bool interactive = false;
  if (config_.interactiveMode == "Always") {
    if (!tty || config_.stdinUnavailable)
      throw otel::Error("exec plugin cannot support interactive mode: standard input is not a terminal", who);
    interactive = true;
  } else if (config_.interactiveMode == "IfAvailable" || config_.interactiveMode.empty()) {
    interactive = tty && !config_.stdinUnavailable;
  }

  // Build argv and envp before spawning.
  std::vector<std::string> argvS;
  argvS.push_back(config_.command);
  for (auto& a : config_.args) argvS.push_back(a);
  std::vector<std::string> envS;
  auto overridden = [&](const std::string& entry) {
    auto eq = entry.find('=');
    std::string k = entry.substr(0, eq);
    if (k == "KUBERNETES_EXEC_INFO") return true;
    for (auto& [name, value] : config_.env)
      if (name == k) return true;
    return false;
  };
  for (char** e = environ; e && *e; ++e)
    if (!overridden(*e)) envS.emplace_back(*e);
  for (auto& [name, value] : config_.env) envS.push_back(name + "=" + value);
  envS.push_back("KUBERNETES_EXEC_INFO=" + execInfoJson(config_, interactive));
  std::vector<char*> argv, envp;
  for (auto& s : argvS) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : envS) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw otel::Error("exec plugin: cannot create a pipe", who);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (!interactive) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, config_.command.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    std::string msg = rc == ENOENT ? "exec: executable " + config_.command + " not found"
                                   : "exec: cannot run " + config_.command + ": " + std::strerror(rc);
    if (!config_.installHint.empty()) msg += " (" + config_.installHint + ")";
    throw otel::Error(msg, who);
  }
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ++runs_;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    throw otel::Error("exec: executable " + config_.command + " failed with exit code " + std::to_string(code), who);
  }
  std::optional<std::chrono::system_clock::time_point> expiry;
  Credentials c;
  try {
    c = parseExecCredential(output, config_.apiVersion, &expiry);
  } catch (const otel::Error& e) {
    throw otel::Error(e.what(), who);
  }
  otel::log::debug("exec_credential_refreshed", {{"user", config_.userName},
                                                 {"expires", expiry ? formatRfc3339(*expiry) : "never"}});
  cached_ = c;
  expiry_ = expiry;
  return c;
}

}  // namespace otel::kube
