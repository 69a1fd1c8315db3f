// Upstream's chainsaw e2e suites as acceptance tests: every test folder whose install files create
// OpenTelemetryCollector/TargetAllocator objects is replayed (apply/patch/update/delete steps) over a
// simulated cluster whose owned objects come from our builders; each assert file must match with
// chainsaw's partial-match semantics and each error file must match nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>
#include <set>

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/manifests/build.h"
#include "lib/manifests/render.h"
#include "tests/unit/manifests/apiserver_defaults.h"
#include "tests/support/api_logic.h"
#include "tests/support/chainsaw.h"
#include "tests/support/chainsaw_steps.h"

namespace fs = std::filesystem;

namespace otel::testing {
namespace {

const char* kNamespace = "chainsaw-test";

MatchOptions opts(const Bindings& b) { return bindingOptions(b); }
const std::vector<std::string> kSuites = {"e2e",           "e2e-targetallocator",    "e2e-pdb",
                                          "e2e-autoscale", "e2e-targetallocator-cr", "e2e-prometheuscr"};

// THE exception list: what an assert may require that our builders cannot produce, and why.
struct Exception {
  std::string what;
  std::string reason;
};
const std::vector<Exception> kExceptions = {
    {"top-level `status` of every asserted object",
     "filled at runtime by kube-controller-manager/kubelet (workload replicas, readiness) or by the controller's status "
     "writer from live workload status (collector scale/statusReplicas/image/version)"},
    {"kinds Pod, ReplicaSet, Event, Endpoints, EndpointSlice, Lease, Job",
     "created by kube-controller-manager, the scheduler/kubelet or the test's own workloads, not by the operator"},
    {"metadata.annotations[deployment.kubernetes.io/revision], metadata.generation/resourceVersion/uid/creationTimestamp",
     "written by kube-controller-manager / the API server"},
};
const std::set<std::string> kExceptedKinds = {"Pod", "ReplicaSet", "Event", "Endpoints", "EndpointSlice", "Lease", "Job"};

// Cases (suite/test:file) that pass today; a regression of any of them fails the test.
const std::set<std::string> kExpectedPass = {
#include "tests/unit/manifests/e2e_expected_pass.inc"
};

std::string key(const Json& o) {
  std::string av = o.value("apiVersion", "");
  std::string group = av.find('/') == std::string::npos ? "" : av.substr(0, av.find('/'));
  return group + "/" + o.value("kind", "") + "/" + api::str(o, {"metadata", "namespace"}, kNamespace) + "/" +
         api::str(o, {"metadata", "name"});
}

bool isOtel(const Json& o) { return api::isCollector(o) || api::isTargetAllocator(o); }

struct CaseResult {
  std::string id;
  enum { Pass, Fail, Excepted } status = Pass;
  std::string detail;
  std::vector<std::string> notEvaluated;
};

class Cluster {
 public:
  explicit Cluster(Bindings b) : bindings_(std::move(b)) {}

