// The target allocator finding no targets: monitoring CRDs, its service account's permissions, the
// prometheusCR selectors (v1beta1 nil selects nothing), monitors that exist but are not selected, and
// monitors whose port names no Service or container port has.
#include <algorithm>
#include <functional>

#include "lib/api/collector.h"
#include "lib/doctor/checks.h"
#include "lib/manifests/rbac_review.h"

namespace otel::doctor::detail {

namespace {

struct Alloc {
  const Json* obj = nullptr;  // the v1beta1 collector (as stored) or the TargetAllocator
  ObjectRef ref;
  std::string ns, name, sa;
  Json promCR;                // spec(.targetAllocator).prometheusCR
  bool collector = true;
  bool staticScrape = false;  // the config has scrape_configs of its own
};

struct MonitorKind {
  const char* kind;
  const char* selector;    // in prometheusCR
  const char* nsSelector;
  const char* crd;
};
const MonitorKind kKinds[] = {
    {"ServiceMonitor", "serviceMonitorSelector", "serviceMonitorNamespaceSelector", "servicemonitors.monitoring.coreos.com"},
    {"PodMonitor", "podMonitorSelector", "podMonitorNamespaceSelector", "podmonitors.monitoring.coreos.com"},
};

Json withPromCR(const Alloc& a, const std::function<void(Json&)>& edit) {
  Json o = *a.obj;
  o.erase("status");
  Json& cr = a.collector ? api::ensure(o, {"spec", "targetAllocator", "prometheusCR"}) : api::ensure(o, {"spec", "prometheusCR"});
  edit(cr);
  return o;
}

std::string promPath(const Alloc& a, const std::string& field) {
  return std::string(a.collector ? "spec.targetAllocator.prometheusCR." : "spec.prometheusCR.") + field;
}

bool nsSelected(const Ctx& c, const Alloc& a, const Json* nsSel, const std::string& ns) {
  if (!nsSel || nsSel->is_null()) return ns == a.ns;  // nil: the allocator's own namespace (prometheus-operator)
  if (nsSel->is_object() && nsSel->empty()) return true;
  if (!c.view.listed("Namespace")) return true;  // cannot tell: do not accuse
  const Json* nsObj = c.view.find("Namespace", "", ns);
  return selectorMatches(nsSel, nsObj ? labelsOf(*nsObj) : api::emptyObject(), false);
}

// The namespaces a monitor looks for its Services/Pods in.
bool monitorNamespace(const Json& mon, const std::string& ns) {
  const Json* ns_sel = api::at(mon, {"spec", "namespaceSelector"});
  if (ns_sel && ns_sel->is_object()) {
    if (ns_sel->value("any", false)) return true;
    if (ns_sel->contains("matchNames") && (*ns_sel)["matchNames"].is_array() && !(*ns_sel)["matchNames"].empty())
      return std::find((*ns_sel)["matchNames"].begin(), (*ns_sel)["matchNames"].end(), Json(ns)) != (*ns_sel)["matchNames"].end();
  }
  return metaOf(mon, "namespace") == ns;
}

void portChecks(Ctx& c, const Json& mon, bool service) {
  const ObjectRef mref = ObjectRef::of(mon);
  const Json* sel = api::at(mon, {"spec", "selector"});
  std::vector<std::string> have;
  int matched = 0;
  const char* targetKind = service ? "Service" : "Pod";
  if (!c.view.listed(targetKind)) return;
  // Only its own namespace unless namespaceSelector says more (the common case reads one namespace).
  const Json* nsSel = api::at(mon, {"spec", "namespaceSelector"});
  const bool ownOnly = !nsSel || !nsSel->is_object() || (!nsSel->value("any", false) && !nsSel->contains("matchNames"));
  for (const Json* t : c.view.of(targetKind, ownOnly ? metaOf(mon, "namespace") : "")) {
    if (!ownOnly && !monitorNamespace(mon, metaOf(*t, "namespace"))) continue;
    if (!selectorMatches(sel, labelsOf(*t), true)) continue;
    ++matched;
    if (service) {
      if (const Json* ps = api::at(*t, {"spec", "ports"}); ps && ps->is_array())
        for (const auto& p : *ps)
          if (p.is_object() && p.contains("name")) have.push_back(p.value("name", ""));
    } else if (const Json* cs = api::at(*t, {"spec", "containers"}); cs && cs->is_array()) {
      for (const auto& ct : *cs)
        if (ct.is_object() && ct.contains("ports") && ct["ports"].is_array())
          for (const auto& p : ct["ports"])
            if (p.is_object() && p.contains("name")) have.push_back(p.value("name", ""));
    }
  }
  std::sort(have.begin(), have.end());
  have.erase(std::unique(have.begin(), have.end()), have.end());
  if (matched == 0) {
    Finding& f = c.add(Severity::Warning, "monitor-selects-nothing", mon, 35);
    f.cause = std::string("this ") + mref.kind + " selects no " + targetKind + ", so it gives the allocator no target";
    f.evidence.push_back(ev(mref, "spec.selector", selectorString(sel)));
    f.evidence.push_back(ev(mref, "spec.namespaceSelector", api::at(mon, {"spec", "namespaceSelector"})
                                                                ? api::at(mon, {"spec", "namespaceSelector"})->dump()
                                                                : "<none> (its own namespace)"));
    f.fix = std::string("label the ") + targetKind + "s to scrape so that spec.selector matches them, or correct spec.selector";
    return;
  }
  const char* listKey = service ? "endpoints" : "podMetricsEndpoints";
  const Json* eps = api::at(mon, {"spec", listKey});
  if (!eps || !eps->is_array()) return;
  for (size_t i = 0; i < eps->size(); ++i) {
    const Json& ep = (*eps)[i];
    if (!ep.is_object() || !ep.contains("port") || !ep["port"].is_string()) continue;
    const std::string port = ep["port"].get<std::string>();
    if (std::find(have.begin(), have.end(), port) != have.end()) continue;
    Finding& f = c.add(Severity::Error, "monitor-port-mismatch", mon, 35);
    f.cause = std::string("the ") + mref.kind + " scrapes port `" + port + "`, but no selected " + targetKind +
              " has a port of that name, so it gives no target";
    f.evidence.push_back(ev(mref, std::string("spec.") + listKey + "[" + std::to_string(i) + "].port", port));
    f.evidence.push_back(std::string("port names of the ") + std::to_string(matched) + " selected " + targetKind +
                         (matched == 1 ? "" : "s") + ": [" + [&] {
                           std::string s;
                           for (const auto& h : have) s += (s.empty() ? "" : ", ") + h;
                           return s;
                         }() + "]");
    if (!have.empty()) {
      std::string pick = have.front();
      for (const auto& h : have)
        if (h.find("metric") != std::string::npos || h.find("prom") != std::string::npos) {
          pick = h;
          break;
        }
      Json o = mon;
      o.erase("status");
      o["spec"][listKey][i]["port"] = pick;
      f.fix = "set spec." + std::string(listKey) + "[" + std::to_string(i) + "].port to a port name the " + targetKind +
              "s have (`" + pick + "`?), or name the port `" + port + "` in them";
      f.fixObjects.push_back(std::move(o));
    } else {
      f.fix = std::string("name the metrics port `") + port + "` in the " + targetKind + "s, or use a port the monitor can find";
    }
  }
}

void checkAlloc(Ctx& c, const Alloc& a) {
  if (!api::boolean(a.promCR, {"enabled"})) return;
  // 1. the monitoring.coreos.com CRDs
  if (!c.view.listed("CustomResourceDefinition")) {
    c.skipped.push_back("monitoring.coreos.com CRDs for " + a.ref.display() + ": no CustomResourceDefinitions in the input");
  } else if (!c.view.hasCrd(kKinds[0].crd) && !c.view.hasCrd(kKinds[1].crd)) {
    Finding& f = c.add(Severity::Error, "monitoring-crds-missing", a.ref, 5);
    f.cause = "prometheusCR is enabled but the cluster serves no ServiceMonitor or PodMonitor (the monitoring.coreos.com CRDs "
              "of prometheus-operator are not installed), so the allocator has nothing to watch and finds no targets";
    f.evidence.push_back(ev(a.ref, promPath(a, "enabled"), "true"));
    f.evidence.push_back("CustomResourceDefinition servicemonitors.monitoring.coreos.com: not found");
    f.evidence.push_back("CustomResourceDefinition podmonitors.monitoring.coreos.com: not found");
    f.fix = "install prometheus-operator's CRDs (its release's stripped-down-crds.yaml, e.g. kubectl apply --server-side -f "
            "https://github.com/prometheus-operator/prometheus-operator/releases/download/<version>/stripped-down-crds.yaml); "
            "the allocator picks them up without a restart";
    return;
  }
  // 2. the allocator's permissions
  if (!c.view.listed("ClusterRoleBinding") && !c.view.listed("RoleBinding")) {
    c.skipped.push_back("RBAC of " + a.ns + "/" + a.sa + ": no Roles or bindings in the input");
  } else {
    std::vector<std::string> served;
    for (const char* r : {"servicemonitors", "podmonitors", "scrapeconfigs", "probes"})
      if (c.view.hasCrd(std::string(r) + ".monitoring.coreos.com")) served.push_back(r);
    auto checks = manifests::accessChecks(manifests::targetAllocatorPrometheusCRRules(served));
    auto denied = deniedChecks(c.view, a.ns, a.sa, a.ns, checks);
    if (!denied.empty()) {
      Finding& f = c.add(Severity::Error, "ta-rbac-missing", a.ref, 10);
      f.cause = "the target allocator's service account " + a.ns + "/" + a.sa +
                " may not read what prometheusCR needs, so its watches fail and it finds no targets (/jobs stays empty)";
      for (const auto& m : manifests::missingRulesByResource(manifests::serviceAccountUser(a.ns, a.sa), denied))
        f.evidence.push_back(m);
      if (c.view.listed("ServiceAccount") && !c.view.find("ServiceAccount", a.ns, a.sa))
        f.evidence.push_back("ServiceAccount " + a.ns + "/" + a.sa + ": not found");
      // The missing rules, one rule per (group, resource).
      Json rules = Json::array();
      Json urls = Json::array();
      for (const auto& d : denied) {
        if (!d.path.empty()) {
          urls.push_back(d.path);
          continue;
        }
        auto it = std::find_if(rules.begin(), rules.end(), [&](const Json& r) {
          return r["apiGroups"][0] == d.group && r["resources"][0] == d.resource;
        });
        if (it == rules.end())
          rules.push_back({{"apiGroups", {d.group}}, {"resources", {d.resource}}, {"verbs", {d.verb}}});
        else
          (*it)["verbs"].push_back(d.verb);
      }
      if (!urls.empty()) rules.push_back({{"nonResourceURLs", urls}, {"verbs", {"get"}}});
      const std::string role = a.name + "-targetallocator-doctor";
      Json cr = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"}, {"metadata", {{"name", role}}},
                 {"rules", rules}};
      Json crb = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "ClusterRoleBinding"},
                  {"metadata", {{"name", role}}},
                  {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
                  {"subjects", Json::array({{{"kind", "ServiceAccount"}, {"name", a.sa}, {"namespace", a.ns}}})}};
      f.fix = "grant the missing rules: a ClusterRole " + role + " with them, bound to " + a.ns + "/" + a.sa +
              " (kubectl otel doctor --fix prints both, --fix --apply creates them)";
      f.fixObjects.push_back(std::move(cr));
      f.fixObjects.push_back(std::move(crb));
    }
  }
  // 3. selectors and monitors
  int existing = 0;
  bool allListed = true;
  for (const auto& k : kKinds) {
    if (!c.view.listed(k.kind)) {
      if (c.view.hasCrd(k.crd) || !c.view.listed("CustomResourceDefinition")) allListed = false;
      continue;
    }
    const Json* sel = api::at(a.promCR, {k.selector});
    const Json* nsSel = api::at(a.promCR, {k.nsSelector});
    std::vector<const Json*> all = c.view.of(k.kind), inNs, chosen;
    existing += static_cast<int>(all.size());
    for (const Json* m : all)
      if (nsSelected(c, a, nsSel, metaOf(*m, "namespace"))) inNs.push_back(m);
    for (const Json* m : inNs)
      if (selectorMatches(sel, labelsOf(*m), false)) chosen.push_back(m);
    if (all.empty()) continue;
    if (!sel || sel->is_null()) {
      Finding& f = c.add(Severity::Error, "ta-nil-selector", a.ref, 30);
      f.cause = std::string("prometheusCR.") + k.selector + " is not set: in v1beta1 a nil selector selects no " + k.kind +
                " (in v1alpha1 a missing selector meant all of them), so the allocator ignores the " +
                std::to_string(all.size()) + " that exist (upstream #2993)";
      f.evidence.push_back(ev(a.ref, promPath(a, k.selector), "<nil>"));
      f.evidence.push_back(ObjectRef::of(*all.front()).display() + " exists" +
                           (all.size() > 1 ? " (and " + std::to_string(all.size() - 1) + " more)" : ""));
      f.fix = std::string("select them all with an empty selector (or a matchLabels of your choice):\n  ") + k.selector + ": {}";
      f.fixObjects.push_back(withPromCR(a, [&](Json& cr) { cr[k.selector] = Json::object(); }));
      continue;
    }
    if (!chosen.empty()) {
      for (const Json* m : chosen) portChecks(c, *m, std::string(k.kind) == "ServiceMonitor");
      continue;
    }
    Finding& f = c.add(Severity::Error, "ta-selector-mismatch", a.ref, 30);
    f.evidence.push_back(ev(a.ref, promPath(a, k.selector), selectorString(sel)));
    f.evidence.push_back(ev(a.ref, promPath(a, k.nsSelector), selectorString(nsSel)));
    if (inNs.empty()) {
      f.cause = std::string("no ") + k.kind + " is in a namespace that prometheusCR." + k.nsSelector +
                " selects, so the allocator ignores the " + std::to_string(all.size()) + " that exist";
      for (size_t i = 0; i < std::min<size_t>(all.size(), 3); ++i)
        f.evidence.push_back(ObjectRef::of(*all[i]).display() + " is in namespace " + metaOf(*all[i], "namespace"));
      f.fix = std::string("select every namespace:\n  ") + k.nsSelector + ": {}";
      f.fixObjects.push_back(withPromCR(a, [&](Json& cr) { cr[k.nsSelector] = Json::object(); }));
      continue;
    }
    f.cause = std::string("prometheusCR.") + k.selector + " matches none of the " + std::to_string(inNs.size()) + " " +
              k.kind + (inNs.size() == 1 ? "" : "s") + " in the selected namespaces, so the allocator ignores them";
    for (size_t i = 0; i < std::min<size_t>(inNs.size(), 3); ++i) {
      const Json& l = labelsOf(*inNs[i]);
      f.evidence.push_back(ev(*inNs[i], "metadata.labels", l.empty() ? "{}" : l.dump()));
    }
    const Json* ml = sel->is_object() ? api::at(*sel, {"matchLabels"}) : nullptr;
    const bool onlyLabels = ml && ml->is_object() && !sel->contains("matchExpressions");
    if (onlyLabels) {
      for (const Json* m : inNs) {
        Json o = *m;
        o.erase("status");
        for (const auto& [lk, lv] : ml->items()) o["metadata"]["labels"][lk] = lv;
        f.fixObjects.push_back(std::move(o));
      }
      f.fix = std::string("label the ") + k.kind + "s with " + ml->dump() + " (kubectl label " + k.kind + " ... ), or widen prometheusCR." +
              k.selector;
    } else {
      f.fix = std::string("widen prometheusCR.") + k.selector + " (`{}` selects all), or label the " + k.kind + "s it should select";
      f.fixObjects.push_back(withPromCR(a, [&](Json& cr) { cr[k.selector] = Json::object(); }));
    }
  }
  if (allListed && existing == 0) {
    Finding& f = c.add(a.staticScrape ? Severity::Warning : Severity::Error, "ta-no-monitors", a.ref, 32);
    f.cause = "prometheusCR is enabled but no ServiceMonitor or PodMonitor exists, so the allocator finds no targets from CRs" +
              std::string(a.staticScrape ? " (only the static scrape_configs)" : "");
    f.evidence.push_back(ev(a.ref, promPath(a, "enabled"), "true"));
    f.evidence.push_back("ServiceMonitors: 0, PodMonitors: 0 in the view");
    f.fix = "create a ServiceMonitor for the Service to scrape, e.g.:\n" +
            yamlSnippet(Json{{"apiVersion", "monitoring.coreos.com/v1"},
                             {"kind", "ServiceMonitor"},
                             {"metadata", {{"name", "my-app"}, {"namespace", a.ns}}},
                             {"spec",
                              {{"selector", {{"matchLabels", {{"app", "my-app"}}}}},
                               {"endpoints", Json::array({{{"port", "metrics"}}})}}}});
  }
}

}  // namespace

