// `kubectl otel install [--dry-run=client -o yaml|json]`: server-side applies (or prints, for GitOps)
// the CRDs, namespace, RBAC, controller and webhook configurations of lib/manifests/install.h.
#include <iostream>
#include <memory>

#include "lib/core/error.h"
#include "lib/core/version.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/manifests/install.h"
#include "plugin/verbs.h"

namespace otel::plugin {

void addInstallVerb(CLI::App& app, GlobalOptions& global) {
  struct Opts {
    std::string dryRun, image;
    bool crdsOnly = false, noCrds = false;
    int replicas = 1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("install", "Print (or apply) the CRDs, RBAC, controller and webhooks");
  cmd->add_flag("--dry-run{client}", o->dryRun, "Only print the objects (--dry-run=client)");
  cmd->add_option("--image", o->image, "Controller image (default: ghcr.io/kubectl-otel/kubectl-otel:<this version>)");
  cmd->add_option("--replicas", o->replicas, "Controller replicas (leader election keeps one active)");
  cmd->add_flag("--crds-only", o->crdsOnly, "Only the CustomResourceDefinitions");
  cmd->add_flag("--skip-crds", o->noCrds, "Everything except the CustomResourceDefinitions");
  cmd->callback([o, &global] {
    if (!o->dryRun.empty() && o->dryRun != "client")
      throw Error("unsupported value \"" + o->dryRun + "\"", "--dry-run", "only --dry-run=client is supported");
    manifests::InstallOptions opts;
    opts.image = "ghcr.io/kubectl-otel/kubectl-otel:" + otel::version();
    if (!global.ns.empty()) opts.ns = global.ns;
    if (!o->image.empty()) opts.image = o->image;
    opts.replicas = o->replicas;
    opts.crds = !o->noCrds;
    std::vector<Json> objs = o->crdsOnly ? manifests::crdObjects() : manifests::installObjects(opts);
    if (o->dryRun.empty()) {
      kube::LoadOptions lo;
      lo.kubeconfig = global.kubeconfig;
      lo.context = global.context;
      kube::Client client(kube::loadRestConfig(lo));
      kube::PatchOptions po;
      po.fieldManager = "kubectl-otel";
      po.force = true;
      for (const auto& obj : objs) {
        client.apply(obj, po);
        std::cout << obj.value("kind", "") << "/" << obj["metadata"].value("name", "") << " serverside-applied\n";
      }
      return;
    }
    if (global.output == "json")
      std::cout << Json({{"apiVersion", "v1"}, {"kind", "List"}, {"items", objs}}).dump(4) << "\n";
    else if (global.output.empty() || global.output == "yaml")
      std::cout << toYamlStream(objs);
    else
      throw Error("unsupported output format \"" + global.output + "\"", "-o", "use -o yaml or -o json");
  });
}

}  // namespace otel::plugin