  // Applies user objects; OTel CRs go through admission (defaulting + validation, with the stored
  // object as `old` on update). Throws otel::Error when admission rejects.
  void apply(const std::vector<Json>& docs, bool merge, const std::string& ns) {
    for (Json d : docs) {
      if (!d.is_object() || d.empty()) continue;
      if (!d.contains("metadata")) d["metadata"] = Json::object();
      if (api::str(d, {"metadata", "namespace"}).empty() && !clusterScoped(d)) d["metadata"]["namespace"] = ns;
      std::string k = key(d);
      if (api::isCollector(d)) k = key(api::toV1beta1(d));
      auto old = applied_.find(k);
      if (merge && old != applied_.end()) {
        Json base = old->second;
        if (api::isCollector(d) && d.value("apiVersion", "") == api::kV1alpha1) base = api::toV1alpha1(base);
        d = applyMergePatch(base, d);
      }
      if (api::isCollector(d)) {
        Json stored = manifests::admitCollector(d, "apply", nullptr, old != applied_.end() ? &old->second : nullptr);
        if (api::str(stored, {"metadata", "uid"}).empty())
          stored["metadata"]["uid"] = old != applied_.end() ? api::str(old->second, {"metadata", "uid"}) : "uid-" + k;
        if (api::str(stored, {"metadata", "uid"}).empty()) stored["metadata"]["uid"] = "uid-" + k;
        applied_[k] = stored;
      } else if (api::isTargetAllocator(d)) {
        api::defaultTargetAllocator(d);
        auto v = api::validateTargetAllocator(d);
        if (!v.ok()) throw Error(v.errors.front(), k);
        d["metadata"]["uid"] = "uid-" + k;
        applied_[k] = d;
      } else if (auto own = owned_.find(k); own != owned_.end()) {
        own->second.obj = applyMergePatch(own->second.obj, d);  // a user edits an operator-owned object
      } else {
        applied_[k] = d;
      }
    }
    reconcile();
  }

  void remove(const Json& ref) {
    Json o = {{"apiVersion", ref.value("apiVersion", "")}, {"kind", ref.value("kind", "")},
              {"metadata", {{"name", ref.value("name", "")}, {"namespace", ref.value("namespace", kNamespace)}}}};
    applied_.erase(key(o));
    reconcile();
  }

  // Every object an assert can see: applied objects and owned objects.
  std::vector<Json> objects() const {
    std::vector<Json> out;
    for (auto& [k, v] : applied_) out.push_back(v);
    for (auto& [k, v] : owned_) out.push_back(v.obj);
    return out;
  }

 private:
  struct Owned {
    Json obj;
    long seq;
  };
  static bool clusterScoped(const Json& o) {
    static const std::set<std::string> kinds = {"ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition"};
    return kinds.count(o.value("kind", "")) > 0;
  }

  void reconcile() {
    std::vector<YamlDocument> docs;
    int i = 0;
    for (auto& [k, v] : applied_)
      if (isOtel(v)) docs.push_back({v, "cluster", i++, 1});
    manifests::RenderOptions opts;
    opts.defaultNamespace = kNamespace;
    opts.includeCustomResources = false;
    auto res = manifests::render(docs, opts);
    std::set<std::string> unmanaged;  // instance labels
    for (auto& [k, v] : applied_)
      if (api::isCollector(v) && api::str(v, {"spec", "managementState"}) == "unmanaged")
        unmanaged.insert(api::str(v, {"metadata", "namespace"}) + "." + api::str(v, {"metadata", "name"}));
    std::set<std::string> desired;
    for (auto& o : res.objects) {
      std::string k = key(o);
      desired.insert(k);
      auto it = owned_.find(k);
      if (it == owned_.end())
        owned_[k] = {o, ++seq_};
      else
        it->second.obj = mergeLive(it->second.obj, o);
    }
    // prune: objects no longer desired, except collector ConfigMaps kept as configVersions history
    std::map<std::string, std::vector<std::pair<long, std::string>>> history;  // collector -> (seq, key)
    for (auto it = owned_.begin(); it != owned_.end();) {
      if (desired.count(it->first)) {
        if (it->second.obj.value("kind", "") == "ConfigMap" &&
            api::str(it->second.obj, {"metadata", "labels", "app.kubernetes.io/component"}) == "opentelemetry-collector")
          history[api::str(it->second.obj, {"metadata", "labels", "app.kubernetes.io/instance"})].push_back({it->second.seq, it->first});
        ++it;
        continue;
      }
      const Json& o = it->second.obj;
      std::string instance = api::str(o, {"metadata", "labels", "app.kubernetes.io/instance"});
      if (unmanaged.count(instance)) {  // the controller leaves an unmanaged collector's objects alone
        ++it;
        continue;
      }
      // the TargetAllocator reconciler never prunes: its objects live as long as the TA CR
      if (api::str(o, {"metadata", "labels", "app.kubernetes.io/component"}) == "opentelemetry-targetallocator" &&
          taAlive(o, desired)) {
        ++it;
        continue;
      }
      bool ownerAlive = false;
      for (auto& [k, v] : applied_)
        if (api::isCollector(v) && api::str(v, {"metadata", "namespace"}) + "." + api::str(v, {"metadata", "name"}) == instance)
          ownerAlive = true;
      if (o.value("kind", "") == "ConfigMap" && api::str(o, {"metadata", "labels", "app.kubernetes.io/component"}) == "opentelemetry-collector" &&
          ownerAlive) {
        history[instance].push_back({it->second.seq, it->first});
        ++it;
        continue;
      }
      it = owned_.erase(it);
    }
    for (auto& [instance, list] : history) {
      long long versions = 3;
      for (auto& [k, v] : applied_)
        if (api::isCollector(v) && api::str(v, {"metadata", "namespace"}) + "." + api::str(v, {"metadata", "name"}) == instance)
          versions = api::integer(v, {"spec", "configVersions"}, 3);
      size_t keep = static_cast<size_t>(std::max(versions, 1LL) + 1);
      std::sort(list.begin(), list.end(), std::greater<>());
      for (size_t j = keep; j < list.size(); ++j)
        if (!desired.count(list[j].second)) owned_.erase(list[j].second);
    }
  }

