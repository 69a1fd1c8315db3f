// `kubectl otel install [--dry-run=client -o yaml|json]`: server-side applies (or prints, for GitOps)
// the CRDs, namespace, RBAC, controller and webhook configurations of lib/manifests/install.h.
// `kubectl otel uninstall [--crds] [--dry-run=client]`: deletes them again (webhooks first) and says
// which custom resources are left in the cluster.
#include <iostream>
#include <map>
#include <memory>

#include "lib/core/error.h"
#include "lib/core/version.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/kube/kubeconfig.h"
#include "lib/manifests/install.h"
#include "plugin/kube_options.h"
#include "plugin/output.h"
#include "plugin/verbs.h"

namespace otel::plugin {
namespace {

struct Opts {
  std::string dryRun, image;
  bool crdsOnly = false, noCrds = false, deleteCrds = false, certManager = false;
  int replicas = 1;
};

manifests::InstallOptions installOptions(const Opts& o, const GlobalOptions& g) {
  manifests::InstallOptions opts;
  opts.image = "ghcr.io/kubectl-otel/kubectl-otel:" + otel::version();
  if (!g.ns.empty()) opts.ns = g.ns;
  if (!o.image.empty()) opts.image = o.image;
  opts.replicas = o.replicas;
  opts.crds = !o.noCrds;
  opts.certManager = o.certManager;
  return opts;
}

kube::Client connect(const GlobalOptions& g) {
  return kube::Client(cliRestConfig(g));
}

// The live object, or null when it does not exist.
Json getOrNull(kube::Client& client, const Json& obj) {
  try {
    return client.get(client.resourceFor(obj), obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
  } catch (const kube::ApiError& e) {
    if (e.isNotFound()) return Json();
    throw;
  }
}

// True for a Namespace that exists without the labels `install` gives its own: the user's, not ours to label
// or delete.
bool usersNamespace(kube::Client& client, const Json& obj) {
  if (obj.value("kind", "") != "Namespace") return false;
  Json live = getOrNull(client, obj);
  return !live.is_null() && !manifests::namespaceCreatedByInstall(live);
}

std::string ref(const Json& obj) { return obj.value("kind", "") + "/" + obj["metadata"].value("name", ""); }

// The custom resources of our CRDs that exist in the cluster, per kind ("ns/name" or "name"); kinds
// whose CRD is not installed are left out. The resource is taken from the CRD itself (no discovery).
std::map<std::string, std::vector<std::string>> customResources(kube::Client& client) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& crd : manifests::crdObjects()) {
    const Json& spec = crd["spec"];
    std::string version;
    for (const auto& v : spec["versions"])
      if (v.value("storage", false)) version = v.value("name", "");
    kube::ResourceId id;
    id.apiVersion = spec.value("group", "") + "/" + version;
    id.resource = spec["names"].value("plural", "");
    id.kind = spec["names"].value("kind", "");
    id.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    Json list;
    try {
      list = client.list(id, "");
    } catch (const kube::ApiError& e) {
      if (e.isNotFound()) continue;  // CRD not installed
      throw;
    }
    for (const auto& item : list["items"]) {
      const Json& m = item["metadata"];
      std::string ns = m.value("namespace", "");
      out[id.kind].push_back(ns.empty() ? m.value("name", "") : ns + "/" + m.value("name", ""));
    }
  }
  return out;
}

std::string describe(const std::map<std::string, std::vector<std::string>>& crs) {
  std::string s;
  for (const auto& [kind, names] : crs) {
    if (names.empty()) continue;
    s += (s.empty() ? "" : "; ") + std::to_string(names.size()) + " " + kind + " (";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
    s += ")";
  }
  return s;
}

}  // namespace

