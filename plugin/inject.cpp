// `kubectl otel inject -f FILE|DIR|- [-R] [KIND/NAME ...]` and `kubectl otel uninject -f ...`:
// flags -> lib/inject processManifests -> YAML stream on stdout, one summary line per workload on stderr.
// Nothing is printed to stdout unless every document was processed.
#include <iostream>
#include <memory>
#include <sstream>

#include "lib/api/instrumentation.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/inject/workload.h"
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
    throw Error("no input: live mode (deploy/NAME against a cluster) is not available in this build", "inject",
                "pass manifests with -f FILE|DIR|- (files mode needs no cluster)");
  std::vector<inject::ManifestSource> out;
  for (const auto& path : expandManifestPaths(f.files, f.recursive))
    out.push_back(inject::ManifestSource{path, path == "-" ? readStdin() : readFile(path)});
  return out;
}

void run(const InjectFlags& f, const GlobalOptions& g, bool uninject, CLI::App* cmd) {
  inject::FileModeOptions o;
  o.uninject = uninject;
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
