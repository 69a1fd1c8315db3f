// `kubectl otel inject -f FILE|DIR|- [-R] [KIND/NAME ...]` and `kubectl otel uninject -f ...`:
// flags -> lib/inject processManifests -> YAML stream on stdout, one summary line per workload on stderr.
// Nothing is printed to stdout unless every document was processed.
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "lib/api/instrumentation.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/inject/live.h"
#include "lib/inject/workload.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/kube/kubeconfig.h"
#include "plugin/verbs.h"

namespace otel::plugin {
namespace {

struct InjectFlags {
  std::vector<std::string> files;
  bool recursive = false;
  std::vector<std::string> selectors;
  std::vector<std::string> langs;
  std::string instrumentation;
  std::string sidecar;
  std::string containers;
  std::string endpoint;
  std::string propagators;
  std::string sampler;
  std::string goTargetExe;
  bool nativeSidecar = false;
  bool quiet = false;
  std::string dryRun;
  std::string mode = "direct";
};

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<inject::ManifestSource> readSources(const InjectFlags& f) {
  if (f.files.empty())
    throw Error("no input", "inject", "name workloads (deploy/NAME ...) or pass manifests with -f FILE|DIR|-");
  std::vector<inject::ManifestSource> out;
  for (const auto& path : expandManifestPaths(f.files, f.recursive))
    out.push_back(inject::ManifestSource{path, path == "-" ? readStdin() : readFile(path)});
  return out;
}

// Live (direct) mode: read each workload, mutate its template, write it back (409 -> fresh read, retry).
void runLiveMode(const InjectFlags& f, const GlobalOptions& g, const inject::FileModeOptions& fo) {
  if (!f.dryRun.empty() && f.dryRun != "client" && f.dryRun != "none")
    throw Error("unsupported value \"" + f.dryRun + "\"", "--dry-run", "use --dry-run=client");
  kube::LoadOptions lo;
  lo.kubeconfig = g.kubeconfig;
  lo.context = g.context;
  lo.ns = g.ns;
  kube::Client client(kube::loadRestConfig(lo));
  inject::LiveOptions o;
  o.inject = fo.inject;
  o.uninject = fo.uninject;
  o.annotate = fo.annotate;
  o.dryRun = f.dryRun == "client";
  o.ns = client.config().ns;
  o.endpoint = fo.endpoint;
  o.propagators = fo.propagators;
  o.sampler = fo.sampler;
  static const std::map<std::string, std::string> kApi = {
      {"Deployment", "apps/v1"}, {"StatefulSet", "apps/v1"}, {"DaemonSet", "apps/v1"}, {"ReplicaSet", "apps/v1"},
      {"ReplicationController", "v1"}, {"Job", "batch/v1"}, {"CronJob", "batch/v1"}, {"Pod", "v1"}};
  inject::LiveAccess a;
  a.get = [&](const std::string& kind, const std::string& ns, const std::string& name) {
    return client.get(client.resourceFor(kApi.at(kind), kind), ns, name);
  };
  a.update = [&](const Json& obj) { return client.update(obj); };
  a.isConflict = [](const std::exception& e) {
    auto* api = dynamic_cast<const kube::ApiError*>(&e);
    return api && api->isConflict();
  };
  a.catalog = [&](const std::string& ns) {
    inject::Catalog c;
    auto listAll = [&](const char* api, const char* kind, std::vector<Json>& out) {
      try {
        Json l = client.list(client.resourceFor(api, kind), ns);
        for (auto& i : l["items"]) {
          i["apiVersion"] = api;
          i["kind"] = kind;
          out.push_back(i);
        }
      } catch (const std::exception&) {  // CRD not installed: nothing of that kind
      }
    };
    listAll("opentelemetry.io/v1alpha1", "Instrumentation", c.instrumentations);
    listAll("opentelemetry.io/v1beta1", "OpenTelemetryCollector", c.collectors);
    return c;
  };
  a.namespaceAnnotations = [&](const std::string& ns) {
    try {
      Json n = client.get(client.resourceFor("v1", "Namespace"), "", ns);
      if (n.contains("metadata") && n["metadata"].contains("annotations")) return n["metadata"]["annotations"];
    } catch (const std::exception&) {
    }
    return Json::object();
  };
  auto results = inject::runLive(f.selectors, o, a);
  bool failed = false;
  std::vector<Json> objs;
  for (const auto& r : results) {
    std::cerr << r.ref << ": " << r.outcome << (o.dryRun && r.changed ? " (dry run)" : "") << "\n";
    failed = failed || r.error;
    if (!r.object.is_null()) objs.push_back(r.object);
  }
  if (g.output == "yaml") std::cout << toYamlStream(objs);
  if (g.output == "json") for (const auto& obj : objs) std::cout << obj.dump(2) << "\n";
  if (failed) throw ExitCode{kExitError};
}

void run(const InjectFlags& f, const GlobalOptions& g, bool uninject, CLI::App* cmd) {
  inject::FileModeOptions o;
  o.uninject = uninject;
  if (f.mode != "direct" && f.mode != "annotate")
    throw Error("unsupported value \"" + f.mode + "\"", "--mode", "use --mode=direct or --mode=annotate");
  o.annotate = f.mode == "annotate" && !uninject;
  if (o.annotate && !f.endpoint.empty())
    throw Error("--endpoint needs --mode=direct", "--mode",
                "the webhook needs an Instrumentation object: create one with `kubectl otel create instrumentation`");
  if (!g.ns.empty()) o.defaultNamespace = g.ns;
  o.selectors = f.selectors;
  if (!uninject) {
    for (const auto& l : f.langs)
      for (const auto& name : splitList(l)) {
        auto lang = api::parseLanguage(name);
        if (!lang)
          throw Error("unknown language \"" + name + "\"", "--lang",
                      "use java, nodejs, python, dotnet, go, apache-httpd, nginx or sdk");
        o.inject.languages.push_back(*lang);
      }
    o.inject.instrumentation = f.instrumentation;
    if (cmd->count("--sidecar") > 0) {
      o.inject.sidecar = true;
      o.inject.collector = f.sidecar;
    }
    o.inject.containers = splitList(f.containers);
    o.inject.goTargetExe = f.goTargetExe;
    o.inject.nativeSidecar = f.nativeSidecar;
    o.endpoint = f.endpoint;
    o.propagators = splitList(f.propagators);
    o.sampler = f.sampler;
    if (!f.instrumentation.empty() && o.inject.languages.empty())
      throw Error("--instrumentation needs --lang", "--instrumentation", "for example --lang java --instrumentation my-inst");
    if (!o.endpoint.empty()) {
      Json probe = api::inlineInstrumentation("inline", "", o.endpoint, o.propagators, o.sampler);
      auto d = api::validateInstrumentation(probe);
      if (!d.errors.empty()) throw Error(d.errors.front(), "--sampler");
    }
  }
  if (f.files.empty() && !f.selectors.empty()) {
    runLiveMode(f, g, o);
    return;
  }
  auto result = inject::processManifests(readSources(f), o);
  std::cout << result.output;
  std::cout.flush();
  if (!f.quiet) {
    for (const auto& line : result.summary) std::cerr << line << "\n";
    std::cerr << (uninject ? "uninjected " : "injected ") << result.changed << " of " << result.workloads
              << " workload(s)\n";
  }
}

void addFileFlags(CLI::App* cmd, InjectFlags& f) {
  cmd->add_option("-f,--filename", f.files, "Manifest file, folder or - for stdin (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("-R,--recursive", f.recursive, "Read folders given with -f recursively");
  cmd->add_option("workloads", f.selectors, "Only these workloads of the input (KIND/NAME, e.g. deploy/my-app)");
  cmd->add_flag("-q,--quiet", f.quiet, "No summary on stderr");
  cmd->add_option("--dry-run", f.dryRun, "Live mode: client = compute and print (-o yaml|json), write nothing");
}

}  // namespace

void addInjectVerb(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<InjectFlags>();
  auto* cmd = app.add_subcommand("inject", "Add a collector sidecar and/or auto-instrumentation to workloads (files mode: -f)");
  addFileFlags(cmd, *f);
  cmd->add_option("--lang", f->langs,
                  "Instrument these languages: java, nodejs, python, dotnet, go, apache-httpd, nginx, sdk (repeatable, "
                  "comma-separated). Without --lang/--sidecar the templates' annotations decide, as the webhook would");
  cmd->add_option("--instrumentation", f->instrumentation, "Instrumentation to use: NAME or NAMESPACE/NAME");
  cmd->add_option("--sidecar", f->sidecar, "Add the collector sidecar; =NAME or =NAMESPACE/NAME picks the collector")
      ->expected(0, 1);
  cmd->add_option("--containers", f->containers, "Containers to instrument (comma-separated; default: the first)");
  cmd->add_option("--endpoint", f->endpoint, "OTLP endpoint: use an inline Instrumentation with upstream defaults");
  cmd->add_option("--propagators", f->propagators, "With --endpoint: propagators (default tracecontext,baggage)");
  cmd->add_option("--sampler", f->sampler, "With --endpoint: TYPE or TYPE=ARG (default parentbased_traceidratio=1)");
  cmd->add_option("--mode", f->mode,
                  "direct (default): write the containers/env/volumes into the template; annotate: set the "
                  "operator webhook's annotations instead (needs the controller's webhook)");
  cmd->add_option("--go-target-exe", f->goTargetExe, "With --lang go: path of the executable to instrument");
  cmd->add_flag("--native-sidecar", f->nativeSidecar,
                "Add the sidecar as a native sidecar (init container, restartPolicy Always; Kubernetes >= 1.29)");
  cmd->callback([f, &global, cmd] { run(*f, global, false, cmd); });

  auto u = std::make_shared<InjectFlags>();
  auto* ucmd = app.add_subcommand("uninject", "Remove exactly what `kubectl otel inject` added (files mode: -f)");
  addFileFlags(ucmd, *u);
  ucmd->callback([u, &global, ucmd] { run(*u, global, true, ucmd); });
}

}  // namespace otel::plugin
