// `kubectl otel inject|uninject` in live mode: the real binary against the in-process test API server.
// Every workload kind: inject, re-inject (no write), uninject (the original back); a concurrent writer
// causing a 409 (deterministic, through the server's request hook); --all -l; -o diff; server and client
// dry runs; the default mode following the controller's webhook; one-line errors that write nothing.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "lib/manifests/install.h"
#include "tests/support/api_server.h"
#include "tests/support/shell.h"
#include "tests/support/certs.h"

namespace {
namespace fs = std::filesystem;
using otel::Json;
using otel::testing::TestApiServer;

using CliRun = otel::clitest::Result;

int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

struct Kind {
  const char* kind;
  const char* apiVersion;
  const char* resource;
  const char* shortName;
};
const Kind kKinds[] = {
    {"Deployment", "apps/v1", "deployments", "deploy"},
    {"StatefulSet", "apps/v1", "statefulsets", "sts"},
    {"DaemonSet", "apps/v1", "daemonsets", "ds"},
    {"ReplicaSet", "apps/v1", "replicasets", "rs"},
    {"ReplicationController", "v1", "replicationcontrollers", "rc"},
    {"Job", "batch/v1", "jobs", "job"},
    {"CronJob", "batch/v1", "cronjobs", "cj"},
    {"Pod", "v1", "pods", "pod"},
};
// A real API server refuses changes of a Pod's spec (beyond images ...) and of a Job's template.
bool templateIsMutable(const Kind& k) { return std::string(k.kind) != "Pod" && std::string(k.kind) != "Job"; }

const Kind& kindOf(const std::string& kind) {
  for (const auto& k : kKinds)
    if (kind == k.kind) return k;
  throw std::runtime_error("unknown kind " + kind);
}

// A workload with a user field the tool does not know (x-unknown) that must survive every round trip.
Json workload(const std::string& kind, const std::string& name, const std::string& labels = "{app: web}") {
  const Kind& k = kindOf(kind);
  std::string y = std::string("apiVersion: ") + k.apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: " + name +
                  "\n  namespace: default\n  labels: " + labels + "\n";
  const std::string podSpec =
      "{containers: [{name: app, image: 'example/web:1', env: [{name: KEEP, value: 'yes'}], x-unknown: 7}]}";
  const std::string tmpl = "{metadata: {labels: {app: web}, annotations: {note: keep}}, spec: " + podSpec + "}";
  if (kind == "Pod")
    y += "spec: " + podSpec + "\n";
  else if (kind == "CronJob")
    y += "spec: {schedule: '*/5 * * * *', jobTemplate: {spec: {template: " + tmpl + "}}}\n";
  else if (kind == "Job" || kind == "ReplicationController")
    y += "spec: {template: " + tmpl + "}\n";
  else
    y += "spec: {selector: {matchLabels: {app: web}}, template: " + tmpl + "}\n";
  return otel::parseYaml(y);
}

// The object with a controller ownerReference to `owner` (as stored, so the uid matches).
Json ownedBy(Json o, const Json& owner) {
  o["metadata"]["ownerReferences"] = Json::array({Json{{"apiVersion", owner["apiVersion"]},
                                                       {"kind", owner["kind"]},
                                                       {"name", owner["metadata"]["name"]},
                                                       {"uid", owner["metadata"]["uid"]},
                                                       {"controller", true}}});
  return o;
}

// Compared as values: key order differs between what a test sent and what the server returns (kube
// re-encodes built-in objects in its own field order).
nlohmann::json withoutServerFields(Json o) {
  for (const char* k : {"resourceVersion", "generation", "managedFields"}) o["metadata"].erase(k);
  // the DaemonSet controller's template generation, written by the server on each template change
  if (o["metadata"].contains("annotations")) {
    o["metadata"]["annotations"].erase("deprecated.daemonset.template.generation");
    if (o["metadata"]["annotations"].empty()) o["metadata"].erase("annotations");
  }
  return nlohmann::json::parse(o.dump());
}

const Json& templateOf(const Json& o) {
  const std::string kind = o.value("kind", "");
  if (kind == "Pod") return o;
  if (kind == "CronJob") return o["spec"]["jobTemplate"]["spec"]["template"];
  return o["spec"]["template"];
}

bool hasJavaAgent(const Json& o) {
  const Json& spec = templateOf(o)["spec"];
  return spec.contains("initContainers") &&
         spec["initContainers"][0].value("name", "") == "opentelemetry-auto-instrumentation-java";
}

// A validating webhook (HTTPS on 127.0.0.1) that denies every request it gets, counting dry runs.
struct DenyingWebhook {
  otel::testing::CertKey ca = otel::testing::generateCa("webhook-ca");
  otel::testing::CertKey cert = otel::testing::generateCert(ca, "webhook", {"127.0.0.1"});
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  int calls = 0, dryRuns = 0;

