// Upstream's chainsaw suites (e2e, e2e-targetallocator, e2e-pdb, e2e-autoscale, e2e-upgrade,
// e2e-prometheuscr, e2e-targetallocator-cr) against the
// real `kubectl otel run` and the test API server: each install step is applied through the API in
// order (apply/create/update/patch/delete), and each assert/error file is checked, with a bound, against
// the objects the server stores. The collector webhook's defaulting and validation are applied by this
// harness as kube-apiserver would call them (lib/manifests admitCollector), until `run` serves them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/manifests/build.h"
#include "lib/manifests/install.h"
#include "lib/manifests/render.h"
#include "tests/support/api_logic.h"
#include "tests/support/api_server.h"
#include "tests/support/chainsaw.h"
#include "tests/support/chainsaw_steps.h"
#include "tests/support/shell.h"

namespace fs = std::filesystem;

namespace otel::testing {
namespace {

const std::string kBin = OTEL_CLI_BINARY;
const std::vector<std::string> kSuites = {"e2e",           "e2e-targetallocator", "e2e-pdb", "e2e-autoscale",
                                          "e2e-upgrade",   "e2e-prometheuscr",    "e2e-targetallocator-cr"};
// Objects kube-controller-manager, the scheduler or a kubelet write (there are none here).
const std::set<std::string> kExceptedKinds = {"Pod", "ReplicaSet", "Event", "Endpoints", "EndpointSlice", "Lease", "Job"};
// Cases that pass; a case that regresses fails the test (new passes are printed to be added).
const std::set<std::string> kExpectedPass = {
#include "tests/integration/controller/e2e_expected_pass.inc"
};

std::string ns(const Json& o) { return api::str(o, {"metadata", "namespace"}); }
std::string name(const Json& o) { return api::str(o, {"metadata", "name"}); }

// A minimal CRD of another project (prometheus-operator, Gateway API) as a cluster with it installed serves.
Json foreignCrd(const std::string& group, const std::string& version, const std::string& plural, const std::string& kind,
                bool namespaced = true) {
  std::string singular = kind;
  for (auto& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"names", {{"plural", plural}, {"singular", singular}, {"kind", kind}, {"listKind", kind + "List"}}},
            {"scope", namespaced ? "Namespaced" : "Cluster"},
            {"versions",
             Json::array({{{"name", version}, {"served", true}, {"storage", true}, {"subresources", {{"status", Json::object()}}},
                           {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}})}}}};
}

constexpr const char* kOperatorNamespace = "opentelemetry-operator-system";

struct CaseResult {
  std::string id;
  enum { Pass, Fail, Excepted } status = Pass;
  std::string detail;
};

class ControllerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = clitest::tempDir("controller-e2e");
    kubeconfig_ = dir_ + "/kubeconfig";
    server_.writeKubeconfig(kubeconfig_);
    kube::LoadOptions lo;
    lo.kubeconfig = kubeconfig_;
    auto rc = kube::loadRestConfig(lo);
    rc.qps = 0;
    client_ = std::make_unique<kube::Client>(rc);
    client_->setWarningHandler([](const std::string&) {});
    kube::PatchOptions po;
    po.force = true;
    for (const auto& crd : manifests::crdObjects()) client_->apply(crd, po);
    // The suites assume upstream's install (kustomize): the operator runs as Deployment
    // opentelemetry-operator-controller-manager in opentelemetry-operator-system, with the webhooks on 9443
    // and metrics on 8443. The run below stands in for its pod there (POD_NAMESPACE, --operator-deployment,
    // the metrics port); kube-apiserver's EndpointSlice for Service default/kubernetes is what a cluster has.
    client_->create(kube::ResourceId{"v1", "namespaces", false, "Namespace"}, "",
                    Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kOperatorNamespace}}}});
    client_->create(kube::ResourceId{"apps/v1", "deployments", true, "Deployment"}, kOperatorNamespace, parseYaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: opentelemetry-operator-controller-manager, labels: {app.kubernetes.io/name: opentelemetry-operator, control-plane: controller-manager}}
