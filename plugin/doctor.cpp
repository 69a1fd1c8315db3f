// `kubectl otel doctor [COLLECTOR] [-n NS | -A] [-f FILE|DIR|-] [--desired FILE] [--error TEXT] [--fix [--apply]]`:
// fills a ClusterView from the cluster or from files, runs lib/doctor's checks, prints the findings.
// Exit 0 healthy, 1 problems found, 2 could not run.
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "lib/api/common.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/doctor/doctor.h"
#include "lib/doctor/match.h"
#include "lib/inject/diff.h"
#include "lib/kube/client.h"
#include "plugin/kube_options.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct Opts {
  std::string collector;
  std::vector<std::string> files;
  bool recursive = false;
  std::vector<std::string> desired;
  std::vector<std::string> errors;
  bool fix = false;
  bool apply = false;
  std::string now;
  int tail = 50;
  bool listChecks = false;
};

struct LiveKind {
  const char* apiVersion;
  const char* kind;
  bool namespaced;
  const char* fieldSelector = "";
};

// What live doctor lists (namespaced kinds in the scope's namespaces; custom kinds only when served).
const LiveKind kLiveKinds[] = {
    {"v1", "Namespace", false},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition", false},
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", false},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", false},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", false},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", false},
    {"opentelemetry.io/v1beta1", "OpenTelemetryCollector", true},
    {"opentelemetry.io/v1alpha1", "Instrumentation", true},
    {"opentelemetry.io/v1alpha1", "TargetAllocator", true},
    {"opentelemetry.io/v1alpha1", "OpAMPBridge", true},
    {"apps/v1", "Deployment", true},
    {"apps/v1", "DaemonSet", true},
    {"apps/v1", "StatefulSet", true},
    {"apps/v1", "ReplicaSet", true},
    {"v1", "Pod", true},
    {"v1", "Service", true},
    {"discovery.k8s.io/v1", "EndpointSlice", true},
    {"v1", "ServiceAccount", true},
    {"rbac.authorization.k8s.io/v1", "Role", true},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", true},
    {"monitoring.coreos.com/v1", "ServiceMonitor", true},
    {"monitoring.coreos.com/v1", "PodMonitor", true},
    {"v1", "Event", true, "type=Warning"},
};


class LiveReader {
 public:
  LiveReader(kube::Client& client, doctor::ClusterView& view) : client_(client), view_(view) {}

  // Lists one kind in `ns` ("" = all namespaces / cluster scope). Not served: nothing (and not listed).
  void list(const LiveKind& k, const std::string& ns) {
    kube::ResourceId id;
    try {
      id = client_.resourceFor(k.apiVersion, k.kind);
    } catch (const std::exception&) {
      return;  // not served by this cluster
    }
    kube::ListOptions lo;
    lo.fieldSelector = k.fieldSelector;
    try {
      Json list = client_.list(id, k.namespaced ? ns : "", lo);
      if (list.contains("items") && list["items"].is_array())
        for (auto& item : list["items"]) {
          if (!item.contains("apiVersion")) item["apiVersion"] = k.apiVersion;
          if (!item.contains("kind")) item["kind"] = k.kind;
          view_.add(std::move(item));
        }
      if (ns.empty() || !k.namespaced) view_.markListed(k.kind);
      else nsListed_[k.kind] = true;
    } catch (const kube::ApiError& e) {
      view_.skip(std::string(k.kind) + (ns.empty() ? "" : " in " + ns) + ": " +
                 (e.isForbidden() ? "forbidden for the current user (RBAC)" : std::string(e.what())));
    }
  }

  // Marks kinds listed in every namespace of the scope as read in full.
  void finishNamespaced() {
    for (const auto& [k, ok] : nsListed_)
      if (ok) view_.markListed(k);
  }

  void getSecret(const std::string& ns, const std::string& name) {
    try {
      kube::ResourceId id = client_.resourceFor("v1", "Secret");
      Json s = client_.get(id, ns, name);
      if (!s.contains("kind")) s["kind"] = "Secret";
      if (!s.contains("apiVersion")) s["apiVersion"] = "v1";
      view_.add(std::move(s));  // the view keeps only the public certificates
    } catch (const kube::ApiError& e) {
      if (e.isForbidden()) view_.skip("Secret " + ns + "/" + name + ": forbidden for the current user (RBAC)");
    } catch (const std::exception&) {
    }
  }