  explicit DenyingWebhook(const std::string& dir) {
    std::ofstream(dir + "/wh.pem") << cert.certPem;
    std::ofstream(dir + "/wh.key") << cert.keyPem;
    server = std::make_unique<httplib::SSLServer>((dir + "/wh.pem").c_str(), (dir + "/wh.key").c_str());
    server->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Json review = Json::parse(req.body);
      {
        std::lock_guard<std::mutex> lk(mu);
        ++calls;
        dryRuns += review["request"].value("dryRun", false) ? 1 : 0;
      }
      Json out = {{"apiVersion", "admission.k8s.io/v1"},
                  {"kind", "AdmissionReview"},
                  {"response",
                   {{"uid", review["request"]["uid"]},
                    {"allowed", false},
                    {"status", {{"code", 403}, {"message", "frozen workload"}}}}}};
      res.set_content(out.dump(), "application/json");
    });
    port = server->bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server->listen_after_bind(); });
    while (!server->is_running()) std::this_thread::yield();
  }
  ~DenyingWebhook() {
    server->stop();
    thread.join();
  }
  // Denies UPDATEs of Deployments labelled frozen=yes.
  Json configuration() const {
    return Json{{"apiVersion", "admissionregistration.k8s.io/v1"},
                {"kind", "ValidatingWebhookConfiguration"},
                {"metadata", {{"name", "freeze"}}},
                {"webhooks", Json::array({Json{
                                 {"name", "freeze.example.com"},
                                 {"clientConfig",
                                  {{"url", "https://127.0.0.1:" + std::to_string(port) + "/validate"},
                                   {"caBundle", otel::base64Encode(ca.certPem)}}},
                                 {"rules", Json::array({Json{{"apiGroups", {"apps"}},
                                                             {"apiVersions", {"v1"}},
                                                             {"operations", {"UPDATE"}},
                                                             {"resources", {"deployments"}}}})},
                                 {"objectSelector", {{"matchLabels", {{"frozen", "yes"}}}}},
                                 {"failurePolicy", "Fail"},
                                 {"sideEffects", "None"},
                                 {"admissionReviewVersions", {"v1"}},
                                 {"timeoutSeconds", 5}}})}};
  }
};

class InjectLiveCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = otel::clitest::tempDir(std::string("inject-live-") +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    kubeconfig_ = dir_ + "/kubeconfig";
    server_.writeKubeconfig(kubeconfig_);
    for (const auto& crd : otel::manifests::crdObjects()) server_.putObject(crd);
    server_.putObject(otel::parseYaml(R"(apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: my-inst, namespace: default}
spec:
  exporter: {endpoint: 'http://otel-collector:4318'}
)"));
  }
  void TearDown() override {
    server_.setRequestHook({});
    fs::remove_all(dir_);
  }

  CliRun kubectlOtel(const std::string& args) {
    return otel::clitest::sh(std::string(OTEL_CLI_BINARY) + " --kubeconfig " + kubeconfig_ + " " + args);
  }
  Json put(const Json& o) { return server_.putObject(o); }
  Json stored(const std::string& kind, const std::string& name) {
    const Kind& k = kindOf(kind);
    return server_.getObject(k.apiVersion, k.resource, "default", name);
  }
  std::string rv(const std::string& kind, const std::string& name) {
    return stored(kind, name)["metadata"].value("resourceVersion", "");
  }
  int writes() const { return server_.requestCount("PUT") + server_.requestCount("PATCH") + server_.requestCount("POST"); }
  void installWebhookConfiguration() {
    for (const auto& o : otel::manifests::installObjects({}))
      if (o.value("kind", "") == "MutatingWebhookConfiguration") put(o);
  }
  // The EndpointSlice a running controller gives the webhook Service (ready or not).
  void webhookEndpoint(bool ready) {
    server_.putObject(otel::parseYaml(
        std::string("{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: kubectl-otel-webhook-x, "
                    "namespace: kubectl-otel-system, labels: {kubernetes.io/service-name: kubectl-otel-webhook}}, "
                    "addressType: IPv4, endpoints: [{addresses: [10.0.0.7], conditions: {ready: ") +
        (ready ? "true" : "false") + "}}], ports: [{name: webhook, port: 9443}]}"));
  }

  TestApiServer server_;
  std::string dir_, kubeconfig_;
};