spec:
  replicas: 0
  selector: {matchLabels: {app.kubernetes.io/name: opentelemetry-operator, control-plane: controller-manager}}
  template:
    metadata: {labels: {app.kubernetes.io/name: opentelemetry-operator, control-plane: controller-manager}}
    spec: {containers: [{name: manager, image: ghcr.io/open-telemetry/opentelemetry-operator/opentelemetry-operator}]}
)"));
    client_->create(kube::ResourceId{"discovery.k8s.io/v1", "endpointslices", true, "EndpointSlice"}, "default", parseYaml(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kubernetes, labels: {kubernetes.io/service-name: kubernetes}}
addressType: IPv4
endpoints: [{addresses: [172.18.0.2], conditions: {ready: true}}]
ports: [{name: https, port: 6443, protocol: TCP}]
)"));
    std::string log = dir_ + "/operator.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      ::setenv("POD_NAMESPACE", kOperatorNamespace, 1);
      // 8443 is below the kernel's ephemeral port range: no test's client socket takes it
      ::execl(kBin.c_str(), kBin.c_str(), "--kubeconfig", kubeconfig_.c_str(), "run", "--leader-elect", "false",
              "--metrics-addr", "127.0.0.1:8443", "--health-addr", "127.0.0.1:0", "--create-rbac", "true",
              "--operator-network-policy", "true", "--operator-deployment", "opentelemetry-operator-controller-manager",
              nullptr);
      ::_exit(127);
    }
    // the monitoring CRDs appear after the operator started: it must pick them up
    client_->apply(foreignCrd("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor"), po);
    client_->apply(foreignCrd("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor"), po);
    client_->apply(foreignCrd("monitoring.coreos.com", "v1", "probes", "Probe"), po);
    client_->apply(foreignCrd("monitoring.coreos.com", "v1alpha1", "scrapeconfigs", "ScrapeConfig"), po);
    client_->apply(foreignCrd("gateway.networking.k8s.io", "v1", "gatewayclasses", "GatewayClass", false), po);
    client_->apply(foreignCrd("gateway.networking.k8s.io", "v1", "gateways", "Gateway"), po);
    client_->apply(foreignCrd("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"), po);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }

  // The objects of the expected document's kind (in `namespace`, or cluster-wide).
  std::vector<Json> candidates(const Json& exp, const std::string& nsName) {
    std::vector<Json> out;
    std::string kind = exp.value("kind", "");
    std::string av = exp.value("apiVersion", "");
    kube::ResourceId id;
    try {
      id = client_->resourceFor(av, kind);
    } catch (const std::exception&) {
      return out;
    }
    auto listed = server_.listObjects(id.apiVersion, id.resource, id.namespaced ? nsName : "");
    for (auto& o : listed) {
      if (api::isCollector(o) && av == api::kV1alpha1) o = api::toV1alpha1(o);
      out.push_back(std::move(o));
    }
    return out;
  }

  bool matches(const Json& exp, const std::string& nsName, const Bindings& b, std::string& why) {
    std::string expName = api::str(exp, {"metadata", "name"});
    bool plain = !(expName.size() > 1 && expName.front() == '(');
    std::string first;
    bool any = false;
    for (const auto& o : candidates(exp, nsName)) {
      if (plain && !expName.empty() && name(o) != expName) continue;
      any = true;
      auto r = chainsawMatch(exp, o, bindingOptions(b));
      if (r.ok()) return true;
      if (first.empty()) first = name(o) + r.mismatches.front();
    }
    why = exp.value("kind", "") + " " + expName + ": " + (any ? first : "no such object");
    return false;
  }

  // Applies documents as chainsaw does (a write that meets a concurrent one, e.g. the controller's status
  // update, is retried from a fresh read); collectors go through the webhook's admission first.
  void apply(std::vector<Json> docs, const std::string& verb, const std::string& nsName) {
    for (const Json& d : docs) {
      for (int attempt = 1;; ++attempt) {
        try {
          applyOne(d, verb, nsName);
          break;
        } catch (const kube::ApiError& e) {
          // a conflict, or the object deleted between the read and the write (the controller pruning it):
          // read again, as a client-side apply does
          if (!(e.isConflict() || e.isNotFound()) || attempt == 5) throw;
        }
      }
    }
  }

  void applyOne(Json d, const std::string& verb, const std::string& nsName) {
    {
      if (!d.is_object() || d.empty() || !d.contains("kind")) return;
      if (!d.contains("metadata")) d["metadata"] = Json::object();
      kube::ResourceId id = client_->resourceFor(d.value("apiVersion", ""), d.value("kind", ""));
      if (id.namespaced && ns(d).empty()) d["metadata"]["namespace"] = nsName;
      std::string n = id.namespaced ? ns(d) : "";
      std::optional<Json> existing;
      try {
        existing = client_->get(id, n, name(d));
      } catch (const kube::ApiError& e) {
        if (!e.isNotFound()) throw;
      }
      bool merge = verb == "apply" || verb == "patch";
      if (api::isCollector(d)) {
        Json in = d;
        Json oldBeta;
        if (existing) oldBeta = *existing;
        if (merge && existing) {
          Json base = d.value("apiVersion", "") == api::kV1alpha1 ? api::toV1alpha1(*existing) : *existing;
          in = applyMergePatch(base, d);
        }
        Json stored = manifests::admitCollector(in, "apply", nullptr, existing ? &oldBeta : nullptr);
        stored.erase("status");
        kube::ResourceId beta = client_->resourceFor(api::kV1beta1, api::kCollectorKind);
        if (existing) {
          stored["metadata"]["resourceVersion"] = api::str(*existing, {"metadata", "resourceVersion"});
          client_->update(beta, n, stored);
        } else {
          client_->create(beta, n, stored);
        }
        return;
      }
      if (api::isTargetAllocator(d)) {
        api::defaultTargetAllocator(d);
        auto v = api::validateTargetAllocator(d);
        if (!v.ok()) throw Error(v.errors.front(), name(d));
      }
      if (existing) {
        if (merge) {
          client_->patch(id, n, name(d), kube::PatchType::Merge, d);
        } else {
          d["metadata"]["resourceVersion"] = api::str(*existing, {"metadata", "resourceVersion"});
          client_->update(id, n, d);
        }
      } else {
        client_->create(id, n, d);
      }
    }
  }

  // A chainsaw-test.yaml may hold several Test documents: each runs as its own test.
  std::vector<CaseResult> runTest(const fs::path& testDir, const std::string& id, int& index) {
    std::vector<CaseResult> results;
    bool first = true;
    for (const auto& [caseId, test] : readChainsawTests(testDir, id)) {
      auto one = runTestDoc(testDir, caseId, first ? index : ++index, test);
      first = false;
      results.insert(results.end(), one.begin(), one.end());
    }
    return results;
  }

  std::vector<CaseResult> runTestDoc(const fs::path& testDir, const std::string& id, int index, const Json& test) {
    std::vector<CaseResult> results;
    Bindings base = {{"namespace", "e2e-" + std::to_string(index)}, {"collectorVersion", manifests::kCollectorVersion}};
    if (std::string n = api::str(test, {"spec", "namespace"}); !n.empty()) base["namespace"] = n;
    addBindings(api::at(test, {"spec", "bindings"}), base);
    try {
      client_->create(kube::ResourceId{"v1", "namespaces", false, "Namespace"}, "",
                      Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", base["namespace"]}}}});
    } catch (const kube::ApiError& e) {
      if (!e.isAlreadyExists()) throw;
    }
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
          for (const char* verb : {"apply", "create", "update", "patch"})
            if (op.contains(verb)) apply(readStepDocs(testDir, op[verb], b), verb, b["namespace"]);
          // delete: {ref: {...}} or {file: ...} (every object of the file)
          std::vector<Json> refs;
          if (const Json* ref = api::at(op, {"delete", "ref"})) refs.push_back(*ref);
          if (op.contains("delete") && op["delete"].contains("file"))
            for (const auto& d : readStepDocs(testDir, op["delete"], b))
              if (d.is_object())
                refs.push_back({{"apiVersion", d.value("apiVersion", "")}, {"kind", d.value("kind", "")},
                                {"namespace", ns(d)}, {"name", name(d)}});
          for (const auto& r : refs) {
            const Json* ref = &r;
            kube::ResourceId rid = client_->resourceFor(ref->value("apiVersion", ""), ref->value("kind", ""));
            std::string n = rid.namespaced ? (ref->value("namespace", "").empty() ? b["namespace"] : ref->value("namespace", "")) : "";
            try {
              client_->remove(rid, n, ref->value("name", ""));
            } catch (const kube::ApiError& e) {
              if (!e.isNotFound()) throw;
            }
            // chainsaw waits for the deletion to finish
            clitest::eventually([&] { return server_.getObject(rid.apiVersion, rid.resource, n, ref->value("name", "")).is_null(); },
                                std::chrono::seconds(10));
          }
        } catch (const std::exception& e) {
          applyError = e.what();
        }
        for (const char* verb : {"assert", "error"}) {
          if (!op.contains(verb)) continue;
          bool isError = std::string(verb) == "error";
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
          std::vector<Json> expected;
          try {
            for (Json exp : readStepDocs(testDir, op[verb], b))
              if (exp.is_object() && prepareExpected(exp, isError, kExceptedKinds)) expected.push_back(exp);
          } catch (const std::exception& e) {  // e.g. a duplicated key, which chainsaw's YAML reader lets through
            r.status = CaseResult::Fail;
            r.detail = std::string("cannot read it: ") + e.what();
            results.push_back(r);
            continue;
          }
          if (expected.empty()) {
            r.status = CaseResult::Excepted;
            results.push_back(r);
            continue;
          }
          std::string why;
          auto holds = [&] {
            for (const auto& exp : expected) {
              // an expected object that names its namespace is looked up there (chainsaw's rule)
              const std::string where = ns(exp).empty() ? b["namespace"] : ns(exp);
              bool found = matches(exp, where, b, why);
              if (found == isError) {
                if (isError) why = "object still exists: " + exp.value("kind", "") + " " + api::str(exp, {"metadata", "name"});
                return false;
              }
            }
            return true;
          };
          // The assert must hold once the controller is done with the step, not only at one moment
          // while it works through it (a reconcile that updates the Deployment and then prunes an asserted
          // ServiceAccount matched in between): it passes when it has held across a quiet spell with no
          // write to the server.
          int writesSeen = -1;
          auto quietSince = std::chrono::steady_clock::now();
          auto writes = [&] {
            return server_.requestCount("POST") + server_.requestCount("PUT") + server_.requestCount("PATCH") +
                   server_.requestCount("DELETE");
          };
          bool ok = clitest::eventually(
              [&] {
                if (!holds()) {
                  writesSeen = -1;
                  return false;
                }
                const int w = writes();
                const auto now = std::chrono::steady_clock::now();
                if (w != writesSeen) {
                  writesSeen = w;
                  quietSince = now;
                  return false;
                }
                return now - quietSince >= std::chrono::milliseconds(250);
              },
              std::chrono::seconds(30));  // chainsaw's default assert timeout
          if (!ok) {
            r.status = CaseResult::Fail;
            r.detail = holds() ? "held, but the controller kept writing for 30 s" : why;
          }
          results.push_back(r);
        }
      }
    }
    return results;
  }

  TestApiServer server_;
  std::string dir_, kubeconfig_;
  std::unique_ptr<kube::Client> client_;
  pid_t pid_ = -1;
};