  // The reconciler's update (upstream internal/manifests/mutate.go): desired labels/annotations win,
  // extra ones on the live object (and its pod template) are kept.
  static Json mergeLive(const Json& live, Json desired) {
    auto merge = [](const Json* from, Json& into) {
      if (!from || !from->is_object()) return;
      if (!into.is_object()) into = Json::object();
      for (auto it = from->begin(); it != from->end(); ++it)
        if (!into.contains(it.key())) into[it.key()] = it.value();
    };
    for (const char* f : {"labels", "annotations"}) {
      const Json* l = api::at(live, {"metadata", f});
      if (l && l->is_object() && !l->empty()) merge(l, desired["metadata"][f]);
      const Json* t = api::at(live, {"spec", "template", "metadata", f});
      if (t && t->is_object() && !t->empty() && desired.contains("spec") && desired["spec"].contains("template"))
        merge(t, desired["spec"]["template"]["metadata"][f]);
    }
    return desired;
  }

  bool taAlive(const Json& o, const std::set<std::string>& desired) const {
    if (const Json* refs = api::at(o, {"metadata", "ownerReferences"}); refs && refs->is_array())
      for (const auto& r : *refs) {
        Json ta = {{"apiVersion", r.value("apiVersion", "")}, {"kind", r.value("kind", "")},
                   {"metadata", {{"name", r.value("name", "")}, {"namespace", api::str(o, {"metadata", "namespace"})}}}};
        if (applied_.count(key(ta)) || desired.count(key(ta))) return true;
      }
    return false;
  }