TEST_F(InjectLiveCluster, InjectReinjectUninjectEachKind) {
  for (const auto& k : kKinds) {
    if (!templateIsMutable(k)) continue;  // ImmutableTemplatesAreRefusedAndNothingIsWritten
    SCOPED_TRACE(k.kind);
    const Json original = put(workload(k.kind, "web"));
    const std::string ref = std::string(k.shortName) + "/web";
    const std::string lowerRef = [&] {
      std::string s = k.kind;
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s + "/web";
    }();

    CliRun in = kubectlOtel("inject " + ref + " --lang java");
    ASSERT_EQ(in.code, 0) << in.err;
    EXPECT_NE(in.err.find(lowerRef + ": injected: "), std::string::npos) << in.err;
    EXPECT_NE(in.err.find("mode: direct (no pod webhook of the controller is installed"), std::string::npos) << in.err;
    Json after = stored(k.kind, "web");
    EXPECT_TRUE(hasJavaAgent(after)) << after.dump(2);
    // fields the server stores survive; an unknown one it dropped at creation, as kube-apiserver does
    bool keep = false;
    for (const auto& e : templateOf(after)["spec"]["containers"][0]["env"]) keep = keep || e.value("name", "") == "KEEP";
    EXPECT_TRUE(keep);
    EXPECT_FALSE(templateOf(after)["spec"]["containers"][0].contains("x-unknown"));
    if (std::string(k.kind) != "Pod") {
      EXPECT_EQ(templateOf(after)["metadata"]["annotations"]["note"], "keep");
    }

    const std::string rvInjected = rv(k.kind, "web");
    const int writesBefore = writes();
    CliRun again = kubectlOtel("inject " + ref + " --lang java");
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_NE(again.err.find(lowerRef + ": already injected"), std::string::npos) << again.err;
    EXPECT_EQ(rv(k.kind, "web"), rvInjected);  // no write
    EXPECT_EQ(writes(), writesBefore);

    CliRun out = kubectlOtel("uninject " + ref);
    ASSERT_EQ(out.code, 0) << out.err;
    EXPECT_NE(out.err.find(lowerRef + ": uninjected: "), std::string::npos) << out.err;
    EXPECT_EQ(withoutServerFields(stored(k.kind, "web")), withoutServerFields(original));

    const std::string rvBack = rv(k.kind, "web");
    CliRun twice = kubectlOtel("uninject " + ref);
    EXPECT_EQ(twice.code, 0) << twice.err;
    EXPECT_NE(twice.err.find(lowerRef + ": skipped: nothing to remove"), std::string::npos) << twice.err;
    EXPECT_EQ(rv(k.kind, "web"), rvBack);  // no write
  }
}

TEST_F(InjectLiveCluster, JsonOutputIsAListForSeveralWorkloads) {
  put(workload("Deployment", "web"));
  put(workload("Deployment", "api"));
  CliRun two = kubectlOtel("inject deploy/web deploy/api --lang java --endpoint http://c:4318 --dry-run=client -o json");
  ASSERT_EQ(two.code, 0) << two.err;
  Json list = Json::parse(two.out);
  EXPECT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_TRUE(hasJavaAgent(list["items"][0]));
  CliRun one = kubectlOtel("inject deploy/web --lang java --endpoint http://c:4318 --dry-run=client -o json");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(Json::parse(one.out)["kind"], "Deployment");
}

