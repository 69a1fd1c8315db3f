// `kubectl otel doctor` as the real binary: every corpus case offline (-f, as kubectl get -o yaml writes
// them) and live against the test API server with the same objects loaded — the same first finding both
// ways, a bounded number of requests —; bad input (exit 2, one line), --fix output, --fix --apply after a
// server-side dry run, RBAC-forbidden reads as info, and no secret in any output.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "tests/support/api_server.h"
#include "tests/support/doctor_cases.h"
#include "tests/support/shell.h"

namespace {

using otel::Json;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::testing::DoctorCase;

const std::string kBin = OTEL_CLI_BINARY;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string caseArgs(const DoctorCase& c, bool files) {
  std::string a;
  if (files)
    for (const auto& f : c.files) a += " -f " + quote(f);
  if (!c.desired.empty()) a += " --desired " + quote(c.desired);
  if (!c.error.empty()) a += " --error " + quote(c.error);
  a += " --now " + c.now;
  return a;
}

// The first finding that is not info, "none" when there is none.
std::string firstCheck(const std::string& json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.contains("findings")) return "<not json: " + json.substr(0, 200) + ">";
  for (const auto& f : j["findings"])
    if (f.value("severity", "") != "info") return f.value("check", "");
  return "none";
}

// Loads a case into the server the way the cluster held it: CRDs first (so their kinds are served),
// namespaces, then the rest; PodLog documents become the pods' logs.
void load(otel::testing::TestApiServer& server, const DoctorCase& c) {
  std::vector<Json> crds, nss, rest;
  for (const auto& d : otel::readManifests(c.files, false)) {
    const std::string kind = d.value.value("kind", "");
    if (kind == "PodLog") {
      std::string text;
      for (const auto& l : d.value["lines"]) text += l.get<std::string>() + "\n";
      server.setPodLog(d.value["metadata"].value("namespace", "default"), d.value["metadata"]["name"], d.value.value("container", ""),
                       text);
      continue;
    }
    (kind == "CustomResourceDefinition" ? crds : kind == "Namespace" ? nss : rest).push_back(d.value);
  }
  for (auto* group : {&crds, &nss, &rest})
    for (const auto& o : *group) server.putObject(o);
}

TEST(DoctorCli, EveryCaseOfflineAndLiveGivesTheSameFirstFinding) {
  int maxRequests = 0;
  for (const auto& c : otel::testing::loadDoctorCases()) {
    SCOPED_TRACE(c.name);
    Result off = sh(kBin + " doctor -o json" + caseArgs(c, true));
    EXPECT_EQ(off.code, c.expectCheck == "none" ? 0 : 1) << off.err << off.out;
    EXPECT_EQ(firstCheck(off.out), c.expectCheck) << off.out;

    otel::testing::TestApiServer server;
    ASSERT_NO_THROW(load(server, c));
    const std::string dir = otel::clitest::tempDir("doctor-" + c.name);
    server.writeKubeconfig(dir + "/kubeconfig");
    server.clearRequests();
    Result live = sh(kBin + " --kubeconfig " + dir + "/kubeconfig doctor -A -o json" + caseArgs(c, false));
    EXPECT_EQ(live.code, c.expectCheck == "none" ? 0 : 1) << live.err << live.out;
    EXPECT_EQ(firstCheck(live.out), c.expectCheck) << live.out;
    // Reads only, and a bounded number of them: the kinds doctor reads, the certificate Secrets by name, the
    // logs of failing otel containers, discovery.
    EXPECT_EQ(server.requestCount("POST") + server.requestCount("PUT") + server.requestCount("PATCH") +
                  server.requestCount("DELETE"),
              0);
    maxRequests = std::max(maxRequests, server.requestCount());
    EXPECT_LE(server.requestCount(), 60);
  }
  std::cout << "[ doctor  ] live requests per run: at most " << maxRequests << "\n";
}

TEST(DoctorCli, LiveReadsTheLogOfAFailingCollector) {
  auto cases = otel::testing::loadDoctorCases();
  const DoctorCase* c = nullptr;
  for (const auto& x : cases)
    if (x.name == "collector-crashloop") c = &x;
  ASSERT_NE(c, nullptr);
  otel::testing::TestApiServer server;
  load(server, *c);
  const std::string dir = otel::clitest::tempDir("doctor-log");
  server.writeKubeconfig(dir + "/kubeconfig");
  Result r = sh(kBin + " --kubeconfig " + dir + "/kubeconfig doctor -A -o json" + caseArgs(*c, false));
  Json j = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  ASSERT_FALSE(j["findings"].empty());
  EXPECT_EQ(j["findings"][0]["check"], "collector-crashloop");
  EXPECT_NE(j["findings"][0]["cause"].get<std::string>().find("failed to get config"), std::string::npos) << r.out;
  bool logRead = false;
  for (const auto& q : server.requests())
    if (q.path == "/api/v1/namespaces/observability/pods/gateway-collector-7c9f-abcde/log")
      logRead = q.query.find("previous=true") != std::string::npos && q.query.find("tailLines=50") != std::string::npos;
  EXPECT_TRUE(logRead) << "the previous container's last 50 lines";
}

