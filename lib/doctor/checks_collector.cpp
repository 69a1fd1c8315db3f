// Collector spec and config checks (stored and --desired collectors): the target allocator's prometheus
// receiver (seed error "no prometheus available as part of the configuration" and its causes), the other
// refusals of the validating webhook, reconcile errors, and the mode error with each of its causes.
#include <algorithm>
#include <optional>
#include <set>

#include "lib/api/collector.h"
#include "lib/collectorconfig/admission.h"
#include "lib/doctor/checks.h"

namespace otel::doctor::detail {

namespace {

const char* kNoPrometheus = "no prometheus available as part of the configuration";
const char* kNamedOnly = "requires a receiver named exactly";
const char* kModeImmutable = "which does not support modification";

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<std::string> keysOf(const Json* obj) {
  std::vector<std::string> out;
  if (obj && obj->is_object())
    for (const auto& [k, v] : obj->items()) out.push_back(k);
  return out;
}

// The object a fix rewrites: for a stored collector its v1beta1 form (metadata kept, so an update carries
// its resourceVersion), for a desired one the manifest itself in v1beta1 form.
Json fixBase(const Json& beta) {
  Json o = beta;
  if (o.contains("status")) o.erase("status");
  return o;
}

void enablePrometheusCR(Json& o) {
  Json& ta = api::ensure(o, {"spec", "targetAllocator"});
  Json& cr = ta["prometheusCR"];
  if (!cr.is_object()) cr = Json::object();
  cr["enabled"] = true;
  for (const char* k : {"serviceMonitorSelector", "podMonitorSelector"})
    if (!cr.contains(k) || cr[k].is_null()) cr[k] = Json::object();
}

void addToMetricsPipeline(Json& config, const std::string& receiver) {
  Json& pipelines = api::ensure(config, {"service", "pipelines"});
  for (auto& [name, p] : pipelines.items())
    if ((name == "metrics" || name.rfind("metrics/", 0) == 0) && p.is_object()) {
      Json& r = p["receivers"];
      if (!r.is_array()) r = Json::array();
      if (std::find(r.begin(), r.end(), Json(receiver)) == r.end()) r.push_back(receiver);
      return;
    }
  Json exporters = Json::array();
  for (auto& [name, p] : pipelines.items())
    if (p.is_object() && p.contains("exporters") && p["exporters"].is_array()) {
      exporters = p["exporters"];
      break;
    }
  if (exporters.empty() && config.contains("exporters") && config["exporters"].is_object() && !config["exporters"].empty())
    exporters.push_back(config["exporters"].begin().key());
  pipelines["metrics"] = {{"receivers", Json::array({receiver})}, {"exporters", exporters}};
}

struct Subject {
  const Json& beta;     // what is checked
  const Json& shown;    // the object named in findings (stored or desired manifest)
  bool desired = false;
  const Json* plain = nullptr;  // what a fix changes (v1beta1, no defaults added); beta when null
};

Finding& addFor(Ctx& c, const Subject& s, Severity sev, const std::string& check, int layer) {
  Finding& f = c.add(sev, check, s.shown, layer);
  f.fixDesired = s.desired;
  return f;
}

std::string applyHint(const Subject& s) {
  return s.desired ? "then apply the corrected manifest" : "kubectl apply the corrected collector (kubectl otel doctor --fix --apply)";
}

// Returns true when a prometheus-receiver finding was made (the webhook's own message is then not repeated).
bool prometheusReceiverChecks(Ctx& c, const Subject& s) {
  const Json& b = s.beta;
  if (!api::boolean(b, {"spec", "targetAllocator", "enabled"})) return false;
  const bool cr = api::boolean(b, {"spec", "targetAllocator", "prometheusCR", "enabled"});
  const Json* recv = api::at(b, {"spec", "config", "receivers"});
  const ObjectRef ref = ObjectRef::of(s.shown);
  std::vector<std::string> keys = keysOf(recv);
  std::vector<std::string> named;
  for (const auto& k : keys)
    if (k.rfind("prometheus/", 0) == 0) named.push_back(k);
  const bool exact = recv && recv->is_object() && recv->contains("prometheus");
  const ErrorText* pasted = c.errorWith(kNoPrometheus);
  if (!pasted) pasted = c.errorWith(kNamedOnly);
  if (!pasted) pasted = c.errorWith("no receivers available as part of the configuration");
  const std::string taEnabled = ev(ref, "spec.targetAllocator.enabled", "true");
  auto common = [&](Finding& f) {
    f.evidence.push_back(taEnabled);
    f.evidence.push_back(ev(ref, "spec.config.receivers", keys.empty() ? "<none>" : "[" + joined(keys) + "]"));
    if (pasted) {
      f.explainsError = true;
      f.evidence.push_back(pasted->source + ": \"" + pasted->text + "\"");
    }
  };
  if (!exact && named.empty()) {
    Finding& f = addFor(c, s, Severity::Error, "ta-no-prometheus-receiver", 20);
    f.cause = "the target allocator is enabled but spec.config has no `prometheus` receiver: the operator rewrites that "
              "receiver to fetch its targets from the allocator, and refuses the collector without one (\"" +
              std::string(kNoPrometheus) + "\")";
    common(f);
    Json o = fixBase(s.plain ? *s.plain : b);
    Json& r = api::ensure(o, {"spec", "config", "receivers"});
    r["prometheus"] = {{"config", {{"scrape_configs", Json::array()}}}};
    addToMetricsPipeline(o["spec"]["config"], "prometheus");
    if (!cr) enablePrometheusCR(o);
    f.fix = "add a `prometheus` receiver to spec.config and to a metrics pipeline" +
            std::string(cr ? "" : ", and let the allocator find targets through ServiceMonitors/PodMonitors") + ":\n" +
            yamlSnippet(Json{{"receivers", {{"prometheus", r["prometheus"]}}}}) + "\n" + applyHint(s);
    f.fixObjects.push_back(std::move(o));
    return true;
  }
  if (!exact) {
    // Ours serves a single prometheus/<name>; upstream refuses it (and two instances are refused by both).
    const bool refused = named.size() > 1 || c.upstreamOperator() || pasted || !c.oursInstalled();
    Finding& f = addFor(c, s, refused ? Severity::Error : Severity::Warning, "ta-named-prometheus-receiver", 20);
    f.cause = "the target allocator needs a receiver named exactly `prometheus`, and this config has only named instances (" +
              joined(named) + "): the upstream operator refuses it, with \"" + kNoPrometheus +
              "\" before v0.152.0 and with a message naming the instances since then (upstream #5017)" +
              (named.size() > 1 ? "; with several instances no operator can tell which one to rewrite" : "");
    common(f);
    Json o = fixBase(s.plain ? *s.plain : b);
    Json& r = o["spec"]["config"]["receivers"];
    Json renamed = Json::object();
    for (auto& [k, v] : r.items()) renamed[k == named.front() ? "prometheus" : k] = v;
    r = renamed;
    Json& cfg = o["spec"]["config"];
    if (api::at(cfg, {"service", "pipelines"}) && cfg["service"]["pipelines"].is_object())
      for (auto& [pn, pipe] : cfg["service"]["pipelines"].items())
        if (pipe.is_object() && pipe.contains("receivers") && pipe["receivers"].is_array())
          for (auto& x : pipe["receivers"])
            if (x == named.front()) x = "prometheus";
    f.fix = "rename receiver `" + named.front() + "` to `prometheus` in spec.config.receivers and in the pipelines that use it; " +
            applyHint(s);
    f.fixObjects.push_back(std::move(o));
    return true;
  }
  const Json& prom = (*recv)["prometheus"];
  const bool noConfig = !prom.is_object() || !prom.contains("config") || prom["config"].is_null();
  if (!prom.is_object() || (noConfig && !cr)) {
    Finding& f = addFor(c, s, Severity::Error, "ta-prometheus-without-config", 20);
    f.cause = std::string("the `prometheus` receiver has no `config:` ") +
              (prom.is_object() ? "and prometheusCR is disabled, so the target allocator has nothing to allocate"
                                : "(it is null), so it is not a valid prometheus receiver") +
              " (upstream: \"" +
              (prom.is_object() ? "either at least one scrape config needs to be defined or PrometheusCR needs to be enabled"
                                : "prometheus property in the configuration doesn't contain valid prometheus") +
              "\"; builds before #2998: \"no prometheusConfig available as part of the configuration\")";
    common(f);
    f.evidence.push_back(ev(ref, "spec.config.receivers.prometheus", prom.is_null() ? "<nil>" : prom.dump()));
    Json o = fixBase(s.plain ? *s.plain : b);
    Json& p = o["spec"]["config"]["receivers"]["prometheus"];
    if (!p.is_object()) p = Json::object();
    p["config"] = {{"scrape_configs", Json::array()}};
    if (!cr) enablePrometheusCR(o);
    f.fix = "give the receiver a config and let the allocator discover targets from ServiceMonitors/PodMonitors:\n" +
            yamlSnippet(Json{{"prometheus", p}}) + "\n" +
            yamlSnippet(Json{{"targetAllocator", {{"prometheusCR", o["spec"]["targetAllocator"]["prometheusCR"]}}}}) + "\n" +
            applyHint(s);
    f.fixObjects.push_back(std::move(o));
    return true;
  }
  if (!cr) {
    const Json* sc = api::at(prom, {"config", "scrape_configs"});
    if (!sc || (sc->is_array() && sc->empty())) {
      Finding& f = addFor(c, s, Severity::Error, "ta-nothing-to-scrape", 20);
      f.cause = "the target allocator is enabled on a config that scrapes nothing: no scrape_configs and prometheusCR disabled "
                "(upstream: \"either at least one scrape config needs to be defined or PrometheusCR needs to be enabled\")";
      common(f);
      f.evidence.push_back(ev(ref, "spec.config.receivers.prometheus.config.scrape_configs", sc ? "[]" : "<none>"));
      f.evidence.push_back(ev(ref, "spec.targetAllocator.prometheusCR.enabled", "false"));
      Json o = fixBase(s.plain ? *s.plain : b);
      enablePrometheusCR(o);
      f.fix = "enable prometheusCR (ServiceMonitors and PodMonitors then give the targets), or add scrape_configs:\n" +
              yamlSnippet(Json{{"targetAllocator", {{"prometheusCR", o["spec"]["targetAllocator"]["prometheusCR"]}}}}) + "\n" +
              applyHint(s);
      f.fixObjects.push_back(std::move(o));
      return true;
    }
  }
  return false;
}

// The webhook's other refusals, with a cause per known message.
void validationChecks(Ctx& c, const Subject& s, bool receiverFound) {
  Json d = s.beta;
  try {
    collectorconfig::defaultCollector(d);
  } catch (const Error& e) {
    Finding& f = addFor(c, s, Severity::Error, "collector-invalid", 20);
    f.cause = std::string("the collector cannot be defaulted: ") + e.what();
    return;
  }
  api::Diagnostics diag = collectorconfig::validateCollector(d);
  const ObjectRef ref = ObjectRef::of(s.shown);
  for (const auto& msg : diag.errors) {
    if (msg.find("Prometheus configuration is incorrect") != std::string::npos && receiverFound) continue;
    std::string check = "collector-invalid", cause;
    Json o = fixBase(s.plain ? *s.plain : s.beta);
    bool fixable = false;
    const std::string mode = api::str(d, {"spec", "mode"}, "deployment");
    if (msg.find("does not support the target allocation deployment") != std::string::npos) {
      check = "ta-mode-unsupported";
      cause = "the target allocator needs a statefulset or daemonset collector; mode " + mode +
              " cannot use it (a deployment's pods have no stable identity to allocate to, a sidecar has no allocator)";
    } else if (msg.find("must be used with target allocation strategy per-node") != std::string::npos) {
      check = "ta-daemonset-needs-per-node";
      cause = "a daemonset collector with the target allocator must use allocationStrategy per-node (each pod scrapes its node)";
      o["spec"]["targetAllocator"]["allocationStrategy"] = "per-node";
      fixable = true;
    } else if (msg.find("per-node is only supported") != std::string::npos) {
      check = "per-node-without-daemonset";
      cause = "allocationStrategy per-node needs a daemonset collector (one pod per node); mode " + mode + " has none";
      o["spec"]["targetAllocator"]["allocationStrategy"] = "consistent-hashing";
      fixable = true;
    } else if (msg.find(kNoPrometheus) != std::string::npos) {
      check = "ta-no-prometheus-receiver";
      cause = "the operator refuses the collector: " + msg;
    } else {
      cause = "the operator's validating webhook refuses this collector: " + msg;
    }
    Finding& f = addFor(c, s, Severity::Error, check, 20);
    if (cause.find(msg) == std::string::npos) f.evidence.push_back("upstream's message: \"" + msg + "\"");
    f.cause = cause;
    f.evidence.push_back(ev(ref, "spec.mode", mode));
    if (api::boolean(d, {"spec", "targetAllocator", "enabled"}))
      f.evidence.push_back(ev(ref, "spec.targetAllocator.allocationStrategy",
                              api::str(d, {"spec", "targetAllocator", "allocationStrategy"}, "consistent-hashing")));
    if (const ErrorText* e = c.errorWith(msg.substr(0, std::min<size_t>(msg.size(), 60)))) {
      f.explainsError = true;
      f.evidence.push_back(e->source + ": \"" + e->text + "\"");
    }
    if (fixable) {
      f.fix = "set spec.targetAllocator.allocationStrategy: " + o["spec"]["targetAllocator"]["allocationStrategy"].get<std::string>() +
              "; " + applyHint(s);
      f.fixObjects.push_back(std::move(o));
    } else if (check == "ta-mode-unsupported") {
      f.fix = "the mode cannot be changed in place: kubectl delete opentelemetrycollector " + ref.name + " -n " +
              (ref.ns.empty() ? "default" : ref.ns) + ", then apply it again with spec.mode: statefulset";
      if (!s.desired) f.fixDeletes.push_back(ref);
      o["spec"]["mode"] = "statefulset";
      if (o.contains("metadata") && o["metadata"].is_object())
        for (const char* k : {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"}) o["metadata"].erase(k);
      f.fixObjects.push_back(std::move(o));
    } else {
      f.fix = "correct the field the message names and apply again";
    }
    break;  // the webhook stops at its first error
  }
}

// A reconcile that failed: the controller's Error events and Ready=False status.
// When an Event was last seen (seconds since the epoch; -1 when it says nothing): lastTimestamp, the
// events.k8s.io eventTime, the series' last observation, whichever is latest.
std::int64_t lastSeen(const Json& e) {
  std::int64_t t = -1;
  for (const std::string& v : {api::str(e, {"lastTimestamp"}), api::str(e, {"eventTime"}), api::str(e, {"series", "lastObservedTime"}),
                               api::str(e, {"firstTimestamp"})})
    if (!v.empty()) t = std::max(t, parseTime(v));
  return t;
}

void reconcileErrors(Ctx& c, const Collector& col, bool alreadyExplained) {
  std::vector<std::string> evidence;
  // The operator sets Ready=True (reason Reconciled) once a reconcile succeeds: a Warning it recorded
  // before that is history (Events outlive their cause by an hour), not a failure now.
  std::int64_t readySince = -1;
  if (const Json* conds = api::at(*col.stored, {"status", "conditions"}); conds && conds->is_array())
    for (const auto& cd : *conds)
      if (cd.is_object() && cd.value("type", "") == "Ready" && cd.value("status", "") == "True")
        readySince = parseTime(cd.value("lastTransitionTime", ""));
  for (const Json* e : c.view.of("Event", col.ns)) {
    if (api::str(*e, {"involvedObject", "kind"}) != "OpenTelemetryCollector" ||
        api::str(*e, {"involvedObject", "name"}) != col.name || api::str(*e, {"type"}) != "Warning")
      continue;
    if (const std::int64_t seen = lastSeen(*e); readySince >= 0 && seen >= 0 && seen <= readySince) continue;
    evidence.push_back("Event " + api::str(*e, {"reason"}) + ": " + api::str(*e, {"message"}));
  }
  if (const Json* conds = api::at(*col.stored, {"status", "conditions"}); conds && conds->is_array())
    for (const auto& cd : *conds)
      if (cd.is_object() && cd.value("type", "") == "Ready" && cd.value("status", "") == "False")
        evidence.push_back(ev(col.ref, "status.conditions[Ready]", "False (" + cd.value("reason", "") + ": " +
                                                                     cd.value("message", "") + ")"));
  if (evidence.empty()) return;
  if (alreadyExplained) {
    for (auto& f : c.findings)
      if (f.object == col.ref && f.layer == 20)
        f.evidence.insert(f.evidence.end(), evidence.begin(), evidence.end());
    return;
  }
  Finding& f = c.add(Severity::Error, "collector-reconcile-error", col.ref, 25);
  f.cause = "the operator fails to reconcile this collector";
  f.evidence = evidence;
  f.fix = "read the message above; kubectl otel doctor --desired FILE with the manifest explains a refused change";
}

}  // namespace

void checkCollectors(Ctx& c) {
  for (const auto& col : c.collectors) {
    if (!api::CollectorView(col.beta).managed()) continue;
    const size_t before = c.findings.size();
    Subject s{col.beta, *col.stored, false, &col.plain};
    bool found = prometheusReceiverChecks(c, s);
    validationChecks(c, s, found);
    reconcileErrors(c, col, c.findings.size() > before);
  }
  for (const auto& d : c.view.desired) {
    if (!api::isCollector(d)) continue;
    const Json plain = api::toV1beta1(d);
    Json beta = plain;
    api::applyCollectorCrdDefaults(beta);
    Subject s{beta, d, true, &plain};
    bool found = prometheusReceiverChecks(c, s);
    validationChecks(c, s, found);
  }
}

// ---- the mode error ----------------------------------------------------------------------------------

namespace {

const Collector* storedFor(const Ctx& c, const std::string& ns, const std::string& name) {
  for (const auto& col : c.allCollectors)
    if (col.ns == ns && col.name == name) return &col;
  return nullptr;
}

// The mode the user's last `kubectl apply` gave (the last-applied-configuration annotation): "" when the
// annotation says nothing about the mode, nullopt when there is no such annotation.
std::optional<std::string> lastAppliedMode(const Json& obj) {
  const Json& a = annotationsOf(obj);
  auto it = a.find("kubectl.kubernetes.io/last-applied-configuration");
  if (it == a.end() || !it->is_string()) return std::nullopt;
  Json j = Json::parse(it->get<std::string>(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return api::str(j, {"spec", "mode"});
}

// Who rewrites the collector: an OpAMP bridge, a GitOps tool, Helm ("" when none is seen).
std::string rewriter(const Ctx& c, const Json& obj, std::vector<std::string>& evidence) {
  const ObjectRef ref = ObjectRef::of(obj);
  const Json& l = labelsOf(obj);
  const Json& a = annotationsOf(obj);
  if (l.contains("opentelemetry.io/opamp-managed")) {
    evidence.push_back(ev(ref, "metadata.labels[opentelemetry.io/opamp-managed]", scalar(l["opentelemetry.io/opamp-managed"])));
    for (const Json* b : c.view.of("OpAMPBridge")) evidence.push_back(ObjectRef::of(*b).display() + " manages collectors");
    return "opamp";
  }
  for (const char* k : {"argocd.argoproj.io/instance", "kustomize.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/name"})
    if (l.contains(k)) {
      evidence.push_back(ev(ref, std::string("metadata.labels[") + k + "]", scalar(l[k])));
      return "gitops";
    }
  if (a.contains("argocd.argoproj.io/tracking-id")) {
    evidence.push_back(ev(ref, "metadata.annotations[argocd.argoproj.io/tracking-id]", scalar(a["argocd.argoproj.io/tracking-id"])));
    return "gitops";
  }
  if (l.value("app.kubernetes.io/managed-by", "") == "Helm") {
    evidence.push_back(ev(ref, "metadata.labels[app.kubernetes.io/managed-by]", "Helm"));
    return "gitops";
  }
  if (const Json* mf = api::at(obj, {"metadata", "managedFields"}); mf && mf->is_array())
    for (const auto& m : *mf) {
      const std::string mgr = m.is_object() ? m.value("manager", "") : "";
      for (const char* tool : {"opamp", "argocd", "kustomize-controller", "helm-controller", "helm"})
        if (mgr.find(tool) != std::string::npos) {
          evidence.push_back(ev(ref, "metadata.managedFields[].manager", mgr));
          return std::string(tool) == "opamp" ? "opamp" : "gitops";
        }
    }
  return "";
}

std::string recreate(const std::string& ns, const std::string& name, const std::string& file) {
  return "the mode of a collector cannot change in place; delete it and apply the manifest again (its pods restart):\n"
         "kubectl delete opentelemetrycollector " + name + " -n " + ns + "\nkubectl apply -f " + file;
}

std::string modeMessage(const std::string& mode) {
  return "the OpenTelemetry Collector mode is set to " + mode + ", which does not support modification";
}

void desiredMode(Ctx& c, const Json& d) {
  const std::string name = metaOf(d, "name");
  const std::string dns = metaOf(d, "namespace");
  const std::string ns = dns.empty() ? c.view.defaultNamespace : dns;
  const Collector* s = storedFor(c, ns, name);
  const Json beta = api::toV1beta1(d);
  const std::string dmode = api::str(beta, {"spec", "mode"});
  const ObjectRef dref = ObjectRef::of(d);
  ObjectRef dshown = dref;
  dshown.kind = "desired " + dref.kind;
  std::vector<const Collector*> elsewhere;
  for (const auto& col : c.allCollectors)
    if (col.name == name && col.ns != ns) elsewhere.push_back(&col);
  if (!s) {
    if (!dns.empty() || elsewhere.empty()) return;
    Finding& f = c.add(Severity::Warning, "mode-other-namespace", dref, 20);
    f.fixDesired = true;
    f.cause = "the manifest has no metadata.namespace, so kubectl apply creates a new collector " + ns + "/" + name +
              " instead of changing " + elsewhere.front()->ns + "/" + name;
    f.evidence.push_back(ev(dshown, "metadata.namespace", "<none> (kubectl uses " + ns + ")"));
    for (const auto* e : elsewhere) f.evidence.push_back(e->ref.display() + " exists (mode " + api::CollectorView(e->beta).mode() + ")");
    Json o = d;
    o["metadata"]["namespace"] = elsewhere.front()->ns;
    f.fix = "set metadata.namespace: " + elsewhere.front()->ns + " in the manifest (or pass -n " + elsewhere.front()->ns + ")";
    f.fixObjects.push_back(std::move(o));
    return;
  }
  const std::string smode = api::CollectorView(s->beta).mode();
  const std::string msg = modeMessage(smode);
  if (dmode.empty()) {
    if (smode == "deployment") return;
    const bool ours = c.oursInstalled() && !c.upstreamOperator();
    Finding& f = c.add(ours ? Severity::Info : Severity::Error, "mode-update-omits-mode", dref, 20);
    f.fixDesired = true;
    f.cause = ours ? "the manifest omits spec.mode; kubectl-otel's webhook keeps the stored mode " + smode +
                         " (upstream's would refuse: \"" + msg + "\")"
                   : "the manifest omits spec.mode: the operator's defaulter sets a missing mode to deployment before "
                     "validating, so this update reads as a change from " + smode + " to deployment and is refused (\"" +
                     msg + "\", upstream #4481)";
    f.evidence.push_back(ev(dshown, "spec.mode", "<not set>"));
    f.evidence.push_back(ev(s->ref, "spec.mode", smode + " (stored)"));
    Json o = d;
    api::ensure(o, {"spec"})["mode"] = smode;
    f.fix = "add `mode: " + smode + "` under spec in the manifest";
    f.fixObjects.push_back(std::move(o));
    if (const ErrorText* e = c.errorWith(kModeImmutable)) {
      f.explainsError = true;
      f.evidence.push_back(e->source + ": \"" + e->text + "\"");
    }
    return;
  }
  if (dmode == smode) return;
  const ErrorText* pasted = c.errorWith(kModeImmutable);
  if (dns.empty()) {
    for (const auto* e : elsewhere)
      if (api::CollectorView(e->beta).mode() == dmode) {
        Finding& f = c.add(Severity::Error, "mode-other-namespace", dref, 20);
        f.fixDesired = true;
        f.explainsError = pasted != nullptr;
        f.cause = "the manifest has no metadata.namespace, so kubectl apply patches " + ns + "/" + name + " (mode " + smode +
                  "), not " + e->ns + "/" + name + " (mode " + dmode + ") that it was written for; the webhook refuses: \"" +
                  msg + "\"";
        f.evidence.push_back(ev(dshown, "metadata.namespace", "<none> (kubectl uses " + ns + ")"));
        f.evidence.push_back(ev(s->ref, "spec.mode", smode));
        f.evidence.push_back(ev(e->ref, "spec.mode", dmode));
        Json o = d;
        o["metadata"]["namespace"] = e->ns;
        f.fix = "set metadata.namespace: " + e->ns + " in the manifest (or apply with -n " + e->ns + ")";
        f.fixObjects.push_back(std::move(o));
        return;
      }
  }
  auto last = lastAppliedMode(*s->stored);
  if (smode == "deployment" && last && last->empty()) {
    Finding& f = c.add(Severity::Error, "mode-defaulted-on-create", s->ref, 20);
    f.explainsError = pasted != nullptr;
    f.cause = "the collector was created without spec.mode, so the operator stored the default, deployment; applying mode " +
              dmode + " now is a change of mode, which is refused (\"" + msg + "\")";
    f.evidence.push_back(ev(s->ref, "spec.mode", "deployment (stored)"));
    f.evidence.push_back(ev(s->ref, "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration].spec.mode", "<not set>"));
    f.evidence.push_back(ev(dshown, "spec.mode", dmode));
    f.fix = recreate(ns, name, c.view.desiredSource);
    f.fixDeletes.push_back(s->ref);
    return;
  }
  Finding& f = c.add(Severity::Error, "mode-change", s->ref, 20);
  f.explainsError = pasted != nullptr;
  f.cause = "the manifest changes spec.mode from " + smode + " to " + dmode + ", and the mode is immutable (\"" + msg + "\")";
  f.evidence.push_back(ev(s->ref, "spec.mode", smode + " (stored)"));
  f.evidence.push_back(ev(dshown, "spec.mode", dmode));
  f.fix = recreate(ns, name, c.view.desiredSource);
  f.fixDeletes.push_back(s->ref);
}

}  // namespace

// What applying each --desired object would do when nothing refuses it: create, or update which fields.
void desiredOutcome(Ctx& c) {
  static const std::set<std::string> clusterScoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                                                      "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"};
  for (const auto& d : c.view.desired) {
    ObjectRef ref = ObjectRef::of(d);
    if (!clusterScoped.count(ref.kind) && ref.ns.empty()) ref.ns = c.view.defaultNamespace;
    ObjectRef shown = ref;
    shown.kind = "desired " + ref.kind;
    bool refused = false;
    for (const auto& f : c.findings)
      if (f.severity == Severity::Error && f.object.name == ref.name && f.object.kind == ref.kind &&
          (f.fixDesired || !f.fixDeletes.empty()))  // findings about the manifest, or a refused change of mode
        refused = true;
    if (refused) continue;
    const Json* cur = c.view.find(ref.kind, ref.ns, ref.name);
    if (!cur) {
      if (!c.view.listed(ref.kind) && !knownKinds().count(ref.kind)) continue;
      Finding& f = c.add(Severity::Info, "desired-outcome", ref, 90);
      f.cause = "applying it creates " + ref.display() + (c.view.listed(ref.kind) ? "" : " (unless it exists: the view holds no " + ref.kind + ")");
      f.evidence.push_back(ref.display() + ": not in the cluster");
      f.fix = "nothing to fix";
      continue;
    }
    Json want = d, have = *cur;
    if (api::isCollector(d)) {
      want = api::toV1beta1(d);
      have = api::toV1beta1(*cur);
    }
    std::vector<std::string> changed;
    const Json* ws = api::at(want, {"spec"});
    const Json* hs = api::at(have, {"spec"});
    if (ws && ws->is_object())
      for (const auto& [k, v] : ws->items())
        if (!hs || !hs->is_object() || !hs->contains(k) || (*hs)[k] != v) changed.push_back("spec." + k);
    Finding& f = c.add(Severity::Info, "desired-outcome", ref, 90);
    if (changed.empty()) {
      f.cause = "applying it changes nothing in " + ref.display() + "'s spec";
    } else {
      f.cause = "applying it updates " + ref.display() + ": " + joined(changed);
      if (api::isCollector(d) && std::find(changed.begin(), changed.end(), "spec.config") != changed.end())
        f.cause += "; a new config means a new hashed ConfigMap, so the collector's pods restart";
    }
    for (const auto& k : changed) {
      const std::string key = k.substr(5);
      const Json* old = hs && hs->is_object() && hs->contains(key) ? &(*hs)[key] : nullptr;
      const Json& now = (*ws)[key];
      const bool flat = now.is_primitive() && (!old || old->is_primitive());
      f.evidence.push_back(ev(shown, k, flat ? (old ? scalar(*old) : std::string("<not set>")) + " -> " + scalar(now)
                                             : std::string("changed (was ") + (old ? "set" : "not set") + ")"));
    }
    if (f.evidence.empty()) f.evidence.push_back(ref.display() + ": spec as stored");
    f.fix = "nothing to fix";
  }
}

void checkModeErrors(Ctx& c) {
  for (const auto& d : c.view.desired)
    if (api::isCollector(d)) desiredMode(c, d);
  if (!c.view.desired.empty()) {
    desiredOutcome(c);
    return;
  }
  // A pasted or logged error without the manifest: find the collectors it can be about.
  const ErrorText* e = c.errorWith(kModeImmutable);
  if (!e) return;
  const std::string marker = "mode is set to ";
  auto at = e->text.find(marker);
  std::string mode;
  if (at != std::string::npos)
    for (size_t i = at + marker.size(); i < e->text.size() && std::isalpha(static_cast<unsigned char>(e->text[i])); ++i)
      mode += e->text[i];
  bool any = false;
  for (const auto& col : c.collectors) {
    const std::string smode = api::CollectorView(col.beta).mode();
    if (!mode.empty() && smode != mode) continue;
    any = true;
    std::vector<std::string> evidence;
    std::string who = rewriter(c, *col.stored, evidence);
    evidence.insert(evidence.begin(), ev(col.ref, "spec.mode", smode + " (stored)"));
    evidence.push_back(e->source + ": \"" + e->text + "\"");
    Finding& f = c.add(Severity::Error, who == "opamp" ? "mode-rewritten-by-opamp-bridge"
                                        : who == "gitops" ? "mode-rewritten-by-gitops" : "mode-update-omits-mode",
                       col.ref, 20);
    f.explainsError = true;
    f.evidence = evidence;
    const std::string why = "the operator's defaulter sets a missing spec.mode to deployment before validating, so an update "
                            "without spec.mode reads as a change from " + smode + " to deployment";
    if (who == "opamp") {
      f.cause = "an OpAMP bridge manages this collector and its full updates carry no spec.mode: " + why + " (upstream #4481)";
      f.fix = "kubectl-otel's webhook keeps the stored mode on such updates (run `kubectl otel install`, docs/compatibility.md); "
              "with the upstream operator, include `mode: " + smode + "` in the configuration the bridge sends";
    } else if (who == "gitops") {
      f.cause = "a GitOps tool applies this collector from a manifest without spec.mode: " + why;
      f.fix = "add `mode: " + smode + "` under spec in the manifest in your repository";
    } else {
      f.cause = "an update without spec.mode: " + why;
      f.fix = "add `mode: " + smode + "` under spec in the manifest you apply (kubectl otel doctor --desired FILE checks it)";
    }
  }
  if (!any) {
    Finding& f = c.add(Severity::Error, "mode-update-omits-mode", ObjectRef{}, 20);
    f.explainsError = true;
    f.cause = "an update of a collector whose stored mode is " + (mode.empty() ? std::string("not deployment") : mode) +
              " sent another mode or none (a missing mode is defaulted to deployment before validation); no such collector "
              "is in the view";
    f.evidence.push_back(e->source + ": \"" + e->text + "\"");
    f.fix = "run doctor with --desired FILE (the manifest) and -n NS of the collector, or add spec.mode to the manifest";
  }
}

}  // namespace otel::doctor::detail