TEST_F(InjectLiveCluster, ImmutableTemplatesAreRefusedAndNothingIsWritten) {
  for (const auto& k : kKinds) {
    if (templateIsMutable(k)) continue;
    SCOPED_TRACE(k.kind);
    put(workload(k.kind, "web"));
    const std::string rvBefore = rv(k.kind, "web");
    // Named explicitly, the change is attempted and the server's refusal is the result.
    CliRun in = kubectlOtel(std::string("inject ") + k.shortName + "/web --lang java");
    EXPECT_EQ(in.code, 1) << in.err;
    EXPECT_NE(in.err.find(std::string(k.kind) + (std::string(k.kind) == "Job" ? ".batch" : "") + " \"web\" is invalid: "),
              std::string::npos)
        << in.err;
    EXPECT_EQ(rv(k.kind, "web"), rvBefore);
    EXPECT_FALSE(hasJavaAgent(stored(k.kind, "web")));
    // --all reports them instead of failing on them.
    CliRun all = kubectlOtel("inject --all --lang java");
    EXPECT_EQ(all.code, 0) << all.err;
    EXPECT_NE(all.err.find("skipped: a "), std::string::npos) << all.err;
    EXPECT_EQ(rv(k.kind, "web"), rvBefore);
    server_.deleteObject(k.apiVersion, k.resource, "default", "web");
  }
}

TEST_F(InjectLiveCluster, ConflictFromAConcurrentWriterIsRetriedOnAFreshRead) {
  for (const auto& k : kKinds) {
    if (!templateIsMutable(k)) continue;
    const char* kind = k.kind;
    SCOPED_TRACE(kind);
    const Json original = put(workload(kind, "web"));
    const std::string path = std::string(std::string(k.apiVersion) == "v1" ? "/api/" : "/apis/") + k.apiVersion +
                             "/namespaces/default/" + k.resource + "/web";
    // Another writer changes the object between our GET and our first PUT: that PUT gets 409.
    std::atomic<int> puts{0};
    server_.setRequestHook([&](const otel::testing::RecordedRequest& r) {
      if (r.method != "PUT" || r.path != path || puts++ != 0) return;
      Json o = server_.getObject(k.apiVersion, k.resource, "default", "web");
      o["metadata"]["labels"]["other-writer"] = "was-here";
      server_.putObject(o);
    });
    server_.clearRequests();
    CliRun in = kubectlOtel(std::string("inject ") + k.shortName + "/web --lang java");
    server_.setRequestHook({});
    ASSERT_EQ(in.code, 0) << in.err;
    int conflicts = 0;
    for (const auto& r : server_.requests()) conflicts += r.status == 409 ? 1 : 0;
    EXPECT_EQ(conflicts, 1);
    EXPECT_EQ(puts.load(), 2);
    Json after = stored(kind, "web");
    EXPECT_EQ(after["metadata"]["labels"]["other-writer"], "was-here");  // the other writer's change kept
    EXPECT_TRUE(hasJavaAgent(after));                                     // and the injection made

    // Uninject under the same race: the label stays, the template comes back.
    puts = 0;
    server_.setRequestHook([&](const otel::testing::RecordedRequest& r) {
      if (r.method != "PUT" || r.path != path || puts++ != 0) return;
      Json o = server_.getObject(k.apiVersion, k.resource, "default", "web");
      o["metadata"]["labels"]["second-writer"] = "also";
      server_.putObject(o);
    });
    CliRun out = kubectlOtel(std::string("uninject ") + k.shortName + "/web");
    server_.setRequestHook({});
    ASSERT_EQ(out.code, 0) << out.err;
    Json back = stored(kind, "web");
    EXPECT_EQ(back["metadata"]["labels"]["second-writer"], "also");
    back["metadata"]["labels"].erase("other-writer");
    back["metadata"]["labels"].erase("second-writer");
    EXPECT_EQ(withoutServerFields(back), withoutServerFields(original));
  }
}