TEST(DoctorCli, SeedSetupsFromExamples) {
  const std::string ex = std::string(OTEL_SOURCE_DIR) + "/examples/doctor/";
  Result a = sh(kBin + " doctor -f " + ex + "seed-no-prometheus.yaml");
  EXPECT_EQ(a.code, 1);
  EXPECT_EQ(a.out.rfind("Root cause: OpenTelemetryCollector observability/otel-agent\n  [error] ta-no-prometheus-receiver:", 0), 0u) << a.out;
  Result b = sh(kBin + " doctor -f " + ex + "seed-mode-error.yaml --desired " + ex + "seed-mode-error-desired.yaml --error " +
                quote("The OpenTelemetry Collector mode is set to deployment, which does not support modification"));
  EXPECT_EQ(b.code, 1);
  EXPECT_NE(b.out.find("[error] mode-defaulted-on-create:"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("kubectl delete opentelemetrycollector otel-agent -n observability\n"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("kubectl apply -f " + ex + "seed-mode-error-desired.yaml"), std::string::npos) << b.out;
}

TEST(DoctorCli, BadInputIsOneLineAndExitTwo) {
  const std::string dir = otel::clitest::tempDir("doctor-bad");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  struct Bad {
    std::string file, text, message;
  };
  const std::vector<Bad> bad = {
      {"truncated.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: apps\n", "truncated.yaml"},
      {"list.yaml", "apiVersion: v1\nkind: List\nmetadata: {}\n", "List without items"},
      {"nokind.yaml", "apiVersion: v1\nmetadata: {name: web}\n", "object without kind (metadata.name web)"},
      {"scalar.yaml", "just text\n", "expected an object"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.file);
    Result r = sh(kBin + " doctor -f " + write(b.file, b.text));
    EXPECT_EQ(r.code, 2) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    // One line saying what and where (the project's error form: "error: ..." and at most a "hint: ..." line).
    const std::string first = r.err.substr(0, r.err.find('\n'));
    EXPECT_NE(first.find(b.message), std::string::npos) << r.err;
    EXPECT_NE(first.find(dir + "/" + b.file), std::string::npos) << r.err;
    EXPECT_EQ(first.rfind("error: ", 0), 0u) << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
    if (std::count(r.err.begin(), r.err.end(), '\n') == 2) {
      EXPECT_NE(r.err.find("\nhint: "), std::string::npos) << r.err;
    }
  }
  Result unknown = sh(kBin + " doctor -f " + write("widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"));
  EXPECT_EQ(unknown.code, 0) << unknown.err;
  EXPECT_NE(unknown.out.find("No problems found."), std::string::npos);
  Result missing = sh(kBin + " doctor -f " + dir + "/nope.yaml");
  EXPECT_EQ(missing.code, 2);
  Result apply = sh(kBin + " doctor --apply -f " + dir + "/widget.yaml");
  EXPECT_EQ(apply.code, 2);
  EXPECT_NE(apply.err.find("--apply needs --fix"), std::string::npos);
}

const DoctorCase& caseNamed(const std::vector<DoctorCase>& all, const std::string& name) {
  for (const auto& c : all)
    if (c.name == name) return c;
  throw std::runtime_error("no case " + name);
}

TEST(DoctorCli, FixPrintsTheCorrectedObjects) {
  auto all = otel::testing::loadDoctorCases();
  const DoctorCase& c = caseNamed(all, "named-prometheus-receiver");
  Result diff = sh(kBin + " doctor --fix" + caseArgs(c, true));
  EXPECT_EQ(diff.code, 1) << diff.err;
  EXPECT_NE(diff.out.find("--- live/OpenTelemetryCollector observability/gateway"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("-      prometheus/apps:"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+      prometheus:"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("configVersions"), std::string::npos) << "the diff shows the fix only:\n" << diff.out;
  Result yaml = sh(kBin + " doctor --fix -o yaml" + caseArgs(c, true));
  auto docs = otel::parseYamlStream(yaml.out, "fix");
  ASSERT_EQ(docs.size(), 1u) << yaml.out;
  EXPECT_TRUE(docs[0].value["spec"]["config"]["receivers"].contains("prometheus"));
  EXPECT_EQ(docs[0].value["spec"]["config"]["service"]["pipelines"]["metrics"]["receivers"], Json::parse(R"(["otlp","prometheus"])"));
  // A recreate fix is commands, not applied.
  const DoctorCase& m = caseNamed(all, "mode-defaulted-on-create");
  Result cmds = sh(kBin + " doctor --fix" + caseArgs(m, true));
  EXPECT_NE(cmds.out.find("# mode-defaulted-on-create (OpenTelemetryCollector observability/agent):"), std::string::npos) << cmds.out;
}

TEST(DoctorCli, FixApplyGrantsTheAllocatorsRulesAfterADryRun) {
  auto all = otel::testing::loadDoctorCases();
  const DoctorCase& c = caseNamed(all, "ta-rbac-missing");
  otel::testing::TestApiServer server;
  load(server, c);
  const std::string dir = otel::clitest::tempDir("doctor-apply");
  server.writeKubeconfig(dir + "/kubeconfig");
  const std::string otel = kBin + " --kubeconfig " + dir + "/kubeconfig doctor -A";
  server.clearRequests();
  Result r = sh(otel + " --fix --apply" + caseArgs(c, false));
  ASSERT_EQ(r.code, 1) << r.err << r.out;  // problems were found (and fixed)
  EXPECT_NE(r.out.find("ClusterRole gateway-targetallocator-doctor created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ClusterRoleBinding gateway-targetallocator-doctor created"), std::string::npos) << r.out;
  int dry = 0, real = 0;
  for (const auto& q : server.requests())
    if (q.method == "POST") (q.query.find("dryRun=All") != std::string::npos ? dry : real)++;
  EXPECT_EQ(dry, 2);
  EXPECT_EQ(real, 2);
  Result after = sh(otel + " -o json" + caseArgs(c, false));
  EXPECT_EQ(after.out.find("ta-rbac-missing"), std::string::npos) << after.out;
}

TEST(DoctorCli, ForbiddenReadsAreInfoFindingsNotCrashes) {
  otel::testing::TestApiServerOptions opts;
  opts.users.push_back({"alice-token", "alice"});
  otel::testing::TestApiServer server(opts);
  // alice may read pods and namespaces only.
  server.putObject(Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"pods"},
    "rules":[{"apiGroups":[""],"resources":["pods","namespaces"],"verbs":["get","list"]}]})"));
  server.putObject(Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"alice"},
    "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pods"},"subjects":[{"kind":"User","name":"alice"}]})"));
  const std::string dir = otel::clitest::tempDir("doctor-forbidden");
  server.writeKubeconfig(dir + "/kubeconfig", "default", "alice-token");
  Result r = sh(kBin + " --kubeconfig " + dir + "/kubeconfig doctor -A -o json");
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  Json j = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  int info = 0;
  for (const auto& f : j["findings"])
    if (f["check"] == "read-skipped") {
      ++info;
      EXPECT_EQ(f["severity"], "info");
      EXPECT_GE(f["evidence"].size(), 5u) << r.out;  // every forbidden list, named
    }
  EXPECT_EQ(info, 1) << r.out;
  EXPECT_GE(j["skipped"].size(), 5u) << r.out;
  EXPECT_NE(r.out.find("forbidden for the current user (RBAC)"), std::string::npos);
  // Nobody may read anything: that is "could not run".
  otel::testing::TestApiServerOptions none;
  none.users.push_back({"bob-token", "bob"});
  otel::testing::TestApiServer empty(none);
  empty.writeKubeconfig(dir + "/kubeconfig-bob", "default", "bob-token");
  Result bob = sh(kBin + " --kubeconfig " + dir + "/kubeconfig-bob doctor -A");
  EXPECT_EQ(bob.code, 2) << bob.out << bob.err;
  EXPECT_NE(bob.err.find("could not read the cluster"), std::string::npos) << bob.err;
}

TEST(DoctorCli, NoSecretInAnyOutput) {
  auto all = otel::testing::loadDoctorCases();
  for (const char* name : {"webhook-cert-expired", "webhook-cabundle-stale"}) {
    const DoctorCase& c = caseNamed(all, name);
    const std::string key = "cmVkYWN0ZWQta2V5LW5vdC1yZWFkLWJ5LWRvY3Rvcg==";  // the fixture's tls.key
    for (const std::string& args : {std::string(" -o json"), std::string(""), std::string(" --fix"), std::string(" --fix -o yaml")}) {
      Result r = sh(kBin + " doctor" + args + caseArgs(c, true));
      EXPECT_EQ(r.out.find(key), std::string::npos) << name << args;
      EXPECT_EQ(r.out.find("tls.key"), std::string::npos) << name << args;
    }
  }
}

}  // namespace
