// Collectors that do not run: CrashLoopBackOff (with the config error from the log), OOMKilled against
// the memory limit, image pull failures, and a collector Service with no ready endpoint.
#include <algorithm>
#include <set>

#include "lib/api/collector.h"
#include "lib/doctor/checks.h"

namespace otel::doctor::detail {

namespace {

// The collector a pod belongs to (its own pods, or a sidecar through the inject annotation), or null.
const Collector* collectorOf(const Ctx& c, const Json& pod, bool& sidecar) {
  const Json& l = labelsOf(pod);
  const std::string ns = metaOf(pod, "namespace");
  sidecar = false;
  if (l.value("app.kubernetes.io/component", "") == "opentelemetry-collector") {
    const std::string inst = l.value("app.kubernetes.io/instance", "");
    const auto dot = inst.find('.');
    if (dot != std::string::npos)
      for (const auto& col : c.collectors)
        if (col.name.size() == inst.size() - dot - 1 && inst.compare(0, dot, col.ns) == 0 &&
            inst.compare(dot + 1, std::string::npos, col.name) == 0)
          return &col;
  }
  bool hasSidecar = false;
  for (const char* list : {"containers", "initContainers"})
    if (const Json* x = api::at(pod, {"spec", list}); x && x->is_array())
      for (const auto& ct : *x)
        if (ct.is_object() && ct.value("name", "") == "otc-container") hasSidecar = true;
  if (!hasSidecar) return nullptr;
  sidecar = true;
  std::string v = annotationsOf(pod).value("sidecar.opentelemetry.io/inject", "");
  std::string cns = ns, name = v;
  if (auto slash = v.find('/'); slash != std::string::npos) {
    cns = v.substr(0, slash);
    name = v.substr(slash + 1);
  }
  for (const auto& col : c.collectors)
    if (col.ns == cns && (col.name == name || (v == "true" && api::CollectorView(col.beta).mode() == "sidecar"))) return &col;
  return nullptr;
}

const Json* containerSpec(const Json& pod, const std::string& name) {
  for (const char* list : {"containers", "initContainers"})
    if (const Json* x = api::at(pod, {"spec", list}); x && x->is_array())
      for (const auto& ct : *x)
        if (ct.is_object() && ct.value("name", "") == name) return &ct;
  return nullptr;
}

std::vector<std::string> logLines(const Ctx& c, const std::string& ns, const std::string& pod, const std::string& container) {
  std::vector<std::string> out;
  for (const auto& l : c.view.logs())
    if (l.ns == ns && l.pod == pod && (l.container.empty() || l.container == container))
      out.insert(out.end(), l.lines.begin(), l.lines.end());
  return out;
}

// The lines of a collector's log that say why it stopped (config errors first).
std::vector<std::string> errorLines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.find("Error:") != std::string::npos || l.find("error decoding") != std::string::npos ||
        l.find("invalid configuration") != std::string::npos || l.find("failed to") != std::string::npos ||
        l.find("\"level\":\"error\"") != std::string::npos || l.find("\terror\t") != std::string::npos)
      out.push_back(l);
  if (out.size() > 3) out.erase(out.begin(), out.end() - 3);
  return out;
}

// "512Mi" doubled, as a quantity string; "" when it cannot be read.
std::string doubled(const std::string& q) {
  size_t i = 0;
  while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) != 0)) ++i;
  if (i == 0 || i > 15) return "";
  return std::to_string(std::stoll(q.substr(0, i)) * 2) + q.substr(i);
}