  Bindings bindings_;
  std::map<std::string, Json> applied_;
  std::map<std::string, Owned> owned_;
  long seq_ = 0;
};

// True when some object satisfies `exp`.
bool findMatch(const Json& exp, const std::vector<Json>& objs, const Bindings& b, std::string& why,
               std::vector<std::string>& notEvaluated) {
  std::string expName;
  bool nameIsPlain = false;
  if (const Json* n = api::at(exp, {"metadata", "name"}); n && n->is_string()) {
    expName = n->get<std::string>();
    nameIsPlain = !(expName.size() > 1 && expName.front() == '(');
  }
  bool anyCandidate = false;
  std::string firstMismatch;
  for (const auto& o : objs) {
    if (o.value("kind", "") != exp.value("kind", "")) continue;
    if (exp.contains("apiVersion") && o.value("apiVersion", "") != exp.value("apiVersion", "")) {
      // a collector is served in both versions
      if (!(api::isCollector(o) && api::isCollector(exp))) continue;
    }
    if (nameIsPlain && api::str(o, {"metadata", "name"}) != expName) continue;
    anyCandidate = true;
    Json actual = withApiServerDefaults(o);
    if (api::isCollector(o) && exp.value("apiVersion", "") == api::kV1alpha1) actual = api::toV1alpha1(actual);
    auto r = chainsawMatch(exp, actual, opts(b));
    if (r.ok()) {
      notEvaluated.insert(notEvaluated.end(), r.notEvaluated.begin(), r.notEvaluated.end());
      return true;
    }
    if (firstMismatch.empty()) firstMismatch = api::str(o, {"metadata", "name"}) + r.mismatches.front();
  }
  why = exp.value("kind", "") + " " + expName + ": " + (anyCandidate ? firstMismatch : "no such object");
  return false;
}

std::vector<CaseResult> runTestDoc(const fs::path& testDir, const std::string& id, const Json& test);

// A chainsaw-test.yaml may hold several Test documents: each runs as its own test.
std::vector<CaseResult> runTest(const fs::path& testDir, const std::string& id) {
  std::vector<CaseResult> results;
  for (const auto& [caseId, test] : readChainsawTests(testDir, id)) {
    auto one = runTestDoc(testDir, caseId, test);
    results.insert(results.end(), one.begin(), one.end());
  }
  return results;
}

std::vector<CaseResult> runTestDoc(const fs::path& testDir, const std::string& id, const Json& test) {
  std::vector<CaseResult> results;
  Bindings base = {{"namespace", kNamespace}, {"collectorVersion", manifests::kCollectorVersion}};
  Cluster cluster(base);
  if (std::string ns = api::str(test, {"spec", "namespace"}); !ns.empty()) base["namespace"] = ns;
  addBindings(api::at(test, {"spec", "bindings"}), base);
  const Json* steps = api::at(test, {"spec", "steps"});
  if (!steps || !steps->is_array()) return results;
  std::string applyError;
  for (const auto& step : *steps) {
    Bindings b = base;
    addBindings(api::at(step, {"bindings"}), b);
    const Json* ops = api::at(step, {"try"});
    if (!ops || !ops->is_array()) continue;
    for (const auto& op : *ops) {
      try {
        for (const char* verb : {"apply", "create", "update", "patch"}) {
          if (!op.contains(verb)) continue;
          // chainsaw's apply and patch merge into the existing object; create/update replace it
          cluster.apply(readStepDocs(testDir, op[verb], b), std::string(verb) == "patch" || std::string(verb) == "apply",
                        b["namespace"]);
        }
        if (op.contains("delete")) {
          const Json* ref = api::at(op["delete"], {"ref"});
          if (ref) cluster.remove(*ref);
        }
      } catch (const Error& e) {
        applyError = e.oneLine();
      }
      for (const char* verb : {"assert", "error"}) {
        if (!op.contains(verb)) continue;
        std::string file = api::str(op[verb], {"file"});
        if (file.empty()) file = "inline-" + std::string(verb) + "@" + api::str(step, {"name"});
        CaseResult r;
        r.id = id + ":" + file;
        if (!applyError.empty()) {
          r.status = CaseResult::Fail;
          r.detail = "apply failed: " + applyError;
          results.push_back(r);
          continue;
        }
        auto objs = cluster.objects();
        int evaluated = 0;
        std::vector<Json> expectedDocs;
        try {
          expectedDocs = readStepDocs(testDir, op[verb], b);
        } catch (const std::exception& e) {  // e.g. a duplicated key, which chainsaw's YAML reader lets through
          r.status = CaseResult::Fail;
          r.detail = std::string("cannot read it: ") + e.what();
          results.push_back(r);
          continue;
        }
        for (Json exp : expectedDocs) {
          // `(x_k8s_exists($client, apiVersion, kind, $namespace, name)): bool` documents
          if (exp.is_object() && exp.size() == 1 && exp.begin().key().find("x_k8s_exists(") != std::string::npos) {
            static const std::regex re(
                "x_k8s_exists\\(\\$client,\\s*'([^']*)',\\s*'([^']*)',\\s*\\$namespace,\\s*'([^']*)'\\)");
            std::smatch m;
            std::string k = exp.begin().key();
            if (std::regex_search(k, m, re) && exp.begin().value().is_boolean()) {
              ++evaluated;
              Json probe = {{"apiVersion", m[1].str()}, {"kind", m[2].str()}, {"metadata", {{"name", m[3].str()}, {"namespace", b["namespace"]}}}};
              bool exists = false;
              for (const auto& o : objs) exists = exists || key(o) == key(probe);
              if (exists != exp.begin().value().get<bool>()) {
                r.status = CaseResult::Fail;
                r.detail = k + " is " + (exists ? "true" : "false");
                break;
              }
            } else {
              r.notEvaluated.push_back(k);
            }
            continue;
          }
          if (!prepareExpected(exp, std::string(verb) == "error", kExceptedKinds)) continue;
          ++evaluated;
          std::string why;
          bool found = findMatch(exp, objs, b, why, r.notEvaluated);
          if (std::string(verb) == "assert" && !found) {
            r.status = CaseResult::Fail;
            r.detail = why;
            break;
          }
          if (std::string(verb) == "error" && found) {
            r.status = CaseResult::Fail;
            r.detail = "object still exists: " + exp.value("kind", "") + " " + api::str(exp, {"metadata", "name"});
            break;
          }
        }
        if (evaluated == 0 && r.status == CaseResult::Pass) r.status = CaseResult::Excepted;
        results.push_back(r);
      }
    }
  }
  return results;
}

TEST(UpstreamE2E, ChainsawSuites) {
  fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "no reference folder at " << root << " (a clone without ../shared)";
  std::map<std::string, std::pair<int, int>> perSuite;  // passes, total
  std::vector<std::string> regressions, failures;
  std::set<std::string> notEvaluated;
  int excepted = 0;
  for (const auto& suite : kSuites) {
    std::vector<fs::path> tests;
    for (auto& e : fs::recursive_directory_iterator(root / suite))
      if (e.path().filename() == "chainsaw-test.yaml") tests.push_back(e.path().parent_path());
    std::sort(tests.begin(), tests.end());
    for (const auto& t : tests) {
      if (!createsOtel(t)) continue;
      std::string id = fs::relative(t, root).string();
      for (const auto& r : runTest(t, id)) {
        for (const auto& n : r.notEvaluated) notEvaluated.insert(r.id + " " + n);
        if (r.status == CaseResult::Excepted) {
          ++excepted;
          continue;
        }
        auto& [pass, total] = perSuite[suite];
        ++total;
        if (r.status == CaseResult::Pass) {
          ++pass;
          if (!kExpectedPass.count(r.id)) std::cout << "NEW PASS (add to e2e_expected_pass.inc): \"" << r.id << "\",\n";
        } else {
          failures.push_back(r.id + " -> " + r.detail);
          if (kExpectedPass.count(r.id)) regressions.push_back(r.id + " -> " + r.detail);
        }
      }
    }
  }
  std::cout << "Upstream e2e acceptance (assert/error files):\n";
  for (const auto& suite : kSuites)
    std::cout << "  " << suite << ": " << perSuite[suite].first << "/" << perSuite[suite].second << " pass\n";
  std::cout << "  excepted (only runtime-filled objects asserted): " << excepted << "\n";
  std::cout << "Failing cases:\n";
  for (const auto& f : failures) std::cout << "  " << f << "\n";
  std::cout << "Not evaluated (chainsaw expressions): " << notEvaluated.size() << "\n";
  if (std::getenv("OTEL_E2E_VERBOSE"))
    for (const auto& n : notEvaluated) std::cout << "  " << n << "\n";
  // Every expression of these suites is inside chainsaw.h's subset (docs/testing.md): one that is not would
  // leave the rest of its assert to pass alone.
  EXPECT_TRUE(notEvaluated.empty()) << notEvaluated.size() << " chainsaw expressions not evaluated, first: "
                                    << (notEvaluated.empty() ? "" : *notEvaluated.begin());
  EXPECT_TRUE(regressions.empty()) << "previously passing cases now fail:\n" << [&] {
    std::string s;
    for (auto& r : regressions) s += "  " + r + "\n";
    return s;
  }();
}

TEST(UpstreamE2E, ExceptionListHasReasons) {
  for (const auto& e : kExceptions) EXPECT_FALSE(e.reason.empty()) << e.what;
  for (const auto& d : kApiServerDefaults) EXPECT_FALSE(d.reason.empty()) << d.what;
}

TEST(ChainsawMatch, Semantics) {
  MatchOptions b = opts({{"namespace", "ns"}});
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"a":{"b":1}})J"), Json::parse(R"J({"a":{"b":1,"c":2},"d":3})J"), b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"a":[1]})J"), Json::parse(R"J({"a":[1,2]})J"), b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"a":"x"})J"), Json::parse(R"J({"a":"y"})J"), b).ok());
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"a":null})J"), Json::parse(R"J({})J"), b).ok());  // null ~ absent
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"n":"($namespace)"})J"), Json::parse(R"J({"n":"ns"})J"), b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"n":"($namespace)"})J"), Json::parse(R"J({"n":"other"})J"), b).ok());
  // key expressions are evaluated against the actual node
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"(length(x))":2})J"), Json::parse(R"J({"x":[1,2]})J"), b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"(length(x))":1})J"), Json::parse(R"J({"x":[1,2]})J"), b).ok());
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"c":{"(contains(@, 'otlp'))":true}})J"),
                            Json::parse(R"J({"c":"receivers: otlp"})J"), b)
                  .ok());
  Json meta = Json::parse(R"J({"annotations":{"a":"1"},"v":[{"name":"x","p":"/x"}]})J");
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"(contains(keys(annotations), 'a'))":true})J"), meta, b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"(!contains(keys(annotations), 'a'))":true})J"), meta, b).ok());
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"v":{"(length([?name == 'x' && p == '/x']) > `0`)":true}})J"), meta, b).ok());
  EXPECT_FALSE(chainsawMatch(Json::parse(R"J({"v":{"(length([?name == 'y']) > `0`)":true}})J"), meta, b).ok());
  EXPECT_TRUE(chainsawMatch(Json::parse(R"J({"d":{"(parse_yaml(@))":{"k":[1]}}})J"), Json::parse(R"J({"d":"k: [1]\nz: 2"})J"), b)
                  .ok());
  auto r = chainsawMatch(Json::parse(R"J({"(to_upper(x))":1})J"), Json::parse(R"J({})J"), b);
  EXPECT_TRUE(r.ok());  // outside the subset: reported, never a pass or a failure
  EXPECT_EQ(r.notEvaluated.size(), 1u);
  Json out;
  EXPECT_TRUE(evalValue("(join('', ['img:', $namespace]))", b, out));
  EXPECT_EQ(out, "img:ns");
  EXPECT_EQ(applyTemplate(Json::parse(R"J({"a":"($namespace)","b":"($unknown)"})J"), b),
            Json::parse(R"J({"a":"ns","b":"($unknown)"})J"));
  EXPECT_EQ(applyMergePatch(Json::parse(R"J({"a":1,"b":{"c":2}})J"), Json::parse(R"J({"b":null,"d":4})J")), Json::parse(R"J({"a":1,"d":4})J"));
}

}  // namespace
}  // namespace otel::testing
