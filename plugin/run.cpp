// `kubectl otel run`: the operator. Reconcilers (lib/controller) behind leader election on a Lease,
// health and metrics endpoints, in the cluster (service account) or from a terminal (kubeconfig).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "lib/api/common.h"
#include "lib/controller/controller.h"
#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/core/version.h"
#include "lib/http/certs.h"
#include "lib/http/metrics.h"
#include "lib/http/server.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/kube/leader_election.h"
#include "lib/manifests/install.h"
#include "lib/manifests/rbac_review.h"
#include "plugin/kube_options.h"
#include "plugin/rbac_check.h"
#include "plugin/verbs.h"
#include "plugin/webhooks.h"

namespace otel::plugin {

namespace {

struct RunFlags {
  std::vector<std::string> watchNamespaces;
  std::string metricsAddr = ":8080";
  std::string healthAddr = ":8081";
  std::string collectorImage = manifests::kDefaultCollectorImage;
  std::string targetAllocatorImage;
  std::string ownImage = "ghcr.io/kubectl-otel/kubectl-otel:" + std::string(otel::version());
  std::string leaderElect = "auto";  // auto: on in the cluster, off from a terminal
  std::string leaderElectionNamespace;
  std::string leaderElectionId = "9f7554c3.opentelemetry.io";
  double leaseDuration = 137, renewDeadline = 107, retryPeriod = 26;  // upstream's (OpenShift library-go) values
  int concurrency = 2;
  std::string createRbac = "auto";
  double qps = 50;
  int burst = 100;
  double resyncHours = 10;
  std::string webhookAddr = ":9443";
  std::string webhookCertDir = "/tmp/k8s-webhook-server/serving-certs";  // controller-runtime's default
  std::string webhooks = "auto";  // auto: served when the certificate is there
  std::string webhookCerts = "auto";  // files | self | auto (files when present, else self in a cluster)
  std::vector<std::string> webhookCertSans;
  double webhookCertValidity = 365.0 * 24 * 3600;  // seconds, self-managed serving certificate
  double webhookCertCheckPeriod = 10;               // seconds between looks at the Secret or the files
  bool nativeSidecars = false;  // inject the collector sidecar as a native sidecar (Kubernetes >= 1.29)
  std::string webhookHost;  // outside the cluster: serve here and register the webhooks by URL
  std::string networkPolicy = "auto";  // the operator's own NetworkPolicy: true|false|auto (auto: in the cluster)
  std::string operatorDeployment = manifests::kControllerName;  // the Deployment this operator runs as
};

bool inCluster() { return std::getenv("KUBERNETES_SERVICE_HOST") != nullptr; }

std::string podNamespace(const kube::RestConfig& rc) {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) return ns;
  return rc.ns.empty() ? "default" : rc.ns;
}

// Upstream's autodetect: the operator may create ClusterRoles/bindings for collectors when its own
// account holds create, delete, get, list, patch and update on both.
bool detectRbac(kube::Client& client) {
  try {
    auto reviewer = clusterAccessReviewer(client);
    auto checks = manifests::accessChecks(manifests::operatorRbacRules());
    auto answers = reviewer(manifests::AccessSubject{"", {}, true}, checks);
    for (bool a : answers)
      if (!a) return false;
    return true;
  } catch (const std::exception& e) {
    log::warn("cannot tell whether the operator may create RBAC; assuming not", {{"error", e.what()}});
    return false;
  }
}

// The port of a listen address (":9443", "127.0.0.1:0", "[::]:8080"); 0 when there is none.
int addrPort(const std::string& addr) {
  const auto colon = addr.rfind(':');
  try {
    return colon == std::string::npos ? 0 : std::stoi(addr.substr(colon + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

// Upstream's operator NetworkPolicy (gate operator.networkpolicy): built from the operator's own Deployment
// and the API server's endpoints at start (reads only), created by the replica that leads.
Json discoverOperatorNetworkPolicy(kube::Client& client, const std::string& ns, const std::string& deployment,
                                   int webhookPort, int metricsPort) {
  const kube::ResourceId slices{"discovery.k8s.io/v1", "endpointslices", true, "EndpointSlice"};
  const kube::ResourceId deployments{"apps/v1", "deployments", true, "Deployment"};
  kube::ListOptions lo;
  lo.labelSelector = "kubernetes.io/service-name=kubernetes";
  Json listed = client.list(slices, "default", lo);
  std::vector<Json> items;
  for (const auto& i : listed.value("items", Json::array())) items.push_back(i);
  manifests::OperatorNetworkPolicyInput in;
  in.apiServer = manifests::apiServerEndpoints(items);
  in.deployment = client.get(deployments, ns, deployment);
  in.webhookPort = webhookPort;
  in.metricsPort = metricsPort;
  return manifests::operatorNetworkPolicy(in);
}

void createOperatorNetworkPolicy(kube::Client& client, const Json& np) {
  const std::string name = api::str(np, {"metadata", "name"}), ns = api::str(np, {"metadata", "namespace"});
  try {
    client.create(kube::ResourceId{"networking.k8s.io/v1", "networkpolicies", true, "NetworkPolicy"}, ns, np);
    log::info("operator network policy created", {{"object", "NetworkPolicy " + ns + "/" + name}});
  } catch (const kube::ApiError& e) {
    if (e.isAlreadyExists())
      log::info("operator network policy already there", {{"object", "NetworkPolicy " + ns + "/" + name}});
    else
      log::error("cannot create the operator network policy", {{"object", "NetworkPolicy " + ns + "/" + name}, {"error", e.what()}});
  }
}

// Ready when the controller's informers and, once the webhooks serve, their catalog (Instrumentations and
// collectors the pod webhook injects from) have synced: a pod admitted before that could miss its injection.
void serveOps(http::Server& s, http::Registry& metrics, const controller::Controller& ctl,
              const std::atomic<const WebhookServer*>& webhooks, bool metricsHere, bool healthHere) {
  if (metricsHere)
    s.get("/metrics", [&metrics](const http::Request&) {
      http::Response r;
      r.contentType = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics.render();
      return r;
    });
  if (healthHere) {
    s.get("/healthz", [](const http::Request&) { return http::Response{200, "text/plain", "ok"}; });
    s.get("/readyz", [&ctl, &webhooks](const http::Request&) {
      const WebhookServer* w = webhooks.load();
      if (!ctl.synced()) return http::Response{500, "text/plain", "[-]informers-synced failed: reason withheld\nreadyz check failed"};
      if (w && !w->synced())
        return http::Response{500, "text/plain", "[+]informers-synced ok\n[-]webhook-catalog-synced failed: reason withheld\nreadyz check failed"};
      return http::Response{200, "text/plain", "ok"};
    });
  }
}

void run(const GlobalOptions& g, const RunFlags& f) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // threads started below inherit the mask

  kube::RestConfig rc = kube::loadRestConfig(kubeLoadOptions(g));
  rc.qps = f.qps;
  rc.burst = f.burst;
  kube::Client client(rc);
  http::Registry metrics;
  client.setResponseObserver([&metrics](const std::string& method, long code) {
    metrics.addCounter("rest_client_requests_total", "Number of HTTP requests, partitioned by status code, method, and host.",
                       {{"code", std::to_string(code)}, {"method", method}});
  });
  controller::ControllerOptions co;
  co.namespaces = f.watchNamespaces;
  co.build.collectorImage = f.collectorImage;
  co.build.ownImage = f.ownImage;
  co.build.targetAllocatorImage = f.targetAllocatorImage;
  co.build.prometheusCRDs = false;  // switched on when the monitoring.coreos.com CRDs are seen
  co.build.createRbac = f.createRbac == "auto" ? detectRbac(client) : f.createRbac == "true";
  co.workers = f.concurrency;
  co.resyncPeriod = std::chrono::milliseconds(static_cast<long long>(f.resyncHours * 3600 * 1000));
  co.metrics = &metrics;
  co.identity = kube::defaultLeaderIdentity();
  bool elect = f.leaderElect == "auto" ? inCluster() : f.leaderElect == "true";
  std::optional<kube::LeaderElector> elector;
  std::optional<Json> networkPolicy;  // set before the elector runs
  controller::Controller* ctlp = nullptr;
  const char* help = "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.";
  if (elect) {
    kube::LeaderElectionConfig lc;
    lc.ns = f.leaderElectionNamespace.empty() ? podNamespace(rc) : f.leaderElectionNamespace;
    lc.name = f.leaderElectionId;
    lc.identity = co.identity;
    auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
    lc.leaseDuration = ms(f.leaseDuration);
    lc.renewDeadline = ms(f.renewDeadline);
    lc.retryPeriod = ms(f.retryPeriod);
    // workers run only while this process holds the Lease; losing it stops them at once
    lc.onStartedLeading = [&](std::stop_token leading) {
      metrics.setGauge("leader_election_master_status", help, {{"name", f.leaderElectionId}}, 1);
      if (networkPolicy) createOperatorNetworkPolicy(client, *networkPolicy);
      ctlp->runWorkers(leading);
    };
    lc.onStoppedLeading = [&] { metrics.setGauge("leader_election_master_status", help, {{"name", f.leaderElectionId}}, 0); };
    elector.emplace(client, lc);
    co.mayWrite = [&elector] { return elector->isLeader(); };
  }
  controller::Controller ctl(client, co);
  ctlp = &ctl;

  bool shared = f.metricsAddr == f.healthAddr;
  http::Server metricsServer;
  std::optional<http::Server> healthServer;
  std::atomic<const WebhookServer*> servingWebhooks{nullptr};
  serveOps(metricsServer, metrics, ctl, servingWebhooks, true, shared);
  int mport = metricsServer.bind(f.metricsAddr);
  metricsServer.start();
  int hport = mport;
  if (!shared) {
    healthServer.emplace();
    serveOps(*healthServer, metrics, ctl, servingWebhooks, false, true);
    hport = healthServer->bind(f.healthAddr);
    healthServer->start();
  }
  log::info("operator starting",
            {{"version", otel::version()},
             {"server", rc.server},
             {"namespaces", f.watchNamespaces.empty() ? std::string("all") : [&] {
                std::string s;
                for (const auto& n : f.watchNamespaces) s += (s.empty() ? "" : ",") + n;
                return s;
              }()},
             {"metrics_port", std::to_string(mport)},
             {"health_port", std::to_string(hport)},
             {"leader_election", elect ? "on" : "off"},
             {"create_rbac", co.build.createRbac ? "true" : "false"}});

  std::stop_source stop;
  std::atomic<bool> lost{false};
  std::jthread signals([&](std::stop_token self) {  // self: stopped when run() leaves, by a throw too
    int sig = 0;
    while (true) {
      timespec t{0, 200 * 1000 * 1000};
      sig = sigtimedwait(&set, nullptr, &t);
      if (sig > 0) break;
      if (stop.stop_requested() || self.stop_requested()) return;
    }
    log::info("shutting down", {{"signal", std::to_string(sig)}});
    stop.request_stop();
  });
  std::optional<WebhookServer> webhooks;
  struct ForgetWebhooks {  // destroyed before `webhooks`: /readyz stops looking at them first
    std::atomic<const WebhookServer*>& p;
    ~ForgetWebhooks() { p = nullptr; }
  } forgetWebhooks{servingWebhooks};
  std::optional<UrlRegistration> registration;
  std::string localCertDir;  // --webhook-host: this run's own CA and certificate, removed on exit
  struct RemoveDir {
    std::string& dir;
    ~RemoveDir() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } removeLocalCertDir{localCertDir};
  std::string localCa;
  int servedWebhookPort = 0;
  RunFlags fl = f;
  if (!f.webhookHost.empty()) {
    if (f.webhooks == "false") throw Error("--webhook-host serves the webhooks; it cannot go with --webhooks=false", "--webhook-host");
    std::string tmpl = (std::filesystem::temp_directory_path() / "kubectl-otel-webhook-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw Error("cannot create a folder for the webhook certificate", tmpl);
    localCertDir = tmpl;
    auto ca = http::generateCa("kubectl-otel-webhook-host-ca", static_cast<long>(f.webhookCertValidity));
    std::vector<std::string> sans = {f.webhookHost};
    sans.insert(sans.end(), f.webhookCertSans.begin(), f.webhookCertSans.end());
    auto leaf = http::generateCert(ca, f.webhookHost, sans, false, {}, static_cast<long>(f.webhookCertValidity));
    for (const auto& [file, pem] : {std::pair{"/tls.crt", leaf.certPem}, std::pair{"/tls.key", leaf.keyPem}}) {
      std::ofstream out(localCertDir + file, std::ios::trunc);
      out << pem;
      if (!out) throw Error("cannot write the webhook certificate", localCertDir + file);
    }
    std::filesystem::permissions(localCertDir + "/tls.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    localCa = ca.certPem;
    fl.webhookCertDir = localCertDir;
    fl.webhookCerts = "files";
    fl.webhooks = "true";
  }
  {
    namespace fs = std::filesystem;
    const std::string cert = fl.webhookCertDir + "/tls.crt", key = fl.webhookCertDir + "/tls.key";
    bool haveCert = fs::exists(cert) && fs::exists(key);
    const bool self = fl.webhooks != "false" &&
                      (fl.webhookCerts == "self" || (fl.webhookCerts == "auto" && !haveCert && inCluster()));
    CertRefresh refresh;
    refresh.mode = self ? "self" : "files";
    refresh.policy.servingValidity = static_cast<long>(f.webhookCertValidity);
    refresh.policy.caValidity = std::max(refresh.policy.caValidity, 3 * refresh.policy.servingValidity);
    // self: a few looks per renewal window, so a short validity (tests) still renews in time
    double period = self ? std::clamp(f.webhookCertValidity / 20, 0.1, f.webhookCertCheckPeriod) : f.webhookCertCheckPeriod;
    refresh.period = std::chrono::milliseconds(static_cast<long long>(period * 1000));
    if (elector) refresh.mayWrite = [&elector] { return elector->isLeader(); };
    if (self) {
      refresh.ns = podNamespace(rc);
      refresh.sans = {std::string(manifests::kWebhookService) + "." + refresh.ns + ".svc",
                      std::string(manifests::kWebhookService) + "." + refresh.ns + ".svc.cluster.local"};
      refresh.sans.insert(refresh.sans.end(), f.webhookCertSans.begin(), f.webhookCertSans.end());
      // at start every replica may write (create races end in a 409 and the winner's Secret is read)
      ensureSelfManagedCert(client, refresh.ns, refresh.sans, fl.webhookCertDir, refresh.policy, true);
      haveCert = true;
    }
    if (fl.webhooks == "true" && !haveCert)
      throw Error("no serving certificate: " + cert + " and " + key + " are needed", "--webhook-cert-dir",
                  "mount cert-manager's Secret there, or pass --webhooks=false");
    if (fl.webhooks != "false" && haveCert) {
      WebhookOptions wo;
      wo.listenAddr = f.webhookAddr;
      wo.certFile = cert;
      wo.keyFile = key;
      wo.inject.collectorImage = f.collectorImage;
      wo.inject.nativeSidecar = f.nativeSidecars;
      wo.operatorCreatesRbac = co.build.createRbac;
      webhooks.emplace(client, metrics, wo);
      int wport = webhooks->start(stop.get_token());
      servedWebhookPort = wport;
      servingWebhooks = &*webhooks;
      webhooks->keepCertificateFresh(refresh, stop.get_token());
      log::info("webhooks serving", {{"port", std::to_string(wport)}, {"cert_dir", fl.webhookCertDir}, {"certs", refresh.mode}});
      if (!f.webhookHost.empty()) {
        const std::string host = f.webhookHost.find(':') != std::string::npos ? "[" + f.webhookHost + "]" : f.webhookHost;
        registration.emplace(client, podNamespace(rc));
        try {
          registration->registerAll("https://" + host + ":" + std::to_string(wport), localCa);
        } catch (...) {
          registration->restore();  // what was registered before the failure
          throw;
        }
      }
    } else if (fl.webhooks == "auto") {
      log::warn("admission and conversion webhooks not served: no certificate", {{"cert_dir", fl.webhookCertDir}});
    }
  }
  if (f.networkPolicy == "true" || (f.networkPolicy == "auto" && inCluster())) {
    try {
      networkPolicy = discoverOperatorNetworkPolicy(client, podNamespace(rc), f.operatorDeployment,
                                                    servedWebhookPort ? servedWebhookPort : addrPort(f.webhookAddr), mport);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      const auto* oe = dynamic_cast<const Error*>(&e);
      if (f.networkPolicy == "true")
        throw Error("cannot make the operator's NetworkPolicy: " + (oe ? oe->oneLine() : what), "--operator-network-policy",
                    "pass --operator-deployment (the Deployment this operator runs as) or --operator-network-policy=false");
      log::warn("operator network policy not created", {{"error", oe ? oe->oneLine() : what}});
    }
  }
  ctl.startInformers(stop.get_token());
  if (!ctl.waitForSync(std::chrono::minutes(5), stop.get_token()) && !stop.stop_requested())
    log::warn("informers not synced after 5 minutes; starting anyway");
  log::info("caches synced");
  if (elector) {
    metrics.setGauge("leader_election_master_status", help, {{"name", f.leaderElectionId}}, 0);
    elector->run(stop.get_token());
    if (!stop.stop_requested()) lost = true;
    stop.request_stop();
  } else {
    if (networkPolicy) createOperatorNetworkPolicy(client, *networkPolicy);
    ctl.runWorkers(stop.get_token());
  }
  if (registration) registration->restore();  // while the server still answers
  ctl.shutDown();
  metricsServer.stop();
  if (healthServer) healthServer->stop();
  servingWebhooks = nullptr;
  if (webhooks) webhooks->stop();
  signals.request_stop();
  if (lost) {
    log::error("leader election lost; exiting");
    throw ExitCode{kExitError};
  }
  log::info("operator stopped");
}

}  // namespace

void addRunVerb(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Run the operator: reconcile collectors and target allocators (in the cluster or from a terminal)");
  cmd->add_option("--watch-namespace", f->watchNamespaces, "Namespaces to watch (repeat or comma-separate; default all)")
      ->delimiter(',');
  cmd->add_option("--metrics-addr", f->metricsAddr, "Metrics listen address")->capture_default_str();
  cmd->add_option("--health-addr", f->healthAddr, "Health probe listen address (/healthz, /readyz)")->capture_default_str();
  cmd->add_option("--collector-image", f->collectorImage, "Default collector image")->capture_default_str();
  cmd->add_option("--target-allocator-image", f->targetAllocatorImage,
                  "Default target allocator image (default: this binary's image running `kubectl-otel target-allocator`)");
  cmd->add_option("--operator-image", f->ownImage, "This binary's image (runs the target allocator)")->capture_default_str();
  cmd->add_option("--leader-elect", f->leaderElect, "Leader election on a Lease: true|false|auto (auto: on in a cluster)")
      ->check(CLI::IsMember({"true", "false", "auto"}))
      ->capture_default_str();
  cmd->add_option("--leader-election-namespace", f->leaderElectionNamespace, "Namespace of the Lease (default: the pod's, else the kubeconfig's)");
  cmd->add_option("--leader-election-id", f->leaderElectionId, "Name of the Lease")->capture_default_str();
  cmd->add_option("--leader-elect-lease-duration", f->leaseDuration, "Seconds")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--leader-elect-renew-deadline", f->renewDeadline, "Seconds")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--leader-elect-retry-period", f->retryPeriod, "Seconds")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--operator-network-policy", f->networkPolicy,
                  "Create the operator's own NetworkPolicy (webhook and metrics in, API server out): true|false|auto (auto: in the cluster)")
      ->capture_default_str()
      ->check(CLI::IsMember({"true", "false", "auto"}));
  cmd->add_option("--operator-deployment", f->operatorDeployment,
                  "The Deployment this operator runs as, in its namespace (owns the NetworkPolicy)")
      ->capture_default_str();
  cmd->add_option("--concurrency", f->concurrency, "Reconcile workers")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--create-rbac", f->createRbac, "Create collectors' ClusterRoles: true|false|auto (auto: if allowed)")
      ->check(CLI::IsMember({"true", "false", "auto"}))
      ->capture_default_str();
  cmd->add_option("--kube-api-qps", f->qps, "Client-side requests per second")->capture_default_str();
  cmd->add_option("--kube-api-burst", f->burst, "Client-side burst")->capture_default_str();
  cmd->add_option("--sync-period-hours", f->resyncHours, "Informer resync period (hours)")->capture_default_str();
  cmd->add_option("--webhook-addr", f->webhookAddr, "Admission and conversion webhooks listen address (HTTPS)")->capture_default_str();
  cmd->add_option("--webhook-cert-dir", f->webhookCertDir, "Folder with the webhooks' serving certificate (tls.crt, tls.key)")
      ->capture_default_str();
  cmd->add_option("--webhooks", f->webhooks, "Serve the webhooks: true|false|auto (auto: when the certificate is there)")
      ->check(CLI::IsMember({"true", "false", "auto"}))
      ->capture_default_str();
  cmd->add_option("--webhook-certs", f->webhookCerts,
                  "Serving certificate: files (from --webhook-cert-dir, e.g. cert-manager's), self (a CA and certificate in "
                  "the Secret kubectl-otel-webhook-cert, CA bundle written into the webhook configurations and CRD), auto "
                  "(files when present, else self in a cluster)")
      ->check(CLI::IsMember({"files", "self", "auto"}))
      ->capture_default_str();
  cmd->add_option("--webhook-cert-san", f->webhookCertSans, "Extra names (DNS or IP) of the self-managed certificate")->delimiter(',');
  cmd->add_flag("--native-sidecars", f->nativeSidecars,
                "The pod webhook injects the collector as a native sidecar (an init container with restartPolicy: Always; "
                "Kubernetes >= 1.29), as upstream's operator.sidecarcontainers.native feature gate");
  cmd->add_option("--webhook-host", f->webhookHost,
                  "Outside the cluster: serve the webhooks for HOST (a name or IP the API server reaches), register the "
                  "webhook configurations and the collector CRD's conversion by URL https://HOST:PORT with this run's own "
                  "CA, and restore them on exit");
  cmd->add_option("--webhook-cert-validity", f->webhookCertValidity,
                  "Seconds the self-managed serving certificate is valid; renewed with a third left, without a restart")
      ->check(CLI::Range(3.0, 20.0 * 365 * 24 * 3600))
      ->capture_default_str();
  cmd->add_option("--webhook-cert-check-period", f->webhookCertCheckPeriod,
                  "Seconds between looks at the certificate files (reloaded when they change) or the Secret")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->callback([&global, f] { run(global, *f); });
}

}  // namespace otel::plugin