TEST_F(InjectLiveCluster, AllWithSelectorTakesExactlyTheLabelledWorkloads) {
  Json web = put(workload("Deployment", "web", "{team: a}"));
  put(workload("StatefulSet", "db", "{team: a}"));
  put(workload("DaemonSet", "agent", "{team: a}"));
  Json cron = put(workload("CronJob", "nightly", "{team: a}"));
  put(workload("Deployment", "other", "{team: b}"));
  Json rs = put(ownedBy(workload("ReplicaSet", "web-5d4f", "{team: a}"), web));  // managed by deploy/web
  put(ownedBy(workload("Pod", "web-5d4f-x1", "{team: a}"), rs));                  // managed by its ReplicaSet
  put(ownedBy(workload("Job", "nightly-1", "{team: a}"), cron));                  // managed by its CronJob
  const std::string jobRv = rv("Job", "nightly-1");
  put(workload("Job", "once", "{team: a}"));  // not owned: its template is immutable on a real server
  put(workload("Pod", "bare", "{team: a}"));  // not owned: a running Pod's spec is immutable
  const std::string onceRv = rv("Job", "once"), bareRv = rv("Pod", "bare");
  const std::string otherRv = rv("Deployment", "other"), rsRv = rv("ReplicaSet", "web-5d4f"),
                    podRv = rv("Pod", "web-5d4f-x1");
  server_.clearRequests();
  CliRun r = kubectlOtel("inject --all -l team=a --lang java");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
           {"Deployment", "web"}, {"StatefulSet", "db"}, {"DaemonSet", "agent"}, {"CronJob", "nightly"}})
    EXPECT_TRUE(hasJavaAgent(stored(kind, name))) << kind << "/" << name << "\n" << r.err;
  EXPECT_EQ(rv("Deployment", "other"), otherRv);
  EXPECT_EQ(rv("ReplicaSet", "web-5d4f"), rsRv);
  EXPECT_EQ(rv("Pod", "web-5d4f-x1"), podRv);
  EXPECT_EQ(rv("Job", "nightly-1"), jobRv);
  EXPECT_EQ(rv("Job", "once"), onceRv);
  EXPECT_EQ(rv("Pod", "bare"), bareRv);
  EXPECT_NE(r.err.find("job/once: skipped: a Job's pod template cannot be changed after creation"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pod/bare: skipped: a running Pod's spec cannot be changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("deployment/web: injected: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(pods are replaced by the rollout)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("injected 4 of 6 workload(s)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("replicaset/"), std::string::npos) << r.err;
  // The server did the selecting.
  int selected = 0;
  for (const auto& q : server_.requests())
    if (q.method == "GET" && q.path == "/apis/apps/v1/namespaces/default/deployments")
      selected += q.query.find("labelSelector=team%3Da") != std::string::npos ? 1 : 0;
  EXPECT_EQ(selected, 1);

  // Naming the managed ReplicaSet explicitly: skipped, pointing at its owner.
  CliRun named = kubectlOtel("inject rs/web-5d4f --lang java");
  EXPECT_EQ(named.code, 0) << named.err;
  EXPECT_NE(named.err.find("replicaset/web-5d4f: skipped: managed by deployment/web"), std::string::npos) << named.err;
  EXPECT_EQ(rv("ReplicaSet", "web-5d4f"), rsRv);

  // -l alone works like --all -l; uninject takes the same selection.
  CliRun un = kubectlOtel("uninject -l team=a");
  ASSERT_EQ(un.code, 0) << un.err;
  EXPECT_FALSE(hasJavaAgent(stored("Deployment", "web")));
  EXPECT_FALSE(hasJavaAgent(stored("CronJob", "nightly")));

  // Names and a selector together are a usage error.
  CliRun both = kubectlOtel("inject deploy/web -l team=a --lang java");
  EXPECT_EQ(both.code, 1);
  EXPECT_EQ(lineCount(both.err), 2) << both.err;  // error + hint
}

TEST_F(InjectLiveCluster, DiffOutputWithClientAndServerDryRunWritesNothing) {
  put(workload("Deployment", "web"));
  const std::string before = rv("Deployment", "web");
  const auto globalRv = server_.resourceVersion();
  server_.clearRequests();
  CliRun c = kubectlOtel("inject deploy/web --lang java --dry-run=client -o diff");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("--- live/apps.v1.Deployment.default.web\n+++ injected/apps.v1.Deployment.default.web\n@@ -", 0),
            0u)
      << c.out;
  EXPECT_NE(c.out.find("\n+      - name: opentelemetry-auto-instrumentation-java\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("\n         - name: KEEP\n"), std::string::npos) << c.out;  // context lines
  EXPECT_EQ(c.out.find("resourceVersion"), std::string::npos) << c.out;
  EXPECT_NE(c.err.find("deployment/web: injected: "), std::string::npos);
  EXPECT_NE(c.err.find("(dry run)"), std::string::npos) << c.err;
  EXPECT_EQ(server_.requestCount("PUT"), 0);

  CliRun s = kubectlOtel("inject deploy/web --lang java --dry-run=server -o diff");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.err.find("(server dry run)"), std::string::npos) << s.err;
  EXPECT_NE(s.out.find("\n+      - name: opentelemetry-auto-instrumentation-java\n"), std::string::npos) << s.out;
  int dryPuts = 0;
  for (const auto& q : server_.requests())
    if (q.method == "PUT") {
      EXPECT_NE(q.query.find("dryRun=All"), std::string::npos) << q.query;
      EXPECT_EQ(q.status, 200);
      ++dryPuts;
    }
  EXPECT_EQ(dryPuts, 1);
  EXPECT_EQ(rv("Deployment", "web"), before);
  EXPECT_EQ(server_.resourceVersion(), globalRv);
  EXPECT_FALSE(hasJavaAgent(stored("Deployment", "web")));

  // Listed (-l) workloads diff the same way: the only changes are the injection's.
  CliRun listed = kubectlOtel("inject -l app=web --lang java --dry-run=client -o diff");
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out.rfind("--- live/apps.v1.Deployment.default.web\n", 0), 0u) << listed.out;
  EXPECT_EQ(listed.out.find("\n+apiVersion"), std::string::npos) << listed.out;  // same key order as a GET
  EXPECT_EQ(listed.out.find("\n-"), std::string::npos) << listed.out;  // nothing removed by an inject

  // -o yaml of a dry run prints the would-be object.
  CliRun y = kubectlOtel("inject deploy/web --lang java --dry-run=client -o yaml");
  ASSERT_EQ(y.code, 0) << y.err;
  EXPECT_TRUE(hasJavaAgent(otel::parseYaml(y.out)));
  EXPECT_EQ(rv("Deployment", "web"), before);

  CliRun bad = kubectlOtel("inject deploy/web --lang java --dry-run=maybe");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--dry-run"), std::string::npos) << bad.err;
}

