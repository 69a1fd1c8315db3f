#include "lib/doctor/doctor.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "lib/api/collector.h"
#include "lib/core/yaml.h"
#include "lib/doctor/checks.h"

namespace otel::doctor {

std::string severityName(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "info";
  }
  return "info";
}

bool Report::problems() const {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity != Severity::Info; });
}

namespace detail {

Finding& Ctx::add(Severity s, std::string check, const Json& obj, int layer) {
  return add(s, std::move(check), ObjectRef::of(obj), layer);
}

Finding& Ctx::add(Severity s, std::string check, ObjectRef ref, int layer) {
  Finding f;
  f.severity = s;
  f.check = std::move(check);
  f.object = std::move(ref);
  f.layer = layer;
  findings.push_back(std::move(f));
  return findings.back();
}

const ErrorText* Ctx::errorWith(const std::string& needle) const {
  for (const auto& e : errors)
    if (e.text.find(needle) != std::string::npos) return &e;
  return nullptr;
}

bool Ctx::upstreamOperator() const {
  return std::any_of(operators.begin(), operators.end(), [](const Operator& o) { return !o.ours; });
}
bool Ctx::oursInstalled() const {
  return std::any_of(operators.begin(), operators.end(), [](const Operator& o) { return o.ours; }) ||
         view.find("MutatingWebhookConfiguration", "", "kubectl-otel-mutating-webhook-configuration");
}

std::string scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  return v.dump();
}

std::string ev(const ObjectRef& ref, const std::string& field, const std::string& value) {
  return ref.display() + ": " + field + " = " + value;
}
std::string ev(const Json& obj, const std::string& field, const std::string& value) {
  return ev(ObjectRef::of(obj), field, value);
}

std::string yamlSnippet(const Json& v, int indent) {
  std::string y = toYaml(v), out, pad(indent, ' ');
  std::istringstream in(y);
  for (std::string line; std::getline(in, line);) out += pad + line + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

namespace {

void findOperators(Ctx& c) {
  for (const Json* d : c.view.of("Deployment")) {
    const Json& labels = labelsOf(*d);
    const std::string name = metaOf(*d, "name");
    bool ours = labels.value("app.kubernetes.io/name", "") == "kubectl-otel";
    bool upstream = labels.value("app.kubernetes.io/name", "") == "opentelemetry-operator" ||
                    name.find("opentelemetry-operator") != std::string::npos;
    if (!ours && !upstream) {
      // By image: ghcr.io/open-telemetry/opentelemetry-operator/opentelemetry-operator:...
      if (const Json* cs = api::at(*d, {"spec", "template", "spec", "containers"}); cs && cs->is_array())
        for (const auto& ct : *cs)
          if (ct.is_object() && ct.value("image", "").find("opentelemetry-operator/opentelemetry-operator") != std::string::npos)
            upstream = true;
    }
    if (!ours && !upstream) continue;
    Operator o;
    o.deployment = d;
    o.ours = ours;
    o.ready = api::integer(*d, {"status", "readyReplicas"}, 0);
    o.wanted = api::integer(*d, {"spec", "replicas"}, 1);
    c.operators.push_back(o);
  }
}

void findCollectors(Ctx& c) {
  for (const Json* s : c.view.of("OpenTelemetryCollector")) {
    Collector col;
    col.stored = s;
    col.plain = api::toV1beta1(*s);
    col.beta = col.plain;
    api::applyCollectorCrdDefaults(col.beta);
    col.ref = ObjectRef::of(*s);
    col.ns = metaOf(*s, "namespace");
    if (col.ns.empty()) col.ns = "default";
    col.name = metaOf(*s, "name");
    c.allCollectors.push_back(col);
    if (!c.inScope(col.ns)) continue;
    if (!c.opts.collector.empty() && c.opts.collector != col.name) continue;
    c.collectors.push_back(std::move(col));
  }
}

void findErrors(Ctx& c) {
  for (const auto& t : c.view.errorTexts) c.errors.push_back({t, "--error"});
  for (const auto& l : c.view.logs())
    for (const auto& line : l.lines)
      c.errors.push_back({line, "log of pod " + l.ns + "/" + l.pod + (l.container.empty() ? "" : " container " + l.container)});
}

}  // namespace
}  // namespace detail