  void log(const std::string& ns, const std::string& pod, const std::string& container, bool previous, int tail) {
    kube::HttpRequest req;
    req.path = "/api/v1/namespaces/" + kube::urlEncode(ns) + "/pods/" + kube::urlEncode(pod) + "/log?container=" +
               kube::urlEncode(container) + "&tailLines=" + std::to_string(tail) + (previous ? "&previous=true" : "");
    req.accept = "text/plain";
    try {
      kube::HttpResponse r = client_.request(req);
      if (r.status != 200) {
        view_.skip("log of pod " + ns + "/" + pod + " container " + container + ": HTTP " + std::to_string(r.status));
        return;
      }
      doctor::PodLog l{ns, pod, container, {}};
      std::string line;
      for (char ch : r.body) {
        if (ch == '\n') {
          l.lines.push_back(line);
          line.clear();
        } else {
          line += ch;
        }
      }
      if (!line.empty()) l.lines.push_back(line);
      view_.addLog(std::move(l));
    } catch (const std::exception& e) {
      view_.skip("log of pod " + ns + "/" + pod + ": " + e.what());
    }
  }

 private:
  kube::Client& client_;
  doctor::ClusterView& view_;
  std::map<std::string, bool> nsListed_;
};

// Operator and OpAMP bridge pods: their logs say why a collector was refused or not reconciled, so they are
// read even when the pod is healthy.
bool isOperatorPod(const Json& pod) {
  const Json* l = api::at(pod, {"metadata", "labels"});
  if (!l || !l->is_object()) return false;
  const std::string name = l->value("app.kubernetes.io/name", "");
  const std::string comp = l->value("app.kubernetes.io/component", "");
  return name == "kubectl-otel" || name == "opentelemetry-operator" || comp == "opentelemetry-opamp-bridge";
}

bool isOtelPod(const Json& pod) {
  if (isOperatorPod(pod)) return true;
  const Json* l = api::at(pod, {"metadata", "labels"});
  if (l && l->is_object()) {
    const std::string comp = l->value("app.kubernetes.io/component", "");
    if (comp == "opentelemetry-collector" || comp == "opentelemetry-targetallocator") return true;
  }
  if (const Json* cs = api::at(pod, {"spec", "containers"}); cs && cs->is_array())
    for (const auto& c : *cs)
      if (c.is_object() && c.value("name", "") == "otc-container") return true;
  return false;
}

