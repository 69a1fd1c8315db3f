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
#include "lib/kube/leader_election.h"
#include "lib/prom/scrape_config.h"
#include "lib/targetallocator/collector_watch.h"
#include "lib/targetallocator/kube_sd.h"
#include "lib/targetallocator/prometheus_cr_watch.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct TaFlags {
  std::string configFile = "/conf/targetallocator.yaml";
  std::string listenAddr, httpsListenAddr, caFile, certFile, keyFile, collectors, kubeconfigPath;
  std::string collectorUpdateInterval = "5s";
  bool enableHttps = false, allowInsecure = false, promCr = false, check = false;
  int reloadSeconds = 5;
  std::string leaderElect = "auto";  // auto: on with least-weighted and discovered collectors
  std::string leaderElectionId;      // default: <collector name>-targetallocator from the collector selector
  double leaseDuration = 15;
};

// The Lease of this allocator: <name>-targetallocator when the collector selector names the collector
// (app.kubernetes.io/instance: <ns>.<name>, as the operator writes it), else a fixed name.
std::string defaultLeaseName(const Json& selector) {
  for (const char* k : {"matchLabels", "matchlabels"})
    if (selector.is_object() && selector.contains(k) && selector[k].is_object()) {
      const Json& ml = selector[k];
      if (auto it = ml.find("app.kubernetes.io/instance"); it != ml.end() && it->is_string()) {
        std::string v = it->get<std::string>();
        auto dot = v.find('.');
        return (dot == std::string::npos ? v : v.substr(dot + 1)) + "-targetallocator";
      }
    }
  return "kubectl-otel-target-allocator";
}

