// `kubectl otel inject -f FILE|DIR|- [-R] [KIND/NAME ...]` and `kubectl otel uninject -f ...`:
// flags -> lib/inject processManifests -> YAML stream on stdout, one summary line per workload on stderr.
// Nothing is printed to stdout unless every document was processed.
#include <iostream>
#include <map>
#include <memory>

#include "lib/api/instrumentation.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/inject/diff.h"
#include "lib/inject/live.h"
#include "lib/inject/workload.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/kube/kubeconfig.h"
#include "plugin/kube_options.h"
#include "plugin/output.h"
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
  std::string mode;  // "" = direct for files, chosen from the cluster for live inject
  bool all = false;
  std::string labelSelector;
};

std::vector<inject::ManifestSource> readSources(const InjectFlags& f) {
  if (f.files.empty())
    throw Error("no input", "inject", "name workloads (deploy/NAME ...) or pass manifests with -f FILE|DIR|-");
  std::vector<inject::ManifestSource> out;
  for (const auto& path : expandManifestPaths(f.files, f.recursive))
    out.push_back(inject::ManifestSource{path, path == "-" ? readStdin() : readFile(path)});
  return out;
}

// Without managedFields and the fields every write changes, so a diff shows only the injection.
Json forDiff(Json obj) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object())
    for (const char* k : {"managedFields", "resourceVersion", "generation"}) obj["metadata"].erase(k);
  return obj;
}

// "apps.v1.Deployment.default.web", as kubectl diff names its files.
std::string diffName(const Json& obj) {
  std::string api = obj.value("apiVersion", "");
  for (auto& c : api)
    if (c == '/') c = '.';
  const Json meta = obj.value("metadata", Json::object());
  return api + "." + obj.value("kind", "") + "." + meta.value("namespace", "") + "." + meta.value("name", "");
}

// Reads what lib/inject's chooseLiveMode needs: the pod webhook's configuration and whether its Service
// has a ready endpoint (a controller running).
inject::PodWebhookState podWebhookState(kube::Client& client) {
  inject::PodWebhookState s;
  try {
    Json l = client.list(client.resourceFor("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"), "");
    s.configuration = inject::podWebhookConfiguration(l);
    if (auto t = inject::podWebhookTarget(l); t && !t->url) {
      kube::ListOptions lo;
      lo.labelSelector = "kubernetes.io/service-name=" + t->serviceName;
      Json slices = client.list(client.resourceFor("discovery.k8s.io/v1", "EndpointSlice"), t->serviceNamespace, lo);
      if (!inject::anyReadyEndpoint(slices))
        s.unserved = "mutatingwebhookconfiguration/" + s.configuration + " is installed but its service " +
                     t->serviceNamespace + "/" + t->serviceName + " has no ready endpoint (is the controller running?)";
    }
  } catch (const std::exception& e) {
    s.readError = std::string("could not read the pod webhook's configuration: ") + e.what();
  }
  return s;
}