void addInstallVerb(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("install", "Print (or apply) the CRDs, RBAC, controller and webhooks");
  cmd->add_flag("--dry-run{client}", o->dryRun, "Only print the objects (--dry-run=client)");
  cmd->add_option("--image", o->image, "Controller image (default: ghcr.io/kubectl-otel/kubectl-otel:<this version>)");
  cmd->add_option("--replicas", o->replicas, "Controller replicas (leader election keeps one active)");
  cmd->add_flag("--crds-only", o->crdsOnly, "Only the CustomResourceDefinitions");
  cmd->add_flag("--skip-crds", o->noCrds, "Everything except the CustomResourceDefinitions");
  cmd->add_flag("--cert-manager", o->certManager,
                "cert-manager issues the webhooks' certificate (Issuer, Certificate, CA injection); default: the "
                "controller manages it in a Secret");
  cmd->callback([o, &global] {
    checkClientDryRun(o->dryRun);
    std::vector<Json> objs =
        o->crdsOnly ? manifests::crdObjects() : manifests::installObjects(installOptions(*o, global));
    if (!o->dryRun.empty()) return printObjects(objs, global.output);
    kube::Client client = connect(global);
    kube::PatchOptions po;
    po.fieldManager = "kubectl-otel";
    po.force = true;
    if (o->certManager && !o->crdsOnly) {  // before any write: nothing half-installed
      try {
        client.resourceFor("cert-manager.io/v1", "Certificate");
      } catch (const std::exception&) {
        throw Error("cert-manager is not installed: the cluster serves no cert-manager.io/v1 Certificate", "--cert-manager",
                    "install cert-manager first (https://cert-manager.io/docs/installation/), or leave out --cert-manager "
                    "and `kubectl otel run` manages the certificate itself");
      }
    }
    for (const auto& obj : objs) {
      if (usersNamespace(client, obj)) {
        std::cout << ref(obj) << " exists, kept as it is\n";
        continue;
      }
      client.apply(obj, po);
      std::cout << ref(obj) << " serverside-applied\n";
    }
  });

  auto u = std::make_shared<Opts>();
  auto* ucmd = app.add_subcommand("uninstall", "Delete what `install` created; custom resources and CRDs stay unless --crds");
  ucmd->add_flag("--crds", u->deleteCrds,
                 "Also delete the CRDs, and with them every OpenTelemetryCollector, Instrumentation, TargetAllocator "
                 "and OpAMPBridge in the cluster");
  ucmd->add_flag("--dry-run{client}", u->dryRun, "Only print what would be deleted (--dry-run=client)");
  ucmd->callback([u, &global] {
    checkClientDryRun(u->dryRun);
    Opts withCertManager = *u;
    // live, whichever way it was installed: cert-manager's objects go too when the cluster serves their kinds
    withCertManager.certManager = u->dryRun.empty();
    std::vector<Json> objs = manifests::uninstallObjects(installOptions(withCertManager, global), u->deleteCrds);
    if (!u->dryRun.empty()) {
      if (!global.output.empty()) return printObjects(objs, global.output);
      for (const auto& obj : objs) std::cout << ref(obj) << " deleted (dry run)\n";
      return;
    }
    kube::Client client = connect(global);
    auto before = customResources(client);
    if (u->deleteCrds && !describe(before).empty())
      std::cout << "deleting the CRDs also deletes " << describe(before) << "\n";
    kube::DeleteOptions del;
    del.propagationPolicy = "Background";
    for (const auto& obj : objs) {
      std::string ns = obj["metadata"].value("namespace", "");
      if (usersNamespace(client, obj)) {
        std::cout << ref(obj) << " kept (kubectl otel install did not create it)\n";
        continue;
      }
      const std::string apiVersion = obj.value("apiVersion", "");
      if (apiVersion.rfind("cert-manager.io/", 0) == 0) {
        try {
          client.resourceFor(obj);
        } catch (const std::exception&) {
          continue;  // cert-manager not installed: nothing of its kinds to delete
        }
      }
      try {
        client.remove(client.resourceFor(obj), ns, obj["metadata"].value("name", ""), del);
        std::cout << ref(obj) << " deleted\n";
      } catch (const kube::ApiError& e) {
        if (!e.isNotFound()) throw;
        std::cout << ref(obj) << " not found\n";
      }
    }
    if (u->deleteCrds) return;
    std::string left = describe(before);
    if (left.empty()) {
      std::cout << "no custom resources left; the CRDs stay (kubectl otel uninstall --crds deletes them)\n";
    } else {
      std::cout << "left in the cluster: " << left << "\n"
                << "the CRDs stay, and so do these objects and what was created for them; "
                   "kubectl otel uninstall --crds deletes the CRDs and every object of their kinds\n";
    }
  });
}

}  // namespace otel::plugin