TEST_F(ControllerE2E, UpstreamSuitesAgainstTheRunningController) {
  fs::path root = fs::path(OTEL_SHARED_REFERENCE) / "upstream-e2e";
  if (!fs::exists(root)) GTEST_SKIP() << "no reference folder at " << root << " (a clone without ../shared)";
  std::map<std::string, std::pair<int, int>> perSuite;
  std::vector<std::string> failures, regressions;
  int excepted = 0, index = 0;
  for (const auto& suite : kSuites) {
    std::vector<fs::path> tests;
    for (auto& e : fs::recursive_directory_iterator(root / suite))
      if (e.path().filename() == "chainsaw-test.yaml") tests.push_back(e.path().parent_path());
    std::sort(tests.begin(), tests.end());
    for (const auto& t : tests) {
      if (!createsOtel(t)) continue;
      std::string id = fs::relative(t, root).string();
      ++index;
      for (const auto& r : runTest(t, id, index)) {
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
  std::cout << "Upstream e2e against kubectl otel run (assert/error files):\n";
  for (const auto& suite : kSuites)
    std::cout << "  " << suite << ": " << perSuite[suite].first << "/" << perSuite[suite].second << " pass\n";
  std::cout << "  excepted (only runtime-filled objects asserted): " << excepted << "\nFailing cases:\n";
  for (const auto& f : failures) std::cout << "  " << f << "\n";
  EXPECT_TRUE(regressions.empty()) << [&] {
    std::string s = "previously passing cases now fail:\n";
    for (auto& r : regressions) s += "  " + r + "\n";
    return s;
  }();
  EXPECT_GE(kExpectedPass.size(), 1u);
}

}  // namespace
}  // namespace otel::testing