TEST_F(InjectLiveCluster, ServerDryRunReachesTheServerAndStoresNothing) {
  // lib/kube's WriteOptions::dryRun: the query parameter arrives, the answer is the admitted object, the store
  // and the resourceVersion stay as they were.
  otel::kube::LoadOptions lo;
  lo.kubeconfig = kubeconfig_;
  otel::kube::Client client(otel::kube::loadRestConfig(lo));
  Json live = put(workload("Deployment", "web"));
  const auto globalRv = server_.resourceVersion();
  Json changed = live;
  changed["metadata"]["labels"]["dry"] = "run";
  server_.clearRequests();
  otel::kube::WriteOptions w;
  w.dryRun = true;
  Json answer = client.update(changed, w);
  EXPECT_EQ(answer["metadata"]["labels"]["dry"], "run");
  EXPECT_EQ(answer["metadata"]["resourceVersion"], live["metadata"]["resourceVersion"]);
  int puts = 0;
  for (const auto& q : server_.requests())
    if (q.method == "PUT") {
      ++puts;
      EXPECT_NE(q.query.find("dryRun=All"), std::string::npos) << q.query;
    }
  EXPECT_EQ(puts, 1);
  EXPECT_FALSE(stored("Deployment", "web")["metadata"]["labels"].contains("dry"));
  EXPECT_EQ(server_.resourceVersion(), globalRv);
  // A stale resourceVersion conflicts in a dry run too (full checks, nothing stored).
  changed["metadata"]["resourceVersion"] = "1";
  try {
    client.update(changed, w);
    ADD_FAILURE() << "no conflict";
  } catch (const otel::kube::ApiError& e) {
    EXPECT_TRUE(e.isConflict()) << e.what();
  }
}

