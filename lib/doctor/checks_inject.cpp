// Injection that did not happen: the sidecar or instrumentation an annotation asks for, and why the pod
// does not have it (nothing to inject, several candidates, a container name that does not exist, a pod
// created before the webhook, the collector/Instrumentation or the annotation existed).
#include <algorithm>

#include "lib/api/collector.h"
#include "lib/api/instrumentation.h"
#include "lib/doctor/checks.h"
#include "lib/inject/inject.h"
#include "lib/inject/sidecar.h"

namespace otel::doctor::detail {

namespace {

bool hasContainer(const Json& pod, const std::string& name) {
  for (const char* list : {"containers", "initContainers"})
    if (const Json* cs = api::at(pod, {"spec", list}); cs && cs->is_array())
      for (const auto& ct : *cs)
        if (ct.is_object() && ct.value("name", "") == name) return true;
  return false;
}

std::vector<std::string> containerNames(const Json& pod) {
  std::vector<std::string> out;
  if (const Json* cs = api::at(pod, {"spec", "containers"}); cs && cs->is_array())
    for (const auto& ct : *cs)
      if (ct.is_object()) out.push_back(ct.value("name", ""));
  return out;
}


// The workload that made the pod (Deployment through its ReplicaSet, StatefulSet, DaemonSet), or null.
const Json* ownerWorkload(const Ctx& c, const Json& pod, std::string& kind) {
  const Json* refs = api::at(pod, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return nullptr;
  const std::string ns = metaOf(pod, "namespace");
  for (const auto& r : *refs) {
    if (!r.is_object()) continue;
    const std::string k = r.value("kind", ""), n = r.value("name", "");
    if (k == "ReplicaSet") {
      std::string dep;
      if (const Json* rs = c.view.find("ReplicaSet", ns, n)) {
        if (const Json* rr = api::at(*rs, {"metadata", "ownerReferences"}); rr && rr->is_array())
          for (const auto& o : *rr)
            if (o.is_object() && o.value("kind", "") == "Deployment") dep = o.value("name", "");
      } else if (auto dash = n.rfind('-'); dash != std::string::npos) {
        dep = n.substr(0, dash);
      }
      if (const Json* d = c.view.find("Deployment", ns, dep)) {
        kind = "deployment";
        return d;
      }
    } else if (k == "StatefulSet" || k == "DaemonSet") {
      if (const Json* w = c.view.find(k, ns, n)) {
        kind = k == "StatefulSet" ? "statefulset" : "daemonset";
        return w;
      }
    }
  }
  return nullptr;
}

std::string restartFix(const Ctx& c, const Json& pod) {
  std::string kind;
  const std::string ns = metaOf(pod, "namespace");
  if (const Json* w = ownerWorkload(c, pod, kind))
    return "recreate the pods so that the webhook sees them: kubectl rollout restart " + kind + "/" + metaOf(*w, "name") + " -n " + ns;
  return "recreate the pod so that the webhook sees it: kubectl delete pod " + metaOf(pod, "name") + " -n " + ns +
         " (its controller makes a new one; a bare pod must be applied again)";
}

// The MutatingWebhookConfiguration entry that mutates pods, or null.
const Json* podWebhook(const Ctx& c, const Json** config) {
  for (const Json* m : c.view.of("MutatingWebhookConfiguration"))
    if (const Json* whs = api::at(*m, {"webhooks"}); whs && whs->is_array())
      for (const auto& w : *whs) {
        if (!w.is_object() || !w.contains("rules") || !w["rules"].is_array()) continue;
        for (const auto& r : w["rules"])
          if (r.is_object() && r.contains("resources") && r["resources"].is_array())
            for (const auto& res : r["resources"])
              if (res == "pods" && (api::str(w, {"clientConfig", "service", "path"}) == "/mutate-v1-pod" ||
                                    api::str(w, {"clientConfig", "url"}).find("/mutate-v1-pod") != std::string::npos)) {
                *config = m;
                return &w;
              }
      }
  return nullptr;
}

std::int64_t createdAt(const Json& obj) { return parseTime(metaOf(obj, "creationTimestamp")); }

// Why a pod that asks for something does not have it although the selection is fine.
void notApplied(Ctx& c, const Json& pod, const std::string& what, const Json* target, const std::string& annKey,
                bool onPod) {
  const ObjectRef pref = ObjectRef::of(pod);
  const std::int64_t created = createdAt(pod);
  const Json* mwc = nullptr;
  const Json* wh = podWebhook(c, &mwc);
  Finding* f = nullptr;
  if (!wh && c.view.listed("MutatingWebhookConfiguration")) {
    f = &c.add(Severity::Error, "inject-no-webhook", pod, 40);
    f->cause = "the pod asks for " + what + " but no mutating webhook for pods is registered, so nothing injects it";
    f->evidence.push_back("MutatingWebhookConfigurations: none with /mutate-v1-pod");
    f->fix = "install the operator (kubectl otel install), then " + restartFix(c, pod);
    return;
  }
  if (wh && mwc && created >= 0 && createdAt(*mwc) > created) {
    f = &c.add(Severity::Error, "inject-pod-predates", pod, 40);
    f->cause = "the pod was created before the pod webhook was registered; injection happens only when a pod is created";
    f->evidence.push_back(ev(pref, "metadata.creationTimestamp", metaOf(pod, "creationTimestamp")));
    f->evidence.push_back(ev(*mwc, "metadata.creationTimestamp", metaOf(*mwc, "creationTimestamp")));
  } else if (target && created >= 0 && createdAt(*target) > created) {
    f = &c.add(Severity::Error, "inject-pod-predates", pod, 40);
    f->cause = "the pod was created before " + ObjectRef::of(*target).display() +
               " existed, so the webhook had nothing to inject then; injection happens only when a pod is created";
    f->evidence.push_back(ev(pref, "metadata.creationTimestamp", metaOf(pod, "creationTimestamp")));
    f->evidence.push_back(ev(*target, "metadata.creationTimestamp", metaOf(*target, "creationTimestamp")));
  } else if (!onPod) {
    std::string kind;
    const Json* w = ownerWorkload(c, pod, kind);
    f = &c.add(Severity::Error, "inject-pod-predates", pod, 40);
    f->cause = "the annotation " + annKey + " is on the " + (w ? kind + "'s template" : std::string("namespace")) +
               " but not on the pod: the pod was created before it was added, and injection happens only at creation";
    f->evidence.push_back(ev(pref, "metadata.annotations[" + annKey + "]", "<not set>"));
    if (w)
      f->evidence.push_back(ev(*w, "spec.template.metadata.annotations[" + annKey + "]",
                               api::str(*w, {"spec", "template", "metadata", "annotations", annKey})));
  } else {
    f = &c.add(Severity::Warning, "inject-not-applied", pod, 45);
    f->cause = "the pod asks for " + what + " and the operator has what it needs, but the pod does not have it: the webhook " +
               "did not answer when the pod was created (failurePolicy: Ignore admits the pod unchanged)";
    if (wh) f->evidence.push_back("webhook " + api::str(*wh, {"name"}) + ": failurePolicy = " + api::str(*wh, {"failurePolicy"}, "Fail"));
  }
  f->fix = restartFix(c, pod);
  f->fixRecreatePods.push_back(pref);
}

}  // namespace

void checkInjection(Ctx& c) {
  inject::Catalog catalog;
  for (const Json* x : c.view.of("Instrumentation")) catalog.instrumentations.push_back(*x);
  for (const Json* x : c.view.of("OpenTelemetryCollector")) catalog.collectors.push_back(*x);
  for (const Json* pod : c.view.of("Pod")) {
    const std::string ns = metaOf(*pod, "namespace").empty() ? "default" : metaOf(*pod, "namespace");
    if (!c.inScope(ns)) continue;
    if (api::str(*pod, {"status", "phase"}) == "Succeeded" || api::str(*pod, {"status", "phase"}) == "Failed") continue;
    const Json* nsObj = c.view.find("Namespace", "", ns);
    const Json& nsAnn = nsObj ? annotationsOf(*nsObj) : api::emptyObject();
    const Json& podAnn = annotationsOf(*pod);
    const ObjectRef pref = ObjectRef::of(*pod);
    inject::PodContext ctx;
    ctx.ns = ns;
    ctx.nsAnnotations = nsAnn;
    // Annotations on the owner's template that the pod does not carry: the pod predates them.
    {
      std::string kind;
      if (const Json* w = ownerWorkload(c, *pod, kind)) {
        const Json* ta = api::at(*w, {"spec", "template", "metadata", "annotations"});
        if (ta && ta->is_object())
          for (const auto& [k, v] : ta->items()) {
            const bool injectKey = k == inject::kSidecarAnnotation || k.rfind("instrumentation.opentelemetry.io/inject-", 0) == 0;
            if (!injectKey || !v.is_string() || v.get<std::string>() == "false" || podAnn.contains(k) || nsAnn.contains(k)) continue;
            notApplied(c, *pod, "injection", nullptr, k, false);
            break;
          }
      }
    }
    // Sidecar.
    const std::string sv = inject::effectiveAnnotation(nsAnn, podAnn, inject::kSidecarAnnotation);
    if (!sv.empty() && sv != "false" && !hasContainer(*pod, inject::kSidecarContainerName)) {
      std::string err;
      const Json* col = inject::selectCollector(sv, ctx, catalog, err);
      const std::string where = podAnn.contains(inject::kSidecarAnnotation) ? "pod" : "namespace " + ns;
      if (!col) {
        std::vector<std::string> sidecars;
        for (const Json* x : c.view.of("OpenTelemetryCollector", ns))
          sidecars.push_back(metaOf(*x, "name") + " (mode " + api::CollectorView(api::toV1beta1(*x)).mode() + ")");
        Finding& f = c.add(Severity::Error, "inject-no-sidecar-collector", *pod, 40);
        f.cause = "the pod asks for a collector sidecar (" + std::string(inject::kSidecarAnnotation) + ": " + sv +
                  " on the " + where + ") but the operator finds no collector to inject: " + err;
        f.evidence.push_back(ev(pref, "annotation " + std::string(inject::kSidecarAnnotation), sv));
        std::string list;
        for (const auto& s : sidecars) list += (list.empty() ? "" : ", ") + s;
        f.evidence.push_back("collectors in namespace " + ns + ": " + (list.empty() ? "none" : list));
        f.fix = "create a collector with spec.mode: sidecar in namespace " + ns +
                " (kubectl otel create collector NAME --mode sidecar -n " + ns + "), or name an existing one in the annotation, "
                "then recreate the pod";
        // The collector the annotation asks for, as a minimal sidecar (OTLP in, debug out: replace the exporter).
        std::string cns = ns, cname = sv == "true" ? "sidecar" : sv;
        if (auto slash = sv.find('/'); slash != std::string::npos) {
          cns = sv.substr(0, slash);
          cname = sv.substr(slash + 1);
        }
        if (!c.view.find("OpenTelemetryCollector", cns, cname)) {
          Json sidecarCol = Json::parse(R"({"apiVersion":"opentelemetry.io/v1beta1","kind":"OpenTelemetryCollector",
            "metadata":{},"spec":{"mode":"sidecar","config":{"receivers":{"otlp":{"protocols":{"grpc":{},"http":{}}}},
            "exporters":{"debug":{}},"service":{"pipelines":{"traces":{"receivers":["otlp"],"exporters":["debug"]}}}}}})");
          sidecarCol["metadata"] = {{"name", cname}, {"namespace", cns}};
          f.fixObjects.push_back(std::move(sidecarCol));
          f.fixRecreatePods.push_back(pref);
        }
      } else {
        notApplied(c, *pod, "a collector sidecar", col, inject::kSidecarAnnotation, podAnn.contains(inject::kSidecarAnnotation));
      }
    }
    // Instrumentation.
    for (api::Language l : api::kAllLanguages) {
      const std::string key = inject::injectAnnotation(l);
      const std::string v = inject::effectiveAnnotation(nsAnn, podAnn, key);
      if (v.empty() || v == "false") continue;
      // Container names the annotations name must exist.
      const std::vector<std::string> have = containerNames(*pod);
      for (const std::string& ck : {std::string(inject::kContainerNamesAnnotation), inject::containerNamesAnnotation(l)}) {
        const std::string names = inject::effectiveAnnotation(nsAnn, podAnn, ck);
        if (names.empty()) continue;
        std::vector<std::string> missing, kept;
        for (const auto& n : inject::splitCommas(names))
          (std::find(have.begin(), have.end(), n) == have.end() ? missing : kept).push_back(n);
        if (missing.empty()) continue;
        Finding& f = c.add(Severity::Error, "inject-container-missing", *pod, 40);
        f.cause = "the annotation " + ck + " names container" + (missing.size() > 1 ? "s " : " ") + [&] {
          std::string s;
          for (const auto& m : missing) s += (s.empty() ? "" : ", ") + m;
          return s;
        }() + " that the pod does not have, so " + api::languageName(l) + " is not injected there";
        f.evidence.push_back(ev(pref, "annotation " + ck, names));
        std::string hl;
        for (const auto& h : have) hl += (hl.empty() ? "" : ", ") + h;
        f.evidence.push_back(ev(pref, "spec.containers[].name", "[" + hl + "]"));
        Json o = *pod;
        o.erase("status");
        std::string fixed;
        for (const auto& k : (kept.empty() ? std::vector<std::string>{have.empty() ? "" : have.front()} : kept))
          fixed += (fixed.empty() ? "" : ",") + k;
        o["metadata"]["annotations"][ck] = fixed;
        f.fix = "name existing containers: " + ck + ": \"" + fixed + "\" (on the workload's pod template), then recreate the pods";
        f.fixObjects.push_back(std::move(o));
      }
      if (inject::isAutoInstrumentationInjected(*pod)) continue;
      std::vector<const Json*> candidates;
      const Json* chosen = nullptr;
      if (v == "true") {
        candidates = c.view.of("Instrumentation", ns);
        if (candidates.size() == 1) chosen = candidates.front();
      } else {
        std::string ins = ns, name = v;
        if (auto slash = v.find('/'); slash != std::string::npos) {
          ins = v.substr(0, slash);
          name = v.substr(slash + 1);
        }
        chosen = c.view.find("Instrumentation", ins, name);
      }
      const std::string where = podAnn.contains(key) ? "pod" : "namespace " + ns;
      if (!chosen && c.view.listed("Instrumentation")) {
        const bool several = v == "true" && candidates.size() > 1;
        Finding& f = c.add(Severity::Error, several ? "inject-ambiguous-instrumentation" : "inject-no-instrumentation", *pod, 40);
        f.cause = "the pod asks for " + api::languageName(l) + " instrumentation (" + key + ": " + v + " on the " + where +
                  ") but " +
                  (several ? "namespace " + ns + " has " + std::to_string(candidates.size()) +
                                 " Instrumentations and the annotation does not say which one"
                           : (v == "true" ? "namespace " + ns + " has no Instrumentation" : "Instrumentation " + v + " does not exist"));
        f.evidence.push_back(ev(pref, "annotation " + key, v));
        std::string list;
        for (const Json* x : c.view.of("Instrumentation")) list += (list.empty() ? "" : ", ") + ObjectRef::of(*x).display();
        f.evidence.push_back("Instrumentations: " + (list.empty() ? std::string("none") : list));
        f.fix = several ? "name one in the annotation: " + key + ": \"" + metaOf(*candidates.front(), "name") + "\""
                        : "create an Instrumentation in " + ns + " (kubectl otel create instrumentation NAME -n " + ns +
                              " --endpoint http://COLLECTOR:4318), then recreate the pod";
        f.fixRecreatePods.push_back(pref);
        if (several) {
          Json o = *pod;
          o.erase("status");
          o["metadata"]["annotations"][key] = metaOf(*candidates.front(), "name");
          f.fixObjects.push_back(std::move(o));
        } else {
          std::string ins = ns, name = v == "true" ? "default" : v;
          if (auto slash = v.find('/'); slash != std::string::npos) {
            ins = v.substr(0, slash);
            name = v.substr(slash + 1);
          }
          // Its exporter: a collector of the namespace when there is one.
          std::string endpoint = "http://otel-collector:4318";
          for (const Json* x : c.view.of("OpenTelemetryCollector", ins))
            if (api::CollectorView(api::toV1beta1(*x)).mode() != "sidecar") {
              endpoint = "http://" + metaOf(*x, "name") + "-collector:4318";
              break;
            }
          f.fixObjects.push_back({{"apiVersion", "opentelemetry.io/v1alpha1"},
                                  {"kind", "Instrumentation"},
                                  {"metadata", {{"name", name}, {"namespace", ins}}},
                                  {"spec", {{"exporter", {{"endpoint", endpoint}}}}}});
        }
        continue;
      }
      if (chosen) notApplied(c, *pod, api::languageName(l) + " instrumentation", chosen, key, podAnn.contains(key));
    }
  }
}

}  // namespace otel::doctor::detail