void podChecks(Ctx& c, const Json& pod, const Collector& col, bool sidecar) {
  const ObjectRef pref = ObjectRef::of(pod);
  const Json* statuses = api::at(pod, {"status", "containerStatuses"});
  if (!statuses || !statuses->is_array()) return;
  for (const auto& st : *statuses) {
    if (!st.is_object()) continue;
    const std::string name = st.value("name", "");
    if (sidecar && name != "otc-container") continue;
    const std::string waiting = api::str(st, {"state", "waiting", "reason"});
    const std::string lastReason = api::str(st, {"lastState", "terminated", "reason"});
    const long long restarts = api::integer(st, {"restartCount"}, 0);
    const Json* spec = containerSpec(pod, name);
    const std::string field = "status.containerStatuses[" + name + "]";
    if (waiting == "ErrImagePull" || waiting == "ImagePullBackOff" || waiting == "InvalidImageName") {
      Finding& f = c.add(Severity::Error, "collector-image-pull", pod, 50);
      const std::string image = spec ? spec->value("image", "") : st.value("image", "");
      f.cause = "the collector's image cannot be pulled (" + waiting + "), so the pod never starts";
      f.evidence.push_back(ev(pref, field + ".state.waiting.reason", waiting));
      f.evidence.push_back(ev(pref, "spec.containers[" + name + "].image", image));
      if (std::string m = api::str(st, {"state", "waiting", "message"}); !m.empty())
        f.evidence.push_back(ev(pref, field + ".state.waiting.message", m));
      f.fix = "set spec.image of " + col.ref.display() + " to an image that exists (or remove it for the operator's default), "
              "or give the pods an imagePullSecret for a private registry";
      if (!sidecar && api::has(col.beta, {"spec", "image"})) {
        Json o = col.plain;
        o.erase("status");
        o["spec"].erase("image");
        f.fixObjects.push_back(std::move(o));
      }
      continue;
    }
    if (lastReason == "OOMKilled") {
      Finding& f = c.add(Severity::Error, "collector-oomkilled", pod, 50);
      const std::string limit = spec ? api::str(*spec, {"resources", "limits", "memory"}) : "";
      f.cause = "the collector is killed for using more memory than its limit (OOMKilled" +
                (limit.empty() ? std::string(", no memory limit on the container: the node ran out") : ", limit " + limit) + ")";
      f.evidence.push_back(ev(pref, field + ".lastState.terminated.reason", "OOMKilled"));
      f.evidence.push_back(ev(pref, field + ".restartCount", std::to_string(restarts)));
      if (!limit.empty()) f.evidence.push_back(ev(pref, "spec.containers[" + name + "].resources.limits.memory", limit));
      std::string more = doubled(limit);
      if (!more.empty() && !sidecar) {
        Json o = col.plain;
        o.erase("status");
        o["spec"]["resources"]["limits"]["memory"] = more;
        f.fixObjects.push_back(std::move(o));
      }
      f.fix = "raise spec.resources.limits.memory of " + col.ref.display() + (more.empty() ? "" : " (to " + more + "?)") +
              " and add a memory_limiter processor first in each pipeline so the collector refuses data before it is killed";
      continue;
    }
    if (waiting == "CrashLoopBackOff" || (restarts > 0 && lastReason == "Error")) {
      Finding& f = c.add(Severity::Error, "collector-crashloop", pod, 50);
      auto lines = errorLines(logLines(c, pref.ns, pref.name, name));
      const std::string msg = api::str(st, {"lastState", "terminated", "message"});
      f.cause = "the collector exits at start and is restarted (" + (waiting.empty() ? lastReason : waiting) + ")" +
                (lines.empty() ? (msg.empty() ? std::string() : ": " + msg) : ": its log says " + lines.back());
      f.evidence.push_back(ev(pref, field + (waiting.empty() ? ".lastState.terminated.reason" : ".state.waiting.reason"),
                              waiting.empty() ? lastReason : waiting));
      f.evidence.push_back(ev(pref, field + ".restartCount", std::to_string(restarts)));
      if (long long code = api::integer(st, {"lastState", "terminated", "exitCode"}, 0); code != 0)
        f.evidence.push_back(ev(pref, field + ".lastState.terminated.exitCode", std::to_string(code)));
      for (const auto& l : lines) f.evidence.push_back("log of pod " + pref.ns + "/" + pref.name + " container " + name + ": " + l);
      if (lines.empty() && msg.empty())
        c.skipped.push_back("the log of " + pref.display() + " (not in the input): kubectl logs " + pref.name + " -n " + pref.ns +
                            " -c " + name + " --previous");
      f.fix = "correct spec.config of " + col.ref.display() + " as the log says (kubectl logs " + pref.name + " -n " + pref.ns +
              " -c " + name + " --previous shows the whole error)";
    }
  }
}

}  // namespace

void checkWorkloads(Ctx& c) {
  std::set<std::string> failing;  // collectors with a failing pod
  for (const Json* pod : c.view.of("Pod")) {
    if (!c.inScope(metaOf(*pod, "namespace"))) continue;
    bool sidecar = false;
    const Collector* col = collectorOf(c, *pod, sidecar);
    if (!col) continue;
    const size_t before = c.findings.size();
    podChecks(c, *pod, *col, sidecar);
    if (c.findings.size() > before) failing.insert(col->ref.display());
  }
  if (!c.view.listed("EndpointSlice") || !c.view.listed("Service")) return;
  for (const auto& col : c.collectors) {
    if (api::CollectorView(col.beta).mode() == "sidecar" || !api::CollectorView(col.beta).managed()) continue;
    const std::string svc = col.name + "-collector";
    const Json* s = c.view.find("Service", col.ns, svc);
    if (!s) continue;
    if (readyEndpoints(c.view, col.ns, svc) > 0) continue;
    Finding& f = c.add(failing.count(col.ref.display()) ? Severity::Warning : Severity::Error, "service-no-endpoints", *s, 60);
    f.cause = "Service " + col.ns + "/" + svc + " has no ready endpoint: whatever sends telemetry to it gets connection errors";
    f.evidence.push_back("EndpointSlices of Service " + col.ns + "/" + svc + ": 0 ready endpoints");
    int pods = 0;
    for (const Json* p : c.view.of("Pod", col.ns))
      if (labelsOf(*p).value("app.kubernetes.io/instance", "") == col.ns + "." + col.name) ++pods;
    f.evidence.push_back("pods of " + col.ref.display() + ": " + std::to_string(pods));
    f.fix = failing.count(col.ref.display()) ? "see the failing pods of the collector above"
                                             : "kubectl get pods -n " + col.ns + " -l app.kubernetes.io/instance=" + col.ns + "." +
                                                   col.name + " shows why its pods are not ready";
  }
}

}  // namespace otel::doctor::detail