doctor::ClusterView liveView(const GlobalOptions& g, const Opts& o, kube::Client& client) {
  doctor::ClusterView view;
  LiveReader r(client, view);
  const std::string ns = g.allNamespaces || !client.config().nsExplicit ? "" : client.config().ns;
  for (const auto& k : kLiveKinds)
    if (!k.namespaced) r.list(k, "");
  for (const auto& k : kLiveKinds)
    if (k.namespaced) r.list(k, ns);
  // With -n: the operator's namespaces too (its Deployment, Services, EndpointSlices, pods), found from the
  // webhook configurations.
  std::set<std::string> extra;
  for (const char* kind : {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
    for (const Json* m : view.of(kind))
      if (const Json* whs = api::at(*m, {"webhooks"}); whs && whs->is_array())
        for (const auto& w : *whs)
          if (std::string s = api::str(w, {"clientConfig", "service", "namespace"}); !s.empty()) extra.insert(s);
  if (!ns.empty()) {
    extra.erase(ns);
    for (const auto& e : extra)
      for (const auto& k : kLiveKinds) {
        std::string kind = k.kind;
        if (kind == "Deployment" || kind == "Pod" || kind == "Service" || kind == "EndpointSlice") r.list(k, e);
      }
    extra.insert(ns);
  }
  r.finishNamespaced();
  for (const auto& e : extra)
    for (const auto& s : doctor::webhookCertificateSecrets()) r.getSecret(e, s);
  // Logs: the last lines of otel pods that are not running cleanly (at most 20 containers).
  int budget = 20;
  for (const Json* pod : view.of("Pod")) {
    if (!isOtelPod(*pod)) continue;
    if (const Json* st = api::at(*pod, {"status", "containerStatuses"}); st && st->is_array())
      for (const auto& cs : *st) {
        const bool restarted = api::integer(cs, {"restartCount"}, 0) > 0;
        const bool ready = api::boolean(cs, {"ready"}, false);
        if ((ready && !restarted && !isOperatorPod(*pod)) || budget <= 0) continue;
        --budget;
        r.log(doctor::metaOf(*pod, "namespace"), doctor::metaOf(*pod, "name"), cs.value("name", ""), restarted, o.tail);
      }
  }
  view.defaultNamespace = client.config().ns;
  return view;
}

std::string refName(const Json& o) { return doctor::ObjectRef::of(o).display(); }

const Json* current(const doctor::ClusterView& view, const Json& o) {
  const auto r = doctor::ObjectRef::of(o);
  return view.find(r.kind, r.ns, r.name);
}

Json clean(Json o) {
  if (o.contains("metadata") && o["metadata"].is_object())
    for (const char* k : {"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"}) o["metadata"].erase(k);
  o.erase("status");
  return o;
}

void printFixes(const doctor::ClusterView& view, const doctor::Report& report, const std::string& output) {
  std::vector<Json> cluster = doctor::fixObjects(report, false), desired = doctor::fixObjects(report, true);
  // Fixes that recreate objects or pods: commands only (--apply never deletes).
  std::string commands;
  for (const auto& f : report.findings)
    if (!f.fixDeletes.empty() || !f.fixRecreatePods.empty()) {
      std::string fix = f.fix;
      for (auto& ch : fix)
        if (ch == '\n') ch = ' ';
      commands += "# " + f.check + " (" + f.object.display() + "): " + fix + "\n";
    }
  if (cluster.empty() && desired.empty()) {
    std::cout << (commands.empty() ? "No finding has a fix that is an object change.\n" : commands);
    return;
  }
  if (output == "yaml") {
    std::vector<Json> all;
    for (const auto& o : cluster) all.push_back(clean(o));
    for (const auto& o : desired) all.push_back(o);
    std::cout << toYamlStream(all);
    return;
  }
  for (const auto& o : cluster) {
    const Json* cur = current(view, o);
    std::cout << inject::unifiedDiff(cur ? toYaml(clean(*cur)) : "", toYaml(clean(o)),
                                     {cur ? "live/" + refName(o) : "/dev/null", "fixed/" + refName(o)});
  }
  for (const auto& o : desired) {
    const Json* cur = nullptr;
    for (const auto& d : view.desired)
      if (refName(d) == refName(o)) cur = &d;
    std::cout << inject::unifiedDiff(cur ? toYaml(*cur) : "", toYaml(o), {"desired/" + refName(o), "fixed/" + refName(o)});
  }
  std::cout << commands;
}

void applyFixes(kube::Client& client, const doctor::Report& report) {
  std::vector<Json> objs = doctor::fixObjects(report, false);
  if (!doctor::fixObjects(report, true).empty())
    std::cout << "the manifest you apply (--desired) needs the changes above; doctor does not apply it\n";
  kube::WriteOptions dry;
  dry.fieldManager = "kubectl-otel-doctor";
  dry.dryRun = true;
  kube::WriteOptions real = dry;
  real.dryRun = false;
  // Server-side dry run of every change first: nothing is written unless all of them would pass.
  std::vector<bool> exists;
  for (auto& o : objs) {
    kube::ResourceId id = client.resourceFor(o);
    const auto r = doctor::ObjectRef::of(o);
    bool there = true;
    try {
      client.get(id, r.ns, r.name);
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
      there = false;
    }
    exists.push_back(there);
    if (there)
      client.update(o, dry);
    else
      client.create(o, dry);
  }
  for (size_t i = 0; i < objs.size(); ++i) {
    if (exists[i])
      client.update(objs[i], real);
    else
      client.create(objs[i], real);
    std::cout << refName(objs[i]) << (exists[i] ? " updated" : " created") << "\n";
  }
}

}  // namespace

void addDoctorVerb(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("doctor", "Find why a setup fails: the root cause first, with evidence and the fix");
  cmd->add_option("collector", o->collector, "Only this collector's own checks (the operator's checks always run)");
  cmd->add_option("-f,--filename", o->files,
                  "Check these files (kubectl get -o yaml output, multi-document or kind: List; DIR or -) instead of the cluster");
  cmd->add_flag("-R,--recursive", o->recursive, "Read folders given to -f recursively");
  cmd->add_option("--desired", o->desired, "The object(s) you are trying to apply: what applying them would do, or why it is refused");
  cmd->add_option("--error", o->errors, "An error message you saw (kubectl apply, an operator or allocator log): rank its causes first");
  cmd->add_flag("--fix", o->fix, "Print the corrected objects of fixable findings as a diff (-o yaml: the objects)");
  cmd->add_flag("--apply", o->apply, "With --fix: apply the corrected objects after a server-side dry run (live only)");
  cmd->add_option("--now", o->now, "Evaluate certificate expiry at this time (RFC 3339; default: now), for old support bundles");
  cmd->add_option("--tail", o->tail, "Log lines read from each failing otel container (live)")->capture_default_str();
  cmd->add_flag("--list-checks", o->listChecks, "List every check and exit");
  cmd->callback([o, &global] {
    if (o->listChecks) {
      for (const auto& c : doctor::checks()) std::cout << c.id << "\t" << c.what << "\n";
      return;
    }
    int code = kExitOk;
    try {
      if (o->apply && !o->fix) throw Error("--apply needs --fix", "--apply");
      if (o->apply && !o->files.empty()) throw Error("--fix --apply changes the cluster; it cannot be used with -f", "--apply");
      if (!global.output.empty() && global.output != "json" && global.output != "yaml" && global.output != "text")
        throw Error("unknown output format \"" + global.output + "\" (text, json; yaml with --fix)", "-o");
      bool stdinUsed = false;
      for (const auto& f : o->files) stdinUsed = stdinUsed || f == "-";
      for (const auto& f : o->desired) stdinUsed = stdinUsed || f == "-";
      doctor::ClusterView view;
      std::unique_ptr<kube::Client> client;
      if (!o->files.empty()) {
        std::vector<YamlDocument> docs;
        YamlBudget budget;
        for (const auto& path : expandManifestPaths(o->files, o->recursive)) {
          auto part = parseYamlStream(path == "-" ? readStdin() : readFile(path), path == "-" ? "<stdin>" : path, {}, &budget);
          doctor::checkListDocuments(part);
          for (auto& d : part) docs.push_back(std::move(d));
        }
        view = doctor::viewFromDocuments(flattenLists(std::move(docs)));
        view.defaultNamespace = global.ns.empty() ? "default" : global.ns;
      } else {
        client = std::make_unique<kube::Client>(cliRestConfig(global, stdinUsed));
        view = liveView(global, *o, *client);
        if (view.size() == 0 && !view.skipped().empty())
          throw Error("could not read the cluster: " + view.skipped().front(), "doctor",
                      "kubectl auth can-i list pods -A tells what the current user may read");
      }
      if (!o->desired.empty()) {
        view.desired = doctor::desiredFromDocuments(readManifests(o->desired, false));
        view.desiredSource.clear();
        for (const auto& f : o->desired) view.desiredSource += (view.desiredSource.empty() ? "" : " -f ") + f;
      }
      view.errorTexts = o->errors;
      if (!o->now.empty()) {
        view.now = doctor::parseTime(o->now);
        if (view.now < 0) throw Error("not an RFC 3339 UTC time (2026-01-02T15:04:05Z): " + o->now, "--now");
      } else {
        view.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      }
      doctor::Options dopts;
      dopts.collector = o->collector;
      if (!global.allNamespaces && !global.ns.empty()) dopts.ns = global.ns;
      doctor::Report report = doctor::diagnose(view, dopts);
      if (o->fix) {
        printFixes(view, report, global.output);
        if (o->apply) applyFixes(*client, report);
      } else if (global.output == "json") {
        std::cout << doctor::renderJson(report).dump(2) << "\n";
      } else {
        std::cout << doctor::renderText(report);
      }
      code = report.problems() ? kExitError : kExitOk;
    } catch (const Error& e) {
      std::cerr << "error: " << e.oneLine() << "\n";
      if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
      throw ExitCode{kExitUsage};
    }
    if (code != kExitOk) throw ExitCode{code};
  });
}

}  // namespace otel::plugin
