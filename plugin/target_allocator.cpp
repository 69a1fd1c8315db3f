// `kubectl otel target-allocator`: the Prometheus target allocator server (upstream flags and
// targetallocator.yaml). Standalone until Kubernetes discovery lands: collectors from --collectors.
#include <cerrno>
#include <signal.h>

#include <iostream>
#include <optional>

#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/http/server.h"
#include "lib/targetallocator/config.h"
#include "lib/targetallocator/service.h"
#include "lib/core/heap.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct TaFlags {
  std::string configFile = "/conf/targetallocator.yaml";
  std::string listenAddr, httpsListenAddr, caFile, certFile, keyFile, collectors;
  bool enableHttps = false, allowInsecure = false, promCr = false, check = false;
  int reloadSeconds = 5;
};

void run(CLI::App* cmd, const TaFlags& f) {
  targetallocator::Overrides o;
  auto given = [cmd](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--listen-addr")) o.listenAddr = f.listenAddr;
  if (given("--enable-https-server")) o.enableHttps = f.enableHttps;
  if (given("--listen-addr-https")) o.httpsListenAddr = f.httpsListenAddr;
  if (given("--https-ca-file")) o.caFile = f.caFile;
  if (given("--https-tls-cert-file")) o.certFile = f.certFile;
  if (given("--https-tls-key-file")) o.keyFile = f.keyFile;
  if (given("--allow-insecure-auth-secrets")) o.allowInsecureAuthSecrets = f.allowInsecure;
  if (given("--enable-prometheus-cr-watcher")) o.prometheusCrEnabled = f.promCr;
  if (given("--collectors")) o.collectors = f.collectors;
  auto config = targetallocator::loadConfig(f.configFile, o);
  if (!f.check) tuneHeapForReloads();  // the server reloads targets every --reload-interval: keep the heap
  targetallocator::Service service(config);
  if (f.check) {
    std::cout << "config ok: " << config.prom.scrapeConfigs.size() << " jobs, " << service.targetCount()
              << " targets, " << config.collectors.size() << " collectors, strategy "
              << allocation::strategyName(config.strategy) << "\n";
    return;
  }
  // Signals are taken synchronously by this thread; the server threads inherit the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  http::Server server;
  targetallocator::registerRoutes(server, service);
  int port = server.bind(config.listenAddr);
  std::optional<http::Server> https;
  if (config.https.enabled) {
    https.emplace(http::TlsOptions{config.https.certFile, config.https.keyFile, config.https.caFile});
    targetallocator::registerRoutes(*https, service);
    int hp = https->bind(config.https.listenAddr);
    https->start();
    log::info("https server listening", {{"port", std::to_string(hp)}, {"mtls", config.https.caFile.empty() ? "no" : "yes"}});
  }
  server.start();
  log::info("target allocator listening",
            {{"port", std::to_string(port)},
             {"strategy", std::string(allocation::strategyName(config.strategy))},
             {"jobs", std::to_string(config.prom.scrapeConfigs.size())},
             {"targets", std::to_string(service.targetCount())},
             {"collectors", std::to_string(config.collectors.size())}});
  // Every reload interval the file SD files are read again and the targets re-allocated (diffed: only
  // what changed moves), as upstream's discovery reload does; a failed reload keeps the previous targets.
  int sig = 0;
  while (true) {
    timespec interval{f.reloadSeconds, 0};
    sig = sigtimedwait(&set, nullptr, &interval);
    if (sig > 0) break;
    if (errno != EAGAIN) continue;  // EINTR
    try {
      service.reloadTargets();
    } catch (const std::exception& e) {
      log::warn("target reload failed; keeping the previous targets", {{"error", e.what()}});
    }
  }
  log::info("shutting down", {{"signal", std::to_string(sig)}});
  server.stop();
  if (https) https->stop();
}

}  // namespace

void addTargetAllocatorVerb(CLI::App& app, GlobalOptions&) {
  auto f = std::make_shared<TaFlags>();
  auto* cmd = app.add_subcommand("target-allocator", "Run the Prometheus target allocator (upstream-compatible API)");
  cmd->add_option("--config-file", f->configFile, "targetallocator.yaml")->capture_default_str();
  cmd->add_option("--listen-addr", f->listenAddr, "HTTP listen address (default :8080)");
  cmd->add_option("--collectors", f->collectors, "Collectors: count N or names a,b,c (until Kubernetes discovery)");
  cmd->add_flag("--enable-https-server", f->enableHttps, "Also serve HTTPS with client-certificate verification");
  cmd->add_option("--listen-addr-https", f->httpsListenAddr, "HTTPS listen address (default :8443)");
  cmd->add_option("--https-ca-file", f->caFile, "CA for client certificates (mTLS)");
  cmd->add_option("--https-tls-cert-file", f->certFile, "Server certificate");
  cmd->add_option("--https-tls-key-file", f->keyFile, "Server key");
  cmd->add_flag("--allow-insecure-auth-secrets", f->allowInsecure, "Serve secrets in /scrape_configs over plain HTTP");
  cmd->add_flag("--enable-prometheus-cr-watcher", f->promCr, "Watch Prometheus CRs (not available yet)");
  cmd->add_flag("--check", f->check, "Load and allocate, print a summary, exit (no server)");
  cmd->add_option("--reload-interval", f->reloadSeconds, "Seconds between re-reading file SD files and re-allocating")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->callback([cmd, f] { run(cmd, *f); });
}

}  // namespace otel::plugin