// Live mode: read each workload, mutate its template (or annotate it), write it back (409 -> fresh read,
// retry). Nothing is written when any workload fails before writing.
void runLiveMode(const InjectFlags& f, const GlobalOptions& g, const inject::FileModeOptions& fo) {
  inject::DryRun dryRun = inject::DryRun::None;
  if (f.dryRun == "client")
    dryRun = inject::DryRun::Client;
  else if (f.dryRun == "server")
    dryRun = inject::DryRun::Server;
  else if (!f.dryRun.empty() && f.dryRun != "none")
    throw Error("unsupported value \"" + f.dryRun + "\"", "--dry-run", "use --dry-run=client, server or none");
  if (g.allNamespaces)
    throw Error("-A/--all-namespaces is not supported by inject", "-A", "name the namespace with -n NAMESPACE");
  if (!f.selectors.empty() && (f.all || !f.labelSelector.empty()))
    throw Error("workload names cannot be combined with --all or -l", "arguments",
                "either name workloads (deploy/NAME ...) or select them with --all [-l SELECTOR]");
  kube::Client client(cliRestConfig(g));
  inject::LiveOptions o;
  o.inject = fo.inject;
  o.uninject = fo.uninject;
  o.dryRun = dryRun;
  o.ns = client.config().ns.empty() ? "default" : client.config().ns;
  o.all = f.all;
  o.labelSelector = f.labelSelector;
  o.endpoint = fo.endpoint;
  o.propagators = fo.propagators;
  o.sampler = fo.sampler;
  std::string modeLine;  // printed with the summary
  if (!o.uninject) {
    const bool inlineEndpoint = !f.endpoint.empty();
    auto [annotate, why] = inject::chooseLiveMode(
        f.mode, inlineEndpoint,
        inject::liveModeNeedsClusterState(f.mode, inlineEndpoint) ? podWebhookState(client) : inject::PodWebhookState{});
    o.annotate = annotate;  // never with --endpoint: run() refuses --mode=annotate with it, the default is direct
    modeLine = std::string("mode: ") + (annotate ? "annotate" : "direct") + " (" + why + ")";
  }
  inject::LiveAccess a;
  a.get = [&](const std::string& kind, const std::string& ns, const std::string& name) {
    return client.get(client.resourceFor(inject::liveKindApiVersion(kind), kind), ns, name);
  };
  a.list = [&](const std::string& kind, const std::string& ns, const std::string& selector) {
    kube::ListOptions lopt;
    lopt.labelSelector = selector;
    Json l = client.list(client.resourceFor(inject::liveKindApiVersion(kind), kind), ns, lopt);
    std::vector<Json> items;
    for (auto& i : l["items"]) items.push_back(std::move(i));  // Client::list put apiVersion/kind first
    return items;
  };
  a.update = [&](const Json& obj, bool serverDryRun) {
    kube::WriteOptions w;
    w.dryRun = serverDryRun;
    return client.update(obj, w);
  };
  a.isConflict = [](const std::exception& e) {
    auto* api = dynamic_cast<const kube::ApiError*>(&e);
    return api && api->isConflict();
  };
  a.isRefusal = [](const std::exception& e) {
    auto* api = dynamic_cast<const kube::ApiError*>(&e);
    return api && (api->isInvalid() || api->isForbidden() ||
                   std::string(api->what()).find("denied the request") != std::string::npos);
  };
  a.catalog = [&](const std::string& ns) {
    inject::Catalog c;
    auto listAll = [&](const char* api, const char* kind, std::vector<Json>& out) {
      try {
        Json l = client.list(client.resourceFor(api, kind), ns);
        for (auto& i : l["items"]) out.push_back(std::move(i));
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
  int changed = 0;
  std::vector<Json> objs;
  std::string diffs;
  const char* dryNote = dryRun == inject::DryRun::Client   ? " (dry run)"
                        : dryRun == inject::DryRun::Server ? " (server dry run)"
                                                           : "";
  for (const auto& r : results) {
    if (!f.quiet || r.error) std::cerr << r.ref << ": " << r.outcome << (r.changed ? dryNote : "") << "\n";
    failed = failed || r.error;
    changed += r.changed ? 1 : 0;
    if (!r.object.is_null()) objs.push_back(r.object);
    if (r.changed && !r.before.is_null()) {
      const Json& after = dryRun == inject::DryRun::Client || r.object.is_null() ? r.after : r.object;
      diffs += inject::unifiedDiff(
          toYaml(forDiff(r.before)), toYaml(forDiff(after)),
          {"live/" + diffName(r.before), (o.uninject ? "uninjected/" : "injected/") + diffName(after)});
    }
  }
  if (results.empty() && !f.quiet)
    std::cerr << "no workloads found in namespace \"" << o.ns << "\""
              << (o.labelSelector.empty() ? "" : " matching " + o.labelSelector) << "\n";
  if (!f.quiet && !failed && results.size() > 1)
    std::cerr << (o.uninject ? "uninjected " : "injected ") << changed << " of " << results.size() << " workload(s)"
              << dryNote << "\n";
  if (!f.quiet && !failed && !modeLine.empty()) std::cerr << modeLine << "\n";
  if (failed) throw ExitCode{kExitError};
  if (g.output == "yaml" || g.output == "json") printObjects(objs, g.output);
  if (g.output == "diff") std::cout << diffs;
}

void run(const InjectFlags& f, const GlobalOptions& g, bool uninject, CLI::App* cmd) {
  inject::FileModeOptions o;
  o.uninject = uninject;
  if (!f.mode.empty() && f.mode != "direct" && f.mode != "annotate")
    throw Error("unsupported value \"" + f.mode + "\"", "--mode", "use --mode=direct or --mode=annotate");
  if (!g.output.empty() && g.output != "yaml" && g.output != "json" && g.output != "diff")
    throw Error("unsupported output \"" + g.output + "\"", "-o", "use -o yaml, -o json or -o diff");
  o.annotate = f.mode == "annotate" && !uninject;  // files mode: direct unless asked; live: inject::chooseLiveMode
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
  if (f.files.empty() && (!f.selectors.empty() || f.all || !f.labelSelector.empty())) {
    runLiveMode(f, g, o);
    return;
  }
  if (f.all || !f.labelSelector.empty())
    throw Error("--all and -l select workloads in the cluster", "-f",
                "with -f every workload of the input is injected; name some (deploy/NAME) to restrict it");
  if (!f.dryRun.empty() && f.dryRun != "client" && f.dryRun != "none")
    throw Error("--dry-run=" + f.dryRun + " needs the cluster", "--dry-run", "files mode writes nothing anyway");
  auto result = inject::processManifests(readSources(f), o);
  if (g.output == "diff") {
    for (const auto& c : result.changes) {
      std::string name = c.source + " (document " + std::to_string(c.index) + ", " + c.ref + ")";
      std::cout << inject::unifiedDiff(c.before, c.after, {"a/" + name, "b/" + name});
    }
  } else if (g.output == "json") {
    throw Error("-o json is not supported with -f", "-o", "files mode prints the YAML stream; use -o diff or no -o");
  } else {
    std::cout << result.output;
  }
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
  cmd->add_option("--dry-run", f.dryRun,
                  "Live mode: client = compute and print (-o yaml|json|diff), write nothing; server = also send the "
                  "update with dryRun=All (admission and validation, nothing stored)");
  cmd->add_flag("--all", f.all,
                "Live mode: every Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, CronJob, "
                "Job and Pod of the namespace (those managed by another workload excluded)");
  cmd->add_option("-l,--selector", f.labelSelector,
                  "Live mode: only workloads matching this label selector (key=value,key!=value,key in (a,b) ...)");
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
                  "direct: write the containers/env/volumes into the template; annotate: set the operator webhook's "
                  "annotations instead (needs the controller's webhook). Default: -f direct; live annotate when the "
                  "controller's pod webhook is installed, else direct");
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
