// `kubectl otel create -f FILE|DIR|- [--render|--dry-run=client]` and `kubectl otel create collector NAME ...`:
// flags -> lib/manifests (presets, render: validation first) -> YAML/JSON on stdout, or server-side apply
// through lib/kube and `--wait` for the collector's Ready condition.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "lib/api/collector.h"
#include "lib/api/instrumentation.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/version.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/manifests/presets.h"
#include "lib/manifests/render.h"
#include "plugin/kube_options.h"
#include "plugin/output.h"
#include "plugin/rbac_check.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct CreateOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool render = false;
  std::string dryRun;
  std::string taImage;
  std::string collectorImage;
  bool certManager = false;
  std::string fipsDisabled;
  // create collector
  std::string name, mode, image, configFile, preset, strategy, exporterEndpoint;
  long long replicas = -1;
  bool targetAllocator = false, prometheusCR = false;
  bool wait = false;
  int timeoutSeconds = 300;
  // create instrumentation
  std::string instName, endpoint, propagators, sampler;
  std::map<std::string, std::string> images;
};

// Objects `create` applies: the opentelemetry.io kinds (collectors, target allocators, instrumentations,
// OpAMP bridges). Anything else in the input is left to kubectl apply.
bool isOurs(const Json& obj) {
  std::string av = obj.is_object() ? obj.value("apiVersion", "") : "";
  return av.rfind("opentelemetry.io/", 0) == 0;
}

std::unique_ptr<kube::Client> connect(const GlobalOptions& g, bool stdinUsed) {
  return std::make_unique<kube::Client>(cliRestConfig(g, stdinUsed));
}

void printWarnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "Warning: " << w << "\n";
}