Report diagnose(const ClusterView& view, const Options& options) {
  detail::Ctx c(view, options);
  detail::findOperators(c);
  detail::findCollectors(c);
  detail::findErrors(c);
  detail::checkOperator(c);
  detail::checkCollectors(c);
  detail::checkModeErrors(c);
  detail::checkAllocators(c);
  detail::checkInjection(c);
  detail::checkWorkloads(c);
  // What could not be read (live: RBAC) is said, as info, never guessed around.
  if (!view.skipped().empty()) {
    Finding& f = c.add(Severity::Info, "read-skipped", ObjectRef{}, 100);
    f.cause = std::to_string(view.skipped().size()) + " read" + (view.skipped().size() == 1 ? "" : "s") +
              " failed, so what they hold was not checked";
    f.evidence = view.skipped();
    f.fix = "run doctor as a user who may read them (kubectl auth can-i list <resource> -A), or give it a dump (-f)";
  }
  Report r;
  r.findings.assign(std::make_move_iterator(c.findings.begin()), std::make_move_iterator(c.findings.end()));
  std::stable_sort(r.findings.begin(), r.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.explainsError != b.explainsError) return a.explainsError;
    if (a.severity != b.severity) return a.severity < b.severity;
    return a.layer < b.layer;
  });
  r.skipped = view.skipped();
  r.skipped.insert(r.skipped.end(), c.skipped.begin(), c.skipped.end());
  return r;
}

namespace {

void renderFinding(std::ostringstream& out, const Finding& f, const std::string& pad) {
  out << pad << "[" << severityName(f.severity) << "] " << f.check << ": " << f.cause << "\n";
  if (!f.evidence.empty()) {
    out << pad << "  evidence:\n";
    for (const auto& e : f.evidence) out << pad << "    - " << e << "\n";
  }
  if (!f.fix.empty()) {
    std::istringstream in(f.fix);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      out << pad << (first ? "  fix: " : "       ") << line << "\n";
      first = false;
    }
  }
}

}  // namespace

std::string renderText(const Report& report) {
  std::ostringstream out;
  if (report.findings.empty()) {
    out << "No problems found.\n";
  } else {
    const Finding& root = report.findings.front();
    if (root.severity == Severity::Info) {
      out << "No problems found. Notes:\n";
      for (const auto& f : report.findings) renderFinding(out, f, "  ");
    } else {
      out << "Root cause: " << root.object.display() << "\n";
      renderFinding(out, root, "  ");
    }
    if (root.severity != Severity::Info && report.findings.size() > 1) {
      // The rest, grouped per object in the rank order of each object's first finding.
      std::vector<std::string> order;
      std::map<std::string, std::vector<const Finding*>> groups;
      for (size_t i = 1; i < report.findings.size(); ++i) {
        const std::string k = report.findings[i].object.display();
        if (!groups.count(k)) order.push_back(k);
        groups[k].push_back(&report.findings[i]);
      }
      out << "\nAlso found (" << report.findings.size() - 1 << "):\n";
      for (const auto& k : order) {
        out << k << "\n";
        for (const Finding* f : groups[k]) renderFinding(out, *f, "  ");
      }
    }
  }
  if (!report.skipped.empty()) {
    out << "\nNot checked:\n";
    for (const auto& s : report.skipped) out << "  - " << s << "\n";
  }
  return out.str();
}

Json renderJson(const Report& report) {
  Json findings = Json::array();
  for (const auto& f : report.findings) {
    Json j = {{"severity", severityName(f.severity)},
              {"check", f.check},
              {"object", f.object.toJson()},
              {"cause", f.cause},
              {"evidence", f.evidence},
              {"fix", f.fix}};
    findings.push_back(std::move(j));
  }
  return Json{{"findings", findings}, {"skipped", report.skipped}};
}

std::vector<Json> fixObjects(const Report& report, bool desired) {
  std::vector<Json> out;
  auto key = [](const Json& o) { return ObjectRef::of(o).display(); };
  for (const auto& f : report.findings) {
    if (f.fixDesired != desired) continue;
    for (const auto& o : f.fixObjects) {
      auto it = std::find_if(out.begin(), out.end(), [&](const Json& x) { return key(x) == key(o); });
      if (it == out.end()) out.push_back(o);
    }
  }
  return out;
}

}  // namespace otel::doctor

