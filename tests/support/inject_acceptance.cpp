#include "tests/support/inject_acceptance.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/inject/inject.h"
#include "lib/inject/workload.h"
#include "tests/support/chainsaw.h"

namespace fs = std::filesystem;

namespace otel::testing {

namespace {
std::string metaStr(const Json& o, const char* k) {
  return o.contains("metadata") && o["metadata"].contains(k) && o["metadata"][k].is_string()
             ? o["metadata"][k].get<std::string>()
             : "";
}

std::vector<Json> readDocs(const fs::path& p) {
  std::vector<Json> out;
  for (auto& d : otel::parseYamlStream(otel::readFile(p.string()), p.string()))
    if (d.value.is_object()) out.push_back(d.value);
  return out;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& clusterFilledFields() {
  static const std::vector<std::pair<std::string, std::string>> fields = {
      {"status", "kubelet: container statuses, readiness and phase"},
      {"spec.containers[*].volumeMounts kube-api-access", "ServiceAccount admission plugin: token volume mount on every "
                                                          "container, before the webhook and again (re-invocation) for "
                                                          "containers the webhook added"},
      {"env[*].valueFrom.fieldRef.apiVersion", "API server defaulting: v1"},
      {"ports[*].protocol", "API server defaulting: TCP"},
      {"*Probe.{successThreshold,timeoutSeconds,periodSeconds,failureThreshold}", "API server defaulting: 1, 1, 10, 3"},
  };
  return fields;
}

void AcceptanceCluster::apply(Json obj) {
  if (!obj.is_object() || !obj.contains("kind")) return;
  if (metaStr(obj, "namespace").empty() && obj["kind"] != "Namespace") obj["metadata"]["namespace"] = kAcceptanceNamespace;
  for (auto& o : objects)
    if (o["kind"] == obj["kind"] && metaStr(o, "name") == metaStr(obj, "name") && metaStr(o, "namespace") == metaStr(obj, "namespace")) {
      o = obj;
      return;
    }
  objects.push_back(obj);
}

void AcceptanceCluster::remove(const std::string& kind, const std::string& name) {
  std::erase_if(objects, [&](const Json& o) { return o["kind"] == kind && metaStr(o, "name") == name; });
}

void addServiceAccountMounts(Json& pod) {
  if (pod["spec"].value("automountServiceAccountToken", true) == false) return;
  for (const char* list : {"initContainers", "containers"}) {
    if (!pod["spec"].contains(list)) continue;
    for (auto& c : pod["spec"][list]) {
      Json& m = c["volumeMounts"];
      if (!m.is_array()) m = Json::array();
      bool has = false;
      for (const auto& e : m) has = has || e.value("mountPath", "") == "/var/run/secrets/kubernetes.io/serviceaccount";
      if (!has)
        m.push_back(Json{{"name", "kube-api-access-x7k2p"},
                         {"readOnly", true},
                         {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"}});
    }
  }
}

void apiServerDefaults(Json& j) {
  if (j.is_object()) {
    if (j.contains("fieldRef") && j["fieldRef"].is_object() && !j["fieldRef"].contains("apiVersion"))
      j["fieldRef"]["apiVersion"] = "v1";
    if (j.contains("containerPort") && !j.contains("protocol")) j["protocol"] = "TCP";
    for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"})
      if (j.contains(p) && j[p].is_object()) {
        Json& pr = j[p];
        if (!pr.contains("successThreshold")) pr["successThreshold"] = 1;
        if (!pr.contains("timeoutSeconds")) pr["timeoutSeconds"] = 1;
        if (!pr.contains("periodSeconds")) pr["periodSeconds"] = 10;
        if (!pr.contains("failureThreshold")) pr["failureThreshold"] = 3;
      }
    for (auto& [k, v] : j.items()) apiServerDefaults(v);
  } else if (j.is_array()) {
    for (auto& e : j) apiServerDefaults(e);
  }
}

Json controllerPod(const Json& workload, std::string* ownerKindOut, std::string* ownerNameOut) {
  const Json* tmpl = inject::podTemplate(workload);
  std::string kind = workload["kind"];
  std::string name = metaStr(workload, "name");
  std::string ns = metaStr(workload, "namespace");
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  pod["metadata"] = tmpl && tmpl->contains("metadata") ? (*tmpl)["metadata"] : Json::object();
  pod["metadata"]["namespace"] = ns;
  std::string ownerKind = kind, ownerName = name;
  if (kind == "Deployment") ownerKind = "ReplicaSet", ownerName = name + "-5d8f7c9b6";
  if (kind == "CronJob") ownerKind = "Job", ownerName = name + "-29000000";
  if (kind != "Pod")
    pod["metadata"]["ownerReferences"] = Json::array({Json{{"kind", ownerKind}, {"name", ownerName}, {"uid", "uid-1"}}});
  pod["spec"] = tmpl && tmpl->contains("spec") ? (*tmpl)["spec"] : Json::object();
  addServiceAccountMounts(pod);
  if (ownerKindOut) *ownerKindOut = ownerKind;
  if (ownerNameOut) *ownerNameOut = ownerName;
  return pod;
}

Json simulatePurePod(const Json& workload, const AcceptanceCluster& cluster, bool native) {
  std::string ownerKind, ownerName;
  Json pod = controllerPod(workload, &ownerKind, &ownerName);
  const std::string kind = workload["kind"], name = metaStr(workload, "name"), ns = metaStr(workload, "namespace");
  // the webhook follows the owner chain through the API (here: `lookup`)
  auto lookup = [&](const std::string& k, const std::string&, const std::string& n) -> Json {
    if (k == ownerKind && n == ownerName && ownerKind != kind)
      return Json{{"metadata", {{"ownerReferences", Json::array({Json{{"kind", kind}, {"name", name}, {"uid", "uid-0"}}})}}}};
    return Json();
  };
  Json nsAnn = Json::object();
  for (const auto& o : cluster.objects)
    if (o["kind"] == "Namespace" && metaStr(o, "name") == ns && o["metadata"].contains("annotations")) nsAnn = o["metadata"]["annotations"];
  inject::PodContext ctx = inject::contextForPod(pod, ns, nsAnn, lookup);
  inject::Catalog catalog;
  for (const auto& o : cluster.objects) {
    if (o["kind"] == "Instrumentation") catalog.instrumentations.push_back(o);
    if (o["kind"] == "OpenTelemetryCollector") catalog.collectors.push_back(o);
  }
  inject::Options opts;
  opts.record = false;
  opts.strict = false;
  opts.nativeSidecar = native;
  auto r = inject::injectPod(pod, ctx, catalog, opts);
  Json out = r.pod;
  addServiceAccountMounts(out);
  apiServerDefaults(out);
  return out;
}

namespace {
AcceptanceOutcome runChainsawTest(const fs::path& dir, const Json& test, const std::string& suite, const PodMaker& makePods) {
  AcceptanceOutcome out;
  out.suite = suite;
  out.name = metaStr(test, "name");
  bool native = test.contains("metadata") && test["metadata"].contains("labels") &&
                test["metadata"]["labels"].value("sidecar", "") == "native";
  AcceptanceCluster cluster;
  if (!test.contains("spec") || !test["spec"].contains("steps")) return out;
  for (const auto& step : test["spec"]["steps"]) {
    if (!step.contains("try")) continue;
    for (const auto& op : step["try"]) {
      if (op.contains("apply") && op["apply"].contains("file")) {
        MatchOptions bo{{{"namespace", kAcceptanceNamespace}}, {}};
        if (op["apply"].contains("bindings"))
          for (const auto& b : op["apply"]["bindings"]) {
            Json v = b.value("value", Json());
            if (v.is_string() && v.get<std::string>().front() == '(') {
              try {
                v = evalExpression(v.get<std::string>(), Json(), bo);
              } catch (const std::exception&) {
              }
            }
            bo.bindings[b.value("name", "")] = v;
          }
        for (auto& o : readDocs(dir / op["apply"]["file"].get<std::string>())) {
          o = applyTemplate(o, bo);
          cluster.apply(o);
        }
      } else if (op.contains("delete") && op["delete"].contains("ref")) {
        const Json& ref = op["delete"]["ref"];
        cluster.remove(ref.value("kind", ""), ref.value("name", ""));
      } else if (op.contains("assert") && op["assert"].contains("file")) {
        std::vector<Json> pods = makePods(cluster, native);
        for (const auto& exp : readDocs(dir / op["assert"]["file"].get<std::string>())) {
          if (exp.value("kind", "") != "Pod") continue;
          ++out.podAsserts;
          std::string ns = metaStr(exp, "namespace").empty() ? kAcceptanceNamespace : metaStr(exp, "namespace");
          MatchOptions mo{{{"namespace", kAcceptanceNamespace}}, {"status"}};
          std::optional<MatchResult> best;
          for (const auto& pod : pods) {
            if (metaStr(pod, "namespace") != ns) continue;
            auto r = chainsawMatch(exp, pod, mo);
            if (!best || r.mismatches.size() < best->mismatches.size()) best = r;
          }
          if (best && best->ok()) {
            ++out.podPasses;
            out.notEvaluated += static_cast<int>(best->notEvaluated.size());
          } else {
            std::string why = best ? best->mismatches.front() : "no pod in namespace " + ns;
            if (best && best->mismatches.size() > 1) why += " (+" + std::to_string(best->mismatches.size() - 1) + " more)";
            out.failures.push_back(op["assert"]["file"].get<std::string>() + ": " + why);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace

std::vector<AcceptanceOutcome> runInjectAcceptance(const fs::path& root, const PodMaker& makePods) {
  std::vector<AcceptanceOutcome> outcomes;
  for (const char* suite : {"e2e-instrumentation", "e2e-multi-instrumentation", "e2e-sidecar"}) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root / suite))
      if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
      if (!fs::exists(dir / "chainsaw-test.yaml")) continue;
      for (const auto& test : readDocs(dir / "chainsaw-test.yaml")) {
        if (test.value("kind", "") != "Test") continue;
        outcomes.push_back(runChainsawTest(dir, test, suite, makePods));
      }
    }
  }
  return outcomes;
}

std::set<std::string> acceptanceExpectedPasses(const std::string& file) {
  std::set<std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') out.insert(line);
  return out;
}

std::string acceptanceReport(const std::vector<AcceptanceOutcome>& outcomes) {
  std::map<std::string, std::pair<int, int>> perSuite;
  std::ostringstream report;
  for (const auto& [field, reason] : clusterFilledFields())
    report << "cluster-filled (excepted/simulated): " << field << " -- " << reason << "\n";
  for (const auto& o : outcomes) {
    auto& s = perSuite[o.suite];
    ++s.second;
    if (o.passed()) ++s.first;
    report << (o.passed() ? "PASS " : "FAIL ") << o.suite << "/" << o.name << " pod asserts " << o.podPasses << "/"
           << o.podAsserts << (o.notEvaluated ? " (" + std::to_string(o.notEvaluated) + " expressions not evaluated)" : "")
           << "\n";
    for (const auto& f : o.failures) report << "     " << f << "\n";
  }
  for (const auto& [suite, c] : perSuite) report << "suite " << suite << ": " << c.first << "/" << c.second << " tests pass\n";
  return report.str();
}

}  // namespace otel::testing