void checkAllocators(Ctx& c) {
  for (const auto& col : c.collectors) {
    if (!api::boolean(col.beta, {"spec", "targetAllocator", "enabled"})) continue;
    Alloc a;
    a.obj = &col.plain;
    a.ref = col.ref;
    a.ns = col.ns;
    a.name = col.name;
    a.sa = api::str(col.beta, {"spec", "targetAllocator", "serviceAccount"}, col.name + "-targetallocator");
    if (const Json* p = api::at(col.beta, {"spec", "targetAllocator", "prometheusCR"})) a.promCR = *p;
    const Json* sc = api::at(col.beta, {"spec", "config", "receivers", "prometheus", "config", "scrape_configs"});
    a.staticScrape = sc && sc->is_array() && !sc->empty();
    checkAlloc(c, a);
  }
  for (const Json* t : c.view.of("TargetAllocator")) {
    Alloc a;
    a.obj = t;
    a.collector = false;
    a.ref = ObjectRef::of(*t);
    a.ns = metaOf(*t, "namespace").empty() ? "default" : metaOf(*t, "namespace");
    if (!c.inScope(a.ns)) continue;
    a.name = metaOf(*t, "name");
    a.sa = api::str(*t, {"spec", "serviceAccount"}, a.name + "-targetallocator");
    if (const Json* p = api::at(*t, {"spec", "prometheusCR"})) a.promCR = *p;
    const Json* sc = api::at(*t, {"spec", "scrapeConfigs"});
    a.staticScrape = sc && sc->is_array() && !sc->empty();
    checkAlloc(c, a);
  }
}

}  // namespace otel::doctor::detail
