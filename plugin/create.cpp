// `kubectl otel create -f FILE|DIR|- --render` and `kubectl otel create collector NAME ...`:
// flags -> lib/manifests (presets, render) -> YAML/JSON on stdout. Nothing touches a cluster here.
#include <iostream>
#include <memory>

#include "lib/api/collector.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/version.h"
#include "lib/core/yaml.h"
#include "lib/manifests/presets.h"
#include "lib/manifests/render.h"
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
  // create collector
  std::string name, mode, image, configFile, preset, strategy, exporterEndpoint;
  long long replicas = -1;
  bool targetAllocator = false, prometheusCR = false;
};

void print(const std::vector<Json>& objs, const std::string& output) {
  if (output == "json") {
    if (objs.size() == 1) {
      std::cout << objs.front().dump(4) << "\n";
    } else {
      Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", objs}};
      std::cout << list.dump(4) << "\n";
    }
  } else if (output.empty() || output == "yaml") {
    std::cout << toYamlStream(objs);
  } else {
    throw Error("unsupported output format \"" + output + "\"", "-o", "use -o yaml or -o json");
  }
}

void checkDryRun(const CreateOptions& o) {
  if (!o.dryRun.empty() && o.dryRun != "client")
    throw Error("unsupported value \"" + o.dryRun + "\"", "--dry-run", "only --dry-run=client is supported");
  if (o.dryRun.empty() && !o.render)
    throw Error("applying to a cluster is not available in this build", "create",
                "use --render or --dry-run=client -o yaml and pipe the output to kubectl apply -f -");
}

manifests::RenderOptions renderOptions(const CreateOptions& o, const GlobalOptions& g) {
  manifests::RenderOptions r;
  r.build.ownImage = "ghcr.io/kubectl-otel/kubectl-otel:" + otel::version();  // the TA runs from this binary's image
  if (!g.ns.empty()) r.defaultNamespace = g.ns;
  if (!o.taImage.empty()) r.build.targetAllocatorImage = o.taImage;
  if (!o.collectorImage.empty()) r.build.collectorImage = o.collectorImage;
  r.build.certManager = o.certManager;
  return r;
}

void printWarnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "Warning: " << w << "\n";
}

}  // namespace

void addCreateVerb(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<CreateOptions>();
  auto* cmd = app.add_subcommand("create", "Create collectors from YAML, or render every object the controller would create");
  cmd->add_option("-f,--filename", o->files, "Files, folders or - (stdin) with OpenTelemetryCollector/TargetAllocator CRs");
  cmd->add_flag("-R,--recursive", o->recursive, "Read folders given with -f recursively");
  cmd->add_flag("--render", o->render, "Print every object the controller would create (no cluster needed)");
  cmd->add_flag("--dry-run{client}", o->dryRun, "Only print the object(s) (--dry-run=client)");
  cmd->add_option("--target-allocator-image", o->taImage, "Run the target allocator from this image (default: kubectl-otel's own)");
  cmd->add_option("--collector-image", o->collectorImage, "Default collector image when spec.image is empty");
  cmd->add_flag("--cert-manager", o->certManager, "Render as for a cluster with cert-manager (target allocator mTLS)");

  auto* col = cmd->add_subcommand("collector", "Create an OpenTelemetryCollector from flags");
  col->add_option("NAME", o->name, "Collector name")->required();
  col->add_option("--mode", o->mode, "deployment|daemonset|statefulset|sidecar");
  col->add_option("--replicas", o->replicas, "Replicas");
  col->add_option("--image", o->image, "Collector image");
  col->add_option("--config", o->configFile, "Collector config file (YAML)");
  col->add_option("--preset", o->preset, "Built-in config: gateway|agent|sidecar (OTLP in, debug or OTLP out)");
  col->add_flag("--target-allocator", o->targetAllocator, "Enable the target allocator");
  col->add_option("--strategy", o->strategy, "Allocation strategy: consistent-hashing|least-weighted|per-node");
  col->add_flag("--prometheus-cr", o->prometheusCR, "Let the target allocator read ServiceMonitors/PodMonitors");
  col->add_option("--exporter-endpoint", o->exporterEndpoint, "Send to this OTLP gRPC endpoint instead of the debug exporter");
  col->add_flag("--render", o->render, "Print every object the controller would create");
  col->add_flag("--dry-run{client}", o->dryRun, "Only print the collector (--dry-run=client)");

  col->callback([o, &global] {
    checkDryRun(*o);
    manifests::CollectorParams p;
    p.name = o->name;
    p.ns = global.ns;
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
    if (o->render)
      print(res.objects, global.output);
    else
      print({cr}, global.output);
  });

  cmd->callback([o, cmd, col, &global] {
    if (col->parsed()) return;
    if (o->files.empty()) throw Error("nothing to create", "create", "use -f FILE|DIR|- or `create collector NAME`");
    checkDryRun(*o);
    auto docs = readManifests(o->files, o->recursive);
    auto res = manifests::render(docs, renderOptions(*o, global));
    printWarnings(res.warnings);
    if (o->render) {
      print(res.objects, global.output);
    } else {
      std::vector<Json> crs;
      for (const auto& d : docs)
        if (!d.value.is_null()) crs.push_back(d.value);
      print(crs, global.output);
    }
    (void)cmd;
  });
}

}  // namespace otel::plugin