// May this process write Leases in `ns`? (A SelfSubjectAccessReview; an error counts as no.)
bool mayHoldLease(kube::Client& client, const std::string& ns) {
  try {
    Json review = {{"apiVersion", "authorization.k8s.io/v1"},
                   {"kind", "SelfSubjectAccessReview"},
                   {"spec", {{"resourceAttributes", {{"namespace", ns}, {"verb", "update"}, {"group", "coordination.k8s.io"}, {"resource", "leases"}}}}}};
    Json answer = client.create({"authorization.k8s.io/v1", "selfsubjectaccessreviews", false, "SelfSubjectAccessReview"}, "", review);
    return answer.contains("status") && answer["status"].value("allowed", false);
  } catch (const std::exception&) {
    return false;
  }
}

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
    if (config.prometheusCrEnabled) std::cout << ", Prometheus CRs (ServiceMonitors, PodMonitors) watched when serving";
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
  std::unique_ptr<targetallocator::PromCrWatch> promCr;
  bool kubernetesSd = false;
  for (const auto& sc : config.prom.scrapeConfigs) kubernetesSd = kubernetesSd || !sc.kubernetesSdConfigs.empty();
  // least-weighted depends on its history: with several replicas only the Lease holder may answer, the
  // others report not ready (consistent-hashing, per-node and rendezvous are functions of the state).
  const bool elect = f.leaderElect == "auto"
                         ? config.strategy == allocation::Strategy::LeastWeighted && config.discoverCollectors
                         : f.leaderElect == "true";
  if (config.discoverCollectors || kubernetesSd || config.prometheusCrEnabled || elect) {
    kube::LoadOptions lo;
    lo.kubeconfig = config.kubeconfigPath;
    client = std::make_unique<kube::Client>(kube::loadRestConfig(lo));
  }
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
  for (const auto& sc : config.prom.scrapeConfigs)  // a broken kubeconfig_file is one error line before serving
    for (const auto& c : sc.kubernetesSdConfigs) clientFor(c.kubeconfigFile);
  if (config.prometheusCrEnabled)
    promCr = std::make_unique<targetallocator::PromCrWatch>(
        *client, config.prometheusCr, config.collectorNamespace.empty() ? client->config().ns : config.collectorNamespace,
        std::chrono::seconds(f.reloadSeconds));  // the CRDs' discovery polled as often as targets are reloaded
  if (config.discoverCollectors) {
    targetallocator::CollectorWatchOptions wo;
    wo.ns = config.collectorNamespace;
    wo.labelSelector = config.collectorLabelSelector;
    wo.grace = grace;
    wo.minInterval = updateInterval;
    watcher = std::make_unique<targetallocator::CollectorWatcher>(
        *client, wo, [&service](std::vector<allocation::Collector> cs) { service.setCollectors(std::move(cs)); });
  }
  std::optional<kube::LeaderElector> elector;
  if (elect) {
    kube::LeaderElectionConfig lc;
    lc.ns = config.collectorNamespace.empty() ? client->config().ns : config.collectorNamespace;
    lc.name = f.leaderElectionId.empty() ? defaultLeaseName(config.collectorSelector) : f.leaderElectionId;
    lc.identity = kube::defaultLeaderIdentity();
    auto ms = [](double sec) { return std::chrono::milliseconds(static_cast<long long>(sec * 1000)); };
    lc.leaseDuration = ms(f.leaseDuration);
    lc.renewDeadline = ms(f.leaseDuration * 2 / 3);  // client-go's 15 s / 10 s / 2 s proportions
    lc.retryPeriod = ms(f.leaseDuration * 2 / 15);
    if (!mayHoldLease(*client, lc.ns)) {
      log::warn("cannot hold the allocator's Lease: serving without it (run one replica, or grant update on leases)",
                {{"namespace", lc.ns}, {"lease", lc.name}});
    } else {
      service.setServing(false);
      lc.onStartedLeading = [&service, name = lc.name](std::stop_token) {
        service.setServing(true);
        log::info("holding the allocator's Lease: serving", {{"lease", name}});
      };
      lc.onStoppedLeading = [&service, name = lc.name] {
        service.setServing(false);
        log::info("lost the allocator's Lease: not ready", {{"lease", name}});
      };
      lc.onNewLeader = [name = lc.name, self = lc.identity](const std::string& holder) {
        if (holder != self) log::info("the allocator's Lease is held by another replica: not ready", {{"lease", name}, {"holder", holder}});
      };
      elector.emplace(*client, lc);
    }
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
  std::jthread discovery, promCrInformers, sdApply, election;
  if (elector)  // campaigns again after losing the Lease
    election = std::jthread([&elector](std::stop_token st) {
      while (!st.stop_requested()) elector->run(st);
    });
  if (watcher) discovery = std::jthread([&watcher](std::stop_token st) { watcher->run(st); });
  if (promCr) promCrInformers = std::jthread([&promCr](std::stop_token st) { promCr->run(st); });
  if (kubernetesSd || promCr) {
    // Discovery: the scrape configs (the file's, plus those generated from the selected Prometheus CRs)
    // get their Kubernetes SD informers; targets are applied once these have synced, then whenever an
    // event arrived, at most once per reload interval (Prometheus's discovery manager sends updates every
    // 5 s). A change of the generated scrape configs starts the informers of the new set and swaps it in
    // once they have synced; until then the previous set keeps serving.
    sdApply = std::jthread([&, interval = f.reloadSeconds](std::stop_token st) {
      std::mutex m;
      std::condition_variable_any cv;
      auto pause = [&](std::chrono::milliseconds d) {
        std::unique_lock lock(m);
        cv.wait_for(lock, st, d, [] { return false; });
      };
      struct Running {  // members destroyed in reverse: the informer thread stops before its KubeSd goes
        std::unique_ptr<targetallocator::KubeSd> sd;
        std::jthread thread;
      } cur;
      std::vector<std::string> staticJobs;
      for (const auto& sc : config.prom.scrapeConfigs) staticJobs.push_back(sc.jobName);
      std::string generatedSig, skippedSig;
      bool first = true;
      std::uint64_t crSeen = ~0ull, sdSeen = ~0ull;
      while (!st.stop_requested()) {
        try {
        std::optional<prom::PromConfig> next;
        std::size_t skipped = 0;
        if (promCr) {
          if (!promCr->synced()) {
            pause(std::chrono::milliseconds(100));
            continue;
          }
          if (auto now = promCr->events(); now != crSeen) {
            crSeen = now;
            auto gen = promCr->scrapeConfigs(staticJobs);
            skipped = gen.skipped.size();
            std::string sig, ssig;
            for (const auto& sc : gen.scrapeConfigs) sig += sc.raw.dump() + "\n";
            for (const auto& sk : gen.skipped) ssig += sk.kind + sk.ns + "/" + sk.name + sk.reason + "\n";
            if (ssig != skippedSig) {  // each skipped monitor said once per change, and counted in a gauge
              skippedSig = ssig;
              service.registry().resetGauge("opentelemetry_allocator_prometheus_cr_skipped");
              for (const auto& sk : gen.skipped) {
                log::warn("prometheus CR skipped", {{"kind", sk.kind}, {"namespace", sk.ns}, {"name", sk.name}, {"reason", sk.reason}});
                service.registry().setGauge("opentelemetry_allocator_prometheus_cr_skipped",
                                            "Prometheus CRs selected but not turned into scrape configs (see the log for why).",
                                            {{"kind", sk.kind}, {"namespace", sk.ns}, {"name", sk.name}}, 1);
              }
            }
            if (first || sig != generatedSig) {
              generatedSig = sig;
              next = config.prom;
              for (auto& sc : gen.scrapeConfigs) next->scrapeConfigs.push_back(std::move(sc));
            }
          }
        } else if (first) {
          next = config.prom;
        }
        if (next) {
          Running fresh;
          bool sd = false;
          for (const auto& sc : next->scrapeConfigs) sd = sd || !sc.kubernetesSdConfigs.empty();
          if (sd) {
            fresh.sd = std::make_unique<targetallocator::KubeSd>(*next, clientFor, client->config().ns);
            fresh.thread = std::jthread([s = fresh.sd.get()](std::stop_token t) { s->run(t); });
            while (!st.stop_requested() && !fresh.sd->synced()) pause(std::chrono::milliseconds(100));
            if (st.stop_requested()) break;
          }
          std::size_t jobs = next->scrapeConfigs.size();
          sdSeen = fresh.sd ? fresh.sd->events() : 0;
          // The fresh set's first changes(): every object it discovered (job indices of the new set).
          std::function<void(const targetallocator::Service::KubernetesSink&)> all =
              [&fresh](const targetallocator::Service::KubernetesSink& sink) {
                if (fresh.sd) fresh.sd->changes(sink);
              };
          service.setScrapeConfigs(std::move(*next), &all);
          cur.thread = std::jthread();  // the previous set's informers stop (joined) before it is destroyed
          cur.sd = std::move(fresh.sd);
          cur.thread = std::move(fresh.thread);
          if (promCr)
            log::info("prometheus CRs applied", {{"jobs", std::to_string(jobs)}, {"generated", std::to_string(jobs - staticJobs.size())},
                                                 {"skipped", std::to_string(skipped)}, {"served", std::to_string(service.targetCount())}});
          else
            log::info("kubernetes discovery applied", {{"events", std::to_string(sdSeen)}, {"served", std::to_string(service.targetCount())}});
          first = false;
        } else if (cur.sd) {
          if (auto now = cur.sd->events(); now != sdSeen) {
            sdSeen = now;
            std::size_t n = 0;  // objects whose targets were rebuilt (only those an event touched)
            service.applyKubernetes([&](const targetallocator::Service::KubernetesSink& sink) {
              cur.sd->changes([&](prom::KubernetesObjectUpdate&& u) {
                ++n;
                sink(std::move(u));
              });
            });
            log::info("kubernetes discovery applied", {{"objects", std::to_string(n)}, {"events", std::to_string(now)}, {"served", std::to_string(service.targetCount())}});
          }
        }
        } catch (const std::exception& e) {
          log::warn("discovery update failed; keeping the previous targets", {{"error", e.what()}});
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
  for (auto* t : {&election, &sdApply, &discovery, &promCrInformers})
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
  cmd->add_option("--leader-elect", f->leaderElect,
                  "Hold a Lease and serve only while holding it: auto (with least-weighted and discovered collectors), true, false")
      ->check(CLI::IsMember({"auto", "true", "false"}))
      ->capture_default_str();
  cmd->add_option("--leader-election-id", f->leaderElectionId,
                  "The Lease's name (default: <collector>-targetallocator from collector_selector)");
  cmd->add_option("--leader-election-lease-duration", f->leaseDuration, "Lease duration in seconds (renew deadline 2/3 of it)")
      ->capture_default_str();
  cmd->add_flag("--enable-https-server", f->enableHttps, "Also serve HTTPS with client-certificate verification");
  cmd->add_option("--listen-addr-https", f->httpsListenAddr, "HTTPS listen address (default :8443)");
  cmd->add_option("--https-ca-file", f->caFile, "CA for client certificates (mTLS)");
  cmd->add_option("--https-tls-cert-file", f->certFile, "Server certificate");
  cmd->add_option("--https-tls-key-file", f->keyFile, "Server key");
  cmd->add_flag("--allow-insecure-auth-secrets", f->allowInsecure, "Serve secrets in /scrape_configs over plain HTTP");
  cmd->add_flag("--enable-prometheus-cr-watcher", f->promCr, "Watch Prometheus CRs (ServiceMonitor, PodMonitor) and generate scrape configs from them");
  cmd->add_flag("--check", f->check, "Load and allocate, print a summary, exit (no server)");
  cmd->add_option("--reload-interval", f->reloadSeconds, "Seconds between re-reading file SD files and re-allocating")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->callback([cmd, f] { run(cmd, *f); });
}

}  // namespace otel::plugin