namespace otel::doctor {

const std::vector<CheckInfo>& checks() {
  static const std::vector<CheckInfo> list = {
      {"crd-missing", "the OpenTelemetryCollector (or Instrumentation) CRD is not installed"},
      {"conversion-webhook-missing", "v1alpha1 is served without a conversion webhook"},
      {"conversion-webhook-unavailable", "the conversion webhook's Service has no ready endpoint"},
      {"two-operators", "the upstream operator and kubectl-otel's controller both run"},
      {"controller-not-running", "the operator has no ready pod, or no operator reconciles existing collectors"},
      {"webhook-no-endpoints", "a webhook's Service has no ready endpoint"},
      {"webhook-cert-expired", "the webhooks' serving certificate has expired"},
      {"webhook-cabundle-stale", "a webhook's caBundle does not hold the serving certificate's CA"},
      {"monitoring-crds-missing", "prometheusCR is enabled but no ServiceMonitor/PodMonitor CRD is served"},
      {"ta-rbac-missing", "the target allocator's service account lacks rules prometheusCR needs"},
      {"ta-no-prometheus-receiver", "target allocator enabled, no `prometheus` receiver"},
      {"ta-named-prometheus-receiver", "target allocator enabled, only `prometheus/<name>` receivers"},
      {"ta-prometheus-without-config", "the `prometheus` receiver has no `config:` (or is null)"},
      {"ta-nothing-to-scrape", "target allocator enabled on a config that scrapes nothing"},
      {"ta-mode-unsupported", "target allocator with a deployment or sidecar collector"},
      {"ta-daemonset-needs-per-node", "a daemonset collector with the allocator must use per-node"},
      {"per-node-without-daemonset", "allocationStrategy per-node without a daemonset collector"},
      {"collector-invalid", "another refusal of the collector webhook"},
      {"collector-reconcile-error", "the operator reports an error reconciling the collector"},
      {"mode-update-omits-mode", "an update without spec.mode on a non-deployment collector"},
      {"mode-defaulted-on-create", "the collector was stored as deployment because its first apply omitted the mode"},
      {"mode-change", "a real change of spec.mode"},
      {"mode-other-namespace", "a manifest without namespace patches a same-name collector in another namespace"},
      {"mode-rewritten-by-opamp-bridge", "an OpAMP bridge's full updates omit spec.mode"},
      {"mode-rewritten-by-gitops", "a GitOps tool or Helm applies the collector without spec.mode"},
      {"ta-nil-selector", "v1beta1 prometheusCR selector not set: selects nothing"},
      {"ta-selector-mismatch", "monitors exist but the selector or namespace selector matches none"},
      {"ta-no-monitors", "prometheusCR enabled and no ServiceMonitor or PodMonitor exists"},
      {"monitor-selects-nothing", "a selected monitor selects no Service or Pod"},
      {"monitor-port-mismatch", "a monitor's port name that no selected Service or container port has"},
      {"inject-no-webhook", "pods ask for injection and no pod webhook is registered"},
      {"inject-no-sidecar-collector", "sidecar annotation without a sidecar-mode collector to inject"},
      {"inject-no-instrumentation", "instrumentation annotation without the Instrumentation"},
      {"inject-ambiguous-instrumentation", "instrumentation annotation `true` with several Instrumentations"},
      {"inject-container-missing", "container-names annotation names a container the pod lacks"},
      {"inject-pod-predates", "the pod was created before the webhook, the collector/Instrumentation or the annotation"},
      {"inject-not-applied", "everything is in place but the pod was admitted unchanged"},
      {"collector-crashloop", "a collector container exits at start (CrashLoopBackOff), with its log's error"},
      {"collector-oomkilled", "a collector container is OOMKilled"},
      {"collector-image-pull", "a collector image cannot be pulled"},
      {"service-no-endpoints", "a collector Service has no ready endpoint"},
      {"read-skipped", "info: what doctor could not read (RBAC) and so did not check"},
      {"desired-outcome", "info: what applying a --desired object would do when nothing refuses it"},
  };
  return list;
}

}  // namespace otel::doctor
