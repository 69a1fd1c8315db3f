// `kubectl otel target-allocator`: the Prometheus target allocator server (upstream flags and
// targetallocator.yaml). Collectors are discovered from the collector pods through the API server
// (in-cluster config, kube_config_file_path / --kubeconfig-path, or kubeconfig), or fixed with --collectors.
#include <cerrno>
#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/http/server.h"
#include "lib/targetallocator/config.h"
#include "lib/targetallocator/service.h"
#include "lib/core/heap.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/prom/scrape_config.h"
#include "lib/targetallocator/collector_watch.h"
#include "lib/targetallocator/kube_sd.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct TaFlags {
  std::string configFile = "/conf/targetallocator.yaml";
  std::string listenAddr, httpsListenAddr, caFile, certFile, keyFile, collectors, kubeconfigPath;
  std::string collectorUpdateInterval = "5s";
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
  if (given("--kubeconfig-path")) o.kubeconfigPath = f.kubeconfigPath;
  auto config = targetallocator::loadConfig(f.configFile, o);
  const auto updateInterval = std::chrono::milliseconds(prom::parseDuration(f.collectorUpdateInterval));
  const auto grace = std::chrono::milliseconds(
      prom::parseDuration(config.collectorNotReadyGracePeriod.empty() ? "0s" : config.collectorNotReadyGracePeriod));
  if (!f.check) tuneHeapForReloads();  // the server reloads targets every --reload-interval: keep the heap
  targetallocator::Service service(config);
  if (f.check) {
    std::cout << "config ok: " << config.prom.scrapeConfigs.size() << " jobs, " << service.targetCount() << " targets, ";
    if (config.discoverCollectors)
      std::cout << "collectors: pods in namespace " << config.collectorNamespace << " matching "
                << (config.collectorLabelSelector.empty() ? "(every pod)" : config.collectorLabelSelector);
    else
      std::cout << config.collectors.size() << " collectors";
    std::size_t sd = 0;
    for (const auto& sc : config.prom.scrapeConfigs) sd += sc.kubernetesSdConfigs.size();
    if (sd > 0) std::cout << ", " << sd << " kubernetes_sd_configs (discovered when serving)";
    std::cout << ", strategy " << allocation::strategyName(config.strategy) << "\n";
    return;
  }
  // Signals are taken synchronously by this thread; the server threads inherit the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // The API server connection is set up before serving, so a missing or broken configuration is one
  // error line and exit 1; the watch itself retries (an outage keeps the last collectors).
  std::unique_ptr<kube::Client> client;
  std::map<std::string, std::unique_ptr<kube::Client>> sdClients;  // kubernetes_sd_configs' kubeconfig_file
  std::unique_ptr<targetallocator::CollectorWatcher> watcher;
  std::unique_ptr<targetallocator::KubeSd> kubeSd;
  bool kubernetesSd = false;
  for (const auto& sc : config.prom.scrapeConfigs) kubernetesSd = kubernetesSd || !sc.kubernetesSdConfigs.empty();
  if (config.discoverCollectors || kubernetesSd) {
    kube::LoadOptions lo;
    lo.kubeconfig = config.kubeconfigPath;
    client = std::make_unique<kube::Client>(kube::loadRestConfig(lo));
  }
  if (kubernetesSd) {
    auto clientFor = [&](const std::string& file) -> kube::Client& {
      if (file.empty()) return *client;
      auto& c = sdClients[file];
      if (!c) {
        kube::LoadOptions lo;
        lo.kubeconfig = std::filesystem::path(file).is_absolute() ? file : config.baseDir + "/" + file;
        c = std::make_unique<kube::Client>(kube::loadRestConfig(lo));
      }
      return *c;
    };
    kubeSd = std::make_unique<targetallocator::KubeSd>(config.prom, clientFor, client->config().ns);
  }
  if (config.discoverCollectors) {
    targetallocator::CollectorWatchOptions wo;
    wo.ns = config.collectorNamespace;
    wo.labelSelector = config.collectorLabelSelector;
    wo.grace = grace;
    wo.minInterval = updateInterval;
    watcher = std::make_unique<targetallocator::CollectorWatcher>(
        *client, wo, [&service](std::vector<allocation::Collector> cs) { service.setCollectors(std::move(cs)); });
  }
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
  std::jthread discovery, sdInformers, sdApply;
  if (watcher) discovery = std::jthread([&watcher](std::stop_token st) { watcher->run(st); });
  if (kubeSd) {
    sdInformers = std::jthread([&kubeSd](std::stop_token st) { kubeSd->run(st); });
    // Applies the discovered targets once every informer has synced, then whenever an event arrived, at
    // most once per reload interval (Prometheus's discovery manager sends updates every 5 s).
    sdApply = std::jthread([&kubeSd, &service, interval = f.reloadSeconds](std::stop_token st) {
      std::mutex m;
      std::condition_variable_any cv;
      auto pause = [&](std::chrono::milliseconds d) {
        std::unique_lock lock(m);
        cv.wait_for(lock, st, d, [] { return false; });
      };
      while (!st.stop_requested() && !kubeSd->synced()) pause(std::chrono::milliseconds(100));
      std::uint64_t seen = ~0ull;
      while (!st.stop_requested()) {
        if (auto now = kubeSd->events(); now != seen) {
          seen = now;
          std::size_t n = 0;  // objects whose targets were rebuilt (only those an event touched)
          service.applyKubernetes([&](const targetallocator::Service::KubernetesSink& sink) {
            kubeSd->changes([&](prom::KubernetesObjectUpdate&& u) {
              ++n;
              sink(std::move(u));
            });
          });
          log::info("kubernetes discovery applied", {{"objects", std::to_string(n)}, {"events", std::to_string(now)}, {"served", std::to_string(service.targetCount())}});
        }
        pause(std::chrono::seconds(interval));
      }
    });
  }
  log::info("target allocator listening",
            {{"port", std::to_string(port)},
             {"strategy", std::string(allocation::strategyName(config.strategy))},
             {"jobs", std::to_string(config.prom.scrapeConfigs.size())},
             {"targets", std::to_string(service.targetCount())},
             {"collectors", config.discoverCollectors ? "discovered" : std::to_string(config.collectors.size())}});
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
  for (auto* t : {&sdApply, &discovery, &sdInformers})
    if (t->joinable()) {
      t->request_stop();
      t->join();
    }
  server.stop();
  if (https) https->stop();
}

}  // namespace

void addTargetAllocatorVerb(CLI::App& app, GlobalOptions&) {
  auto f = std::make_shared<TaFlags>();
  auto* cmd = app.add_subcommand("target-allocator", "Run the Prometheus target allocator (upstream-compatible API)");
  cmd->add_option("--config-file", f->configFile, "targetallocator.yaml")->capture_default_str();
  cmd->add_option("--listen-addr", f->listenAddr, "HTTP listen address (default :8080)");
  cmd->add_option("--collectors", f->collectors,
                  "Fixed collectors instead of discovering the collector pods: count N or names a,b,c");
  cmd->add_option("--kubeconfig-path", f->kubeconfigPath,
                  "Kubeconfig for collector discovery (default: in-cluster, then KUBECONFIG or ~/.kube/config)");
  cmd->add_option("--collector-update-interval", f->collectorUpdateInterval,
                  "Apply collector pod changes at most this often (upstream: 5s)")
      ->capture_default_str();
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