TEST_F(InjectLiveCluster, DefaultModeIsDirectWhileNothingServesTheWebhook) {
  const Json original = put(workload("Deployment", "web"));
  installWebhookConfiguration();  // installed, but no controller runs: annotations would inject nothing
  CliRun r = kubectlOtel("inject deploy/web --lang java --endpoint http://c:4318");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(hasJavaAgent(stored("Deployment", "web")));
  EXPECT_NE(r.err.find("mode: direct (--endpoint"), std::string::npos) << r.err;
  ASSERT_EQ(kubectlOtel("uninject deploy/web").code, 0);
  webhookEndpoint(false);
  r = kubectlOtel("inject deploy/web --lang java --instrumentation my-inst");
  EXPECT_NE(r.err.find("mode: direct (mutatingwebhookconfiguration/kubectl-otel-mutating-webhook-configuration is installed "
                       "but its service kubectl-otel-system/kubectl-otel-webhook has no ready endpoint"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(hasJavaAgent(stored("Deployment", "web")));  // written directly, not left to a webhook
  ASSERT_EQ(kubectlOtel("uninject deploy/web").code, 0);
  EXPECT_EQ(withoutServerFields(stored("Deployment", "web")), withoutServerFields(original));
}

TEST_F(InjectLiveCluster, DefaultModeIsAnnotateWhenTheControllersWebhookIsInstalled) {
  const Json original = put(workload("Deployment", "web"));
  installWebhookConfiguration();
  webhookEndpoint(true);
  CliRun r = kubectlOtel("inject deploy/web --lang java --instrumentation my-inst --sidecar=col");
  // No collector "col": an error naming it and the fix, nothing written.
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("collector \"col\" not found in namespace \"default\": create it with kubectl otel create "
                       "collector col -n default --mode sidecar"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(withoutServerFields(stored("Deployment", "web")), withoutServerFields(original));

  r = kubectlOtel("inject deploy/web --lang java --instrumentation my-inst --containers app");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("mode: annotate (the controller's pod webhook is installed and served: "
                       "mutatingwebhookconfiguration/kubectl-otel-mutating-webhook-configuration)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("deployment/web: annotated for the webhook: instrumentation.opentelemetry.io/inject-java=my-inst"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(pods are replaced by the rollout)"), std::string::npos) << r.err;
  Json after = stored("Deployment", "web");
  const Json& ann = after["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(ann["instrumentation.opentelemetry.io/inject-java"], "my-inst");
  EXPECT_EQ(ann["instrumentation.opentelemetry.io/container-names"], "app");
  EXPECT_FALSE(hasJavaAgent(after));

  CliRun again = kubectlOtel("inject deploy/web --lang java --instrumentation my-inst --containers app");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("deployment/web: already annotated"), std::string::npos) << again.err;

  // --mode=direct still writes the parts; uninject removes both forms exactly.
  CliRun direct = kubectlOtel("inject deploy/web --lang java --mode=direct");
  ASSERT_EQ(direct.code, 0) << direct.err;
  EXPECT_NE(direct.err.find("mode: direct (--mode=direct)"), std::string::npos) << direct.err;
  EXPECT_TRUE(hasJavaAgent(stored("Deployment", "web")));
  CliRun out = kubectlOtel("uninject deploy/web");
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_EQ(withoutServerFields(stored("Deployment", "web")), withoutServerFields(original));
}

TEST_F(InjectLiveCluster, OneLineErrorsWriteNothing) {
  put(workload("Deployment", "web"));
  put(workload("Deployment", "api"));
  const std::string webRv = rv("Deployment", "web"), apiRv = rv("Deployment", "api");
  auto unchanged = [&] {
    EXPECT_EQ(rv("Deployment", "web"), webRv);
    EXPECT_EQ(rv("Deployment", "api"), apiRv);
  };
  server_.clearRequests();

  CliRun missing = kubectlOtel("inject deploy/web --lang java --instrumentation nope");
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err,
            "deployment/web: error: instrumentation \"nope\" not found in namespace \"default\": create it with kubectl "
            "otel create instrumentation nope -n default --endpoint http://COLLECTOR:4318 (or use --endpoint URL for "
            "an inline Instrumentation)\n");
  EXPECT_EQ(missing.out, "");
  unchanged();

  // Several workloads, one of them an unsupported kind: nothing is written at all.
  CliRun kind = kubectlOtel("inject deploy/web svc/web deploy/api --lang java");
  EXPECT_EQ(kind.code, 1);
  EXPECT_NE(kind.err.find("svc/web: error: unsupported kind \"svc\""), std::string::npos) << kind.err;
  EXPECT_NE(kind.err.find("deployment/web: not written"), std::string::npos) << kind.err;
  unchanged();
  // -q: the error lines only, whichever workloads come before or after them.
  CliRun quiet = kubectlOtel("inject deploy/web svc/web deploy/api --lang java -q");
  EXPECT_EQ(quiet.code, 1);
  EXPECT_EQ(quiet.err, "svc/web: error: unsupported kind \"svc\" (supported: Deployment, StatefulSet, DaemonSet, "
                       "ReplicaSet, ReplicationController, Job, CronJob, Pod)\n");
  unchanged();

  Json bad = stored("Deployment", "web");
  bad["spec"]["template"]["metadata"]["annotations"]["instrumentation.opentelemetry.io/inject-java"] = "not a name!";
  put(bad);
  const std::string badRv = rv("Deployment", "web");
  CliRun invalid = kubectlOtel("inject deploy/web --mode=direct");
  EXPECT_EQ(invalid.code, 1);
  EXPECT_EQ(lineCount(invalid.err), 1) << invalid.err;
  EXPECT_NE(invalid.err.find("invalid value \"not a name!\" for annotation instrumentation.opentelemetry.io/inject-java"),
            std::string::npos)
      << invalid.err;
  EXPECT_EQ(rv("Deployment", "web"), badRv);

  // The webhook cannot carry an inline Instrumentation: refused before the cluster is asked anything.
  CliRun annotateInline = kubectlOtel("inject deploy/api --lang java --mode=annotate --endpoint http://c:4318");
  EXPECT_EQ(annotateInline.code, 1);
  EXPECT_NE(annotateInline.err.find("--endpoint needs --mode=direct"), std::string::npos) << annotateInline.err;
  EXPECT_EQ(rv("Deployment", "api"), apiRv);

  CliRun gone = kubectlOtel("inject deploy/nothere --lang java");
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(lineCount(gone.err), 1) << gone.err;
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;

  EXPECT_EQ(server_.requestCount("PUT"), 0);
}

TEST_F(InjectLiveCluster, ServerRefusalOfOneWorkloadWritesNone) {
  DenyingWebhook hook(dir_);
  put(hook.configuration());
  put(workload("Deployment", "web", "{team: a}"));
  put(workload("Deployment", "frozen", "{team: a, frozen: 'yes'}"));
  const std::string webRv = rv("Deployment", "web"), frozenRv = rv("Deployment", "frozen");
  CliRun r = kubectlOtel("inject -l team=a --lang java");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("deployment/frozen: error: admission webhook \"freeze.example.com\" denied the request: "
                       "frozen workload"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("deployment/web: not written (the server refused another workload; nothing was written)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(rv("Deployment", "web"), webRv);  // the preflight (dryRun=All) stopped it: no partial write
  EXPECT_EQ(rv("Deployment", "frozen"), frozenRv);
  EXPECT_EQ(hook.dryRuns, hook.calls);        // the webhook saw dry runs only
  EXPECT_EQ(r.out, "");
  // Without the frozen one, the same run writes.
  CliRun ok = kubectlOtel("inject -l team=a,frozen!=yes --lang java");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(hasJavaAgent(stored("Deployment", "web")));
}

TEST_F(InjectLiveCluster, FilesModeDiffShowsEachChangedDocument) {
  std::ofstream(dir_ + "/app.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
                                    << otel::toYaml(workload("Deployment", "web"));
  CliRun r = kubectlOtel("inject -f " + dir_ + "/app.yaml --lang java --endpoint http://c:4318 -o diff");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string name = dir_ + "/app.yaml (document 2, deployment/web)";
  EXPECT_EQ(r.out.rfind("--- a/" + name + "\n+++ b/" + name + "\n@@ -", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\n+      - name: opentelemetry-auto-instrumentation-java\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ConfigMap"), std::string::npos) << r.out;  // unchanged documents: no diff
  EXPECT_EQ(server_.requestCount("PUT"), 0);
}

}  // namespace