// The collector and TargetAllocator webhooks' RBAC checks (lib/manifests/rbac_review) for the objects about
// to be applied (with where they come from), asked of the cluster. Every object's warnings are printed,
// then the first refusal throws (before anything is written).
void checkRbac(kube::Client& client, const std::vector<std::pair<Json, std::string>>& objects) {
  manifests::RbacNeeds needs;
  for (const auto& o : objects) needs |= manifests::rbacNeeds(o.first);
  if (!needs.any()) return;
  auto reviewer = clusterAccessReviewer(client);
  std::vector<std::string> warnings;
  auto opts = clusterRbacReviewOptions(client, reviewer, needs, warnings);
  printWarnings(warnings);
  std::optional<Error> refusal;  // the first one
  for (const auto& [obj, where] : objects) {
    Json o = obj;
    if (api::str(o, {"metadata", "namespace"}).empty()) o["metadata"]["namespace"] = client.config().ns;
    auto d = manifests::reviewRbac(o, opts, reviewer);
    std::string objWhere = where + ": " + api::str(o, {"kind"}) + " " + api::str(o, {"metadata", "namespace"}) + "/" +
                           api::str(o, {"metadata", "name"});
    for (auto& w : d.warnings) w = objWhere + ": " + w;
    printWarnings(d.warnings);
    if (!d.ok() && !refusal) refusal = Error(d.errors.front(), objWhere + ": spec.config",
                                             "ask for these permissions, or have someone who holds them create the collector");
  }
  if (refusal) throw *refusal;  // after every object's warnings
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Server-side apply of every object (validated before), kubectl-style progress lines.
void applyAll(kube::Client& client, const std::vector<Json>& objs) {
  kube::PatchOptions po;
  po.fieldManager = "kubectl-otel";
  po.force = true;
  for (const auto& o : objs) {
    Json live = client.apply(o, po);
    std::string av = o.value("apiVersion", "");
    std::string group = av.find('/') == std::string::npos ? "" : "." + av.substr(0, av.find('/'));
    std::cout << lower(o.value("kind", "")) << group << "/" << live["metadata"].value("name", "") << " serverside-applied\n";
  }
}

// Polls the collector until the controller reports Ready (or a reconcile error, or the timeout).
void waitReady(kube::Client& client, const Json& cr, int timeoutSeconds) {
  auto id = client.resourceFor(cr);
  std::string ns = cr["metadata"].value("namespace", client.config().ns);
  std::string name = cr["metadata"].value("name", "");
  if (api::CollectorView(cr).mode() == api::kModeSidecar) {
    std::cout << "opentelemetrycollector/" << name
              << ": sidecar mode, nothing to wait for (the collector runs in the pods that ask for it)\n";
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  std::string last;
  while (true) {
    std::string progress;
    auto r = api::collectorReadiness(client.get(id, ns, name), &progress);
    if (progress != last) std::cout << "opentelemetrycollector/" << name << ": " << progress << "\n" << std::flush;
    last = progress;
    if (r == api::Readiness::Ready) return;
    if (r == api::Readiness::Failed)
      throw Error(progress, "OpenTelemetryCollector " + ns + "/" + name, "kubectl describe otelcol " + name);
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("not Ready after " + std::to_string(timeoutSeconds) + "s (" + progress + ")",
                  "OpenTelemetryCollector " + ns + "/" + name, "is the kubectl-otel controller running? kubectl otel install");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// True when the objects go to the cluster (neither --dry-run=client nor --render).
bool checkDryRun(const CreateOptions& o) {
  checkClientDryRun(o.dryRun);
  if (o.wait && (!o.dryRun.empty() || o.render)) throw Error("--wait needs a cluster, not --dry-run or --render", "--wait");
  return o.dryRun.empty() && !o.render;
}

manifests::RenderOptions renderOptions(const CreateOptions& o, const GlobalOptions& g) {
  manifests::RenderOptions r;
  r.build.ownImage = "ghcr.io/kubectl-otel/kubectl-otel:" + otel::version();  // the TA runs from this binary's image
  if (!g.ns.empty()) r.defaultNamespace = g.ns;
  if (!o.taImage.empty()) r.build.targetAllocatorImage = o.taImage;
  if (!o.collectorImage.empty()) r.build.collectorImage = o.collectorImage;
  r.build.certManager = o.certManager;
  r.fipsDisabledComponents = splitList(o.fipsDisabled);
  return r;
}

}  // namespace

void addCreateVerb(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<CreateOptions>();
  auto* cmd = app.add_subcommand("create", "Create collectors and Instrumentations from YAML or flags, or render every object the controller would create");
  cmd->add_option("-f,--filename", o->files, "Files, folders or - (stdin) with OpenTelemetryCollector/TargetAllocator CRs");
  cmd->add_flag("-R,--recursive", o->recursive, "Read folders given with -f recursively");
  cmd->add_flag("--render", o->render, "Print every object the controller would create (no cluster needed)");
  cmd->add_flag("--dry-run{client}", o->dryRun, "Only print the object(s) (--dry-run=client)");
  cmd->add_option("--target-allocator-image", o->taImage, "Run the target allocator from this image (default: kubectl-otel's own)");
  cmd->add_option("--collector-image", o->collectorImage, "Default collector image when spec.image is empty");
  cmd->add_flag("--cert-manager", o->certManager, "Render as for a cluster with cert-manager (target allocator mTLS)");
  cmd->add_option("--fips-disabled-components", o->fipsDisabled,
                  "Refuse collectors using these components, as on a FIPS platform (receiver.foo,exporter.bar,...)");

  auto* col = cmd->add_subcommand("collector", "Create an OpenTelemetryCollector from flags");
  col->add_option("NAME", o->name, "Collector name")->required();
  col->add_option("--mode", o->mode, "deployment|daemonset|statefulset|sidecar");
  col->add_option("--replicas", o->replicas, "Replicas");
  col->add_option("--image", o->image, "Collector image");
  col->add_option("--config", o->configFile, "Collector config file (YAML)");
  col->add_option("--preset", o->preset, "Built-in config: gateway|agent|sidecar (OTLP in, debug or OTLP out)");
  col->add_flag("--target-allocator", o->targetAllocator, "Enable the target allocator");
  col->add_option("--strategy", o->strategy, "Allocation strategy: consistent-hashing|least-weighted|per-node|rendezvous");
  col->add_flag("--prometheus-cr", o->prometheusCR, "Let the target allocator read ServiceMonitors/PodMonitors");
  col->add_option("--exporter-endpoint", o->exporterEndpoint, "Send to this OTLP gRPC endpoint instead of the debug exporter");
  col->add_flag("--render", o->render, "Print every object the controller would create");
  col->add_flag("--dry-run{client}", o->dryRun, "Only print the collector (--dry-run=client)");

  col->add_flag("--wait", o->wait, "After applying, wait until the collector is Ready");
  col->add_option("--timeout", o->timeoutSeconds, "Seconds --wait waits (default 300)");
  col->callback([o, &global] {
    bool apply = checkDryRun(*o);
    std::unique_ptr<kube::Client> client;
    if (apply) client = connect(global, false);
    manifests::CollectorParams p;
    p.name = o->name;
    p.ns = apply ? client->config().ns : global.ns;
    p.mode = o->mode;
    if (o->replicas >= 0) p.replicas = o->replicas;
    p.image = o->image;
    p.preset = o->preset;
    if (!o->configFile.empty()) {
      Json cfg = parseYaml(readFile(o->configFile), o->configFile);
      if (!cfg.is_object()) throw Error("the collector config must be a YAML mapping", o->configFile);
      p.config = cfg;
    }
    p.targetAllocator = o->targetAllocator;
    p.strategy = o->strategy;
    p.prometheusCR = o->prometheusCR;
    p.exporterEndpoint = o->exporterEndpoint;
    Json cr = manifests::collectorFromParams(p);
    YamlDocument doc{cr, "flags", 0, 1};
    auto res = manifests::render({doc}, renderOptions(*o, global));  // validates even for --dry-run
    printWarnings(res.warnings);
    if (apply) {
      checkRbac(*client, {{cr, "flags"}});
      applyAll(*client, {cr});
      if (o->wait) waitReady(*client, cr, o->timeoutSeconds);
    } else if (o->render) {
      printObjects(res.objects, global.output);
    } else {
      printObjects({cr}, global.output);
    }
  });

  auto* inst = cmd->add_subcommand("instrumentation", "Create an Instrumentation (zero-code instrumentation settings) from flags");
  inst->add_option("NAME", o->instName, "Instrumentation name")->required();
  inst->add_option("--endpoint", o->endpoint, "OTLP endpoint the SDKs export to (http:// or https://)");
  inst->add_option("--propagators", o->propagators, "Comma-separated propagators (default tracecontext,baggage)");
  inst->add_option("--sampler", o->sampler, "TYPE or TYPE=ARGUMENT (default parentbased_traceidratio=1)");
  for (const char* lang : {"java", "nodejs", "python", "dotnet", "go", "apache-httpd", "nginx"})
    inst->add_option_function<std::string>(
        std::string("--") + lang + "-image", [o, lang](const std::string& v) { o->images[lang] = v; },
        std::string("Auto-instrumentation image for ") + lang + " (default: upstream's)");
  inst->add_flag("--render", o->render, "Print the Instrumentation as the webhook stores it (defaults filled in)");
  inst->add_flag("--dry-run{client}", o->dryRun, "Only print the Instrumentation (--dry-run=client)");
  inst->callback([o, &global] {
    bool apply = checkDryRun(*o);
    std::unique_ptr<kube::Client> client;
    if (apply) client = connect(global, false);
    manifests::InstrumentationParams p;
    p.name = o->instName;
    p.ns = apply ? client->config().ns : global.ns;
    p.endpoint = o->endpoint;
    p.propagators = splitList(o->propagators);
    p.sampler = o->sampler;
    p.images = o->images;
    Json cr = manifests::instrumentationFromParams(p);
    printWarnings(api::validateInstrumentation(cr).warnings);
    if (apply) {
      applyAll(*client, {cr});
    } else if (o->render) {
      Json stored = cr;
      api::defaultInstrumentation(stored);
      printObjects({stored}, global.output);
    } else {
      printObjects({cr}, global.output);
    }
  });

  cmd->add_flag("--wait", o->wait, "After applying, wait until every collector is Ready");
  cmd->add_option("--timeout", o->timeoutSeconds, "Seconds --wait waits per collector (default 300)");
  cmd->callback([o, cmd, col, inst, &global] {
    if (col->parsed() || inst->parsed()) return;
    if (o->files.empty()) throw Error("nothing to create", "create", "use -f FILE|DIR|- or `create collector NAME`");
    bool apply = checkDryRun(*o);
    auto docs = readManifests(o->files, o->recursive);
    std::unique_ptr<kube::Client> client;
    auto ropts = renderOptions(*o, global);
    if (apply) {
      client = connect(global, std::find(o->files.begin(), o->files.end(), "-") != o->files.end());
      ropts.defaultNamespace = client->config().ns;
    }
    auto res = manifests::render(docs, ropts);  // every CR validated before anything is applied
    printWarnings(res.warnings);
    if (apply) {
      std::vector<Json> objs;
      std::vector<std::pair<Json, std::string>> reviewed;  // collectors and TargetAllocators
      // exactly what render accepted (it refused any other opentelemetry.io object and warned about the rest)
      for (const auto& d : docs) {
        if (d.value.is_null() || !isOurs(d.value)) continue;
        if (api::isCollector(d.value) || api::isTargetAllocator(d.value)) reviewed.push_back({d.value, manifests::docWhere(d)});
        objs.push_back(api::isCollector(d.value) ? api::toV1beta1(d.value)  // stored as v1beta1: no conversion webhook
                                                 : d.value);
      }
      checkRbac(*client, reviewed);
      applyAll(*client, objs);
      if (o->wait)
        for (const auto& x : objs)
          if (api::isCollector(x)) waitReady(*client, x, o->timeoutSeconds);
    } else if (o->render) {
      printObjects(res.objects, global.output);
    } else {
      std::vector<Json> crs;
      for (const auto& d : docs)
        if (!d.value.is_null()) crs.push_back(d.value);
      printObjects(crs, global.output);
    }
    (void)cmd;
  });
}

}  // namespace otel::plugin
