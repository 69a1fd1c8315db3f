// The pod admission webhook over TLS on loopback, served the way `kubectl otel run` serves it
// (lib/http Server with a serving certificate, the kPodPath route of plugin/webhooks.cpp with in-memory
// lookups), called the way kube-apiserver calls it (keep-alive HTTPS, CA verified, the AdmissionReview v1
// CREATE it sends) for a pod asking for Java instrumentation and a sidecar collector.
//
//   BM_AdmissionTls_FixedRate     open loop at BENCH_ADMISSION_RATE requests/s (500) for BENCH_ADMISSION_SECONDS
//                                 (30): latency from each request's due time (coordinated omission counted),
//                                 server and client CPU.
//   BM_NoopTls_Throughput         closed loop, BENCH_ADMISSION_REQUESTS requests (4000) over 1 or 2 connections
//                                 to a handler answering a fixed allowed AdmissionReview, same server.
//   BM_AdmissionTls_Throughput    the same for the pod webhook, the no-op measured in alternating rounds
//                                 inside it: vs_noop is the throughput ratio.
//   BM_MutatePod_InProcess        the handler alone (parse + mutatePod + render), and its pieces.
//
// The request is /work/shared/reference/apiserver-captures/admissionreview-request.json (a capture of
// kube-apiserver) when present (and BENCH_ADMISSION_EMBEDDED is unset), else an equivalent built here; annotated for Java and the sidecar and owned by
// a ReplicaSet of a Deployment. Every answer must carry a JSONPatch (counted as an error otherwise; the run
// is refused if the first one does not).
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/core/hash.h"
#include "lib/core/log.h"
#include "lib/core/yaml.h"
#include "lib/http/certs.h"
#include "lib/http/metrics.h"
#include "lib/http/server.h"
#include "lib/webhook/admission.h"
#include "lib/webhook/jsonpatch.h"

namespace {

using otel::Json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace webhook = otel::webhook;

constexpr const char* kNoopPath = "/noop";
constexpr const char* kQuery = "?timeout=5s";  // what kube-apiserver appends (timeoutSeconds)

double envNumber(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  return end && *end == '\0' && d > 0 ? d : fallback;
}

// An equivalent of the captured request (same fields and shape, as kube-apiserver sends them for
// `kubectl create` of a bare pod in namespace "capture"), used when the capture is not present.
const char* kEmbeddedReview = R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{
"uid":"0b6a8f0e-3c1d-4a47-9d7e-2f1c5e8a9b10",
"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
"requestKind":{"group":"","version":"v1","kind":"Pod"},"requestResource":{"group":"","version":"v1","resource":"pods"},
"namespace":"capture","operation":"CREATE",
"userInfo":{"username":"admin","groups":["system:masters","system:authenticated"],
 "extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=0000000000000000000000000000000000000000000000000000000000000000"]}},
"object":{"kind":"Pod","apiVersion":"v1","metadata":{"generateName":"app-","namespace":"capture","labels":{"app":"x"},
 "annotations":{"instrumentation.opentelemetry.io/inject-java":"true"},
 "managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1","time":"2026-11-22T12:48:58Z","fieldsType":"FieldsV1",
  "fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:instrumentation.opentelemetry.io/inject-java":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{}}},
  "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{".":{},"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},
   "f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},
   "f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}]},
 "spec":{"volumes":[{"name":"kube-api-access-abcde","projected":{"sources":[
   {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
   {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
   {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],
  "containers":[{"name":"app","image":"busybox","env":[{"name":"A","value":"1"}],"resources":{},
   "volumeMounts":[{"name":"kube-api-access-abcde","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],
   "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
  "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default",
  "serviceAccount":"default","securityContext":{},"schedulerName":"default-scheduler",
  "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
   {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
  "priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{}},
"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}})";

// The AdmissionReview body: the capture (or its equivalent), the pod asking for Java and the sidecar and
// owned by a Deployment's ReplicaSet (the usual pod; exercises the owner lookup).
std::string admissionBody(std::string* source) {
  Json review;
  std::ifstream in(std::string(OTEL_SHARED_REFERENCE) + "/apiserver-captures/admissionreview-request.json");
  if (in && !std::getenv("BENCH_ADMISSION_EMBEDDED")) {
    std::stringstream ss;
    ss << in.rdbuf();
    review = Json::parse(ss.str())["body"];
    *source = "apiserver capture";
  } else {
    review = Json::parse(kEmbeddedReview);
    *source = "embedded equivalent";
  }
  Json& meta = review["request"]["object"]["metadata"];
  meta["annotations"]["instrumentation.opentelemetry.io/inject-java"] = "true";
  meta["annotations"]["sidecar.opentelemetry.io/inject"] = "true";
  meta["ownerReferences"] = Json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "app-5d8f6c7b9"},
                                          {"uid", "6f1d2c3b-0a9e-4d8c-b7a6-5e4f3d2c1b0a"}, {"controller", true},
                                          {"blockOwnerDeletion", true}}});
  return review.dump();
}

// What the informers of `run` would hold: one Java Instrumentation, one sidecar collector.
otel::inject::Catalog catalogObjects() {
  Json inst = otel::parseYaml(
      "apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\n"
      "metadata: {name: java, namespace: capture, uid: 11111111-2222-3333-4444-555555555555, resourceVersion: '812'}\n"
      "spec:\n  exporter: {endpoint: 'http://otel-collector.observability:4317'}\n"
      "  propagators: [tracecontext, baggage]\n  sampler: {type: parentbased_traceidratio, argument: '0.25'}\n"
      "  java: {image: 'ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-java:2.10.0'}\n");
  Json col = otel::parseYaml(
      "apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\n"
      "metadata: {name: side, namespace: capture, uid: 66666666-7777-8888-9999-000000000000, resourceVersion: '813'}\n"
      "spec:\n  mode: sidecar\n  config:\n"
      "    receivers: {otlp: {protocols: {grpc: {endpoint: '0.0.0.0:4317'}, http: {endpoint: '0.0.0.0:4318'}}}}\n"
      "    processors: {batch: {}}\n"
      "    exporters: {otlp: {endpoint: 'otel-gateway.observability:4317'}}\n"
      "    service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [otlp]}}}\n");
  return otel::inject::Catalog{{inst}, {col}};
}

webhook::PodLookups podLookups() {
  static const otel::inject::Catalog catalog = catalogObjects();
  webhook::PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) { return Json{{"openshift.io/sa.scc.mcs", "s0:c26,c5"}}; };
  lk.owner = [](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<Json> {
    if (kind != "ReplicaSet") return std::nullopt;
    return Json{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                {"metadata", {{"name", name}, {"namespace", ns},
                              {"ownerReferences", Json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "app"},
                                                                {"uid", "0c0d0e0f-1111-2222-3333-444444444444"}, {"controller", true}}})}}}};
  };
  lk.catalog = [](const otel::webhook::CatalogScope&) { return catalog; };  // a copy, as the informers' byIndex() returns
  return lk;
}

// The pod route of plugin/webhooks.cpp (metrics counter and log calls included; info lines are disabled).
std::string handlePod(const std::string& body, otel::http::Registry& metrics, const webhook::PodLookups& lk) {
  webhook::AdmissionRequest req = webhook::parseAdmissionReview(body);
  webhook::PodOutcome out;
  auto resp = webhook::mutatePod(req, lk, otel::inject::Options{}, &out);
  std::string result = out.failedOpen ? "failed_open" : out.mutated ? "mutated" : "unchanged";
  metrics.addCounter("kubectl_otel_webhook_requests_total", "Admission and conversion requests by webhook and result.",
                     {{"webhook", "pod"}, {"result", result}});
  if (out.failedOpen)
    otel::log::warn("pod admitted unchanged after an error", {{"namespace", req.ns}, {"error", out.error}});
  else if (out.mutated)
    for (const auto& a : out.actions) otel::log::info("pod mutated", {{"namespace", req.ns}, {"action", a}});
  return webhook::renderAdmissionReview(req, resp);
}

// Cheap per-answer check; the first answer is checked in full (checkPatched).
bool carriesPatch(const httplib::Result& r) {
  return r && r->status == 200 && r->body.find("\"patchType\":\"JSONPatch\"") != std::string::npos;
}
bool answered(const httplib::Result& r) { return r && r->status == 200 && r->body.find("\"allowed\":true") != std::string::npos; }

// The patch applied to the request's pod gives the Java agent and the sidecar; "" when so, else why not.
std::string checkPatched(const std::string& requestBody, const std::string& answerBody) {
  Json answer = Json::parse(answerBody, nullptr, false);
  if (answer.is_discarded()) return "the answer is not JSON: " + answerBody.substr(0, 200);
  const Json& resp = answer["response"];
  if (!resp.is_object() || resp.value("allowed", false) != true) return "not allowed: " + answerBody.substr(0, 300);
  if (!resp.contains("patch")) return "no patch in the answer: " + answerBody.substr(0, 300);
  Json pod = Json::parse(requestBody)["request"]["object"];
  Json after = webhook::applyJsonPatch(pod, Json::parse(otel::base64Decode(resp["patch"].get<std::string>())));
  std::string dump = after.dump();
  for (const char* want : {"opentelemetry-auto-instrumentation-java", "otc-container", "k8s.deployment.name=app"})
    if (dump.find(want) == std::string::npos) return std::string("the patched pod has no ") + want;
  return "";
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double processCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// Time this process's threads spent runnable but waiting for a CPU (other processes on the machine),
// summed over its threads: /proc/self/task/*/schedstat, second field, nanoseconds.
double runQueueWaitSeconds() {
  double total = 0;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    unsigned long long run = 0, wait = 0;
    if (in >> run >> wait) total += static_cast<double>(wait) * 1e-9;
  }
  return total;
}

// Idle share of the whole machine (all CPUs) from /proc/stat: {idle + iowait ticks, all ticks}.
std::pair<double, double> machineTicks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[10] = {0}, total = 0;
  in >> cpu;
  for (double& x : v) {
    in >> x;
    total += x;
  }
  return {v[3] + v[4], total};
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

// The server, its certificate and the request, shared by the HTTPS benchmarks.
struct Fixture {
  fs::path dir;
  std::string caFile, body, source, noopAnswer;
  otel::http::Registry metrics;
  webhook::PodLookups lookups = podLookups();
  std::unique_ptr<otel::http::Server> server;
  int port = 0;
  std::mutex mu;
  std::vector<double> handlerSeconds;  // the pod route's handler time, while `recording`
  std::atomic<bool> recording{false};

  Fixture() {
    otel::log::configure(otel::log::Level::Warn, otel::log::Format::Text);
    dir = fs::temp_directory_path() / ("bench_admission-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto ca = otel::http::generateCa("bench-admission-ca");
    auto leaf = otel::http::generateCert(ca, "kubectl-otel-webhook.opentelemetry-operator-system.svc",
                                         {"127.0.0.1", "localhost", "kubectl-otel-webhook.opentelemetry-operator-system.svc"});
    auto write = [&](const char* name, const std::string& s) {
      std::ofstream(dir / name) << s;
      return (dir / name).string();
    };
    caFile = write("ca.crt", ca.certPem);
    std::string cert = write("tls.crt", leaf.certPem), key = write("tls.key", leaf.keyPem);
    body = admissionBody(&source);
    noopAnswer = webhook::renderAdmissionReview(webhook::parseAdmissionReview(body), webhook::allow());

    server = std::make_unique<otel::http::Server>(otel::http::TlsOptions{cert, key, ""});
    server->post(webhook::kPodPath, [this](const otel::http::Request& r) {
      try {
        return otel::http::Response{200, "application/json", handlePod(r.body, metrics, lookups)};
      } catch (const webhook::BadRequest& e) {
        return otel::http::Response{400, "text/plain", std::string(e.what()) + "\n"};
      }
    });
    server->post(kNoopPath, [this](const otel::http::Request&) { return otel::http::Response{200, "application/json", noopAnswer}; });
    server->onRequest([this](const std::string& route, double secs) {
      if (recording.load(std::memory_order_relaxed) && route == webhook::kPodPath) {
        std::lock_guard<std::mutex> l(mu);
        handlerSeconds.push_back(secs);
      }
    });
    port = server->bind("127.0.0.1:0");
    server->start();
  }
  ~Fixture() {
    server->stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // A kube-apiserver-like client: keep-alive HTTPS, the server's certificate verified against the CA.
  std::unique_ptr<httplib::SSLClient> client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path(caFile);
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);  // as Go's net/http (kube-apiserver) does on every TCP connection
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(10, 0);
    c->set_write_timeout(10, 0);
    return c;
  }
  httplib::Result post(httplib::SSLClient& c, const char* path) const {
    static const httplib::Headers headers{{"Accept", "application/json, */*"}};
    return c.Post((std::string(path) + kQuery).c_str(), headers, body, "application/json");
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// One request through a fresh client, checked in full; "" when the answer carries the expected patch.
std::string firstAnswerProblem(Fixture& f) {
  auto c = f.client();
  auto r = f.post(*c, webhook::kPodPath);
  if (!r) return "request failed: " + httplib::to_string(r.error());
  if (r->status != 200) return "status " + std::to_string(r->status) + ": " + r->body.substr(0, 200);
  return checkPatched(f.body, r->body);
}

void BM_MutatePod_InProcess(benchmark::State& state) {
  std::string source;
  const std::string body = admissionBody(&source);
  const auto lk = podLookups();
  otel::http::Registry metrics;
  otel::log::configure(otel::log::Level::Warn, otel::log::Format::Text);
  std::string answer = handlePod(body, metrics, lk);
  if (auto why = checkPatched(body, answer); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  for (auto _ : state) {
    std::string a = handlePod(body, metrics, lk);
    benchmark::DoNotOptimize(a.data());
  }
  state.SetLabel(source);
  state.counters["answer_bytes"] = static_cast<double>(answer.size());
  state.counters["request_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_MutatePod_InProcess)->Unit(benchmark::kMicrosecond);

// The pieces of the handler (where the time goes).
void BM_Piece_Parse(benchmark::State& state) {
  std::string source;
  const std::string body = admissionBody(&source);
  for (auto _ : state) {
    auto r = webhook::parseAdmissionReview(body);
    benchmark::DoNotOptimize(r.object);
  }
}
BENCHMARK(BM_Piece_Parse)->Unit(benchmark::kMicrosecond);

void BM_Piece_InjectPod(benchmark::State& state) {
  std::string source;
  const auto req = webhook::parseAdmissionReview(admissionBody(&source));
  const auto catalog = catalogObjects();
  otel::inject::PodContext ctx;
  ctx.ns = "capture";
  ctx.replicaSet = "app-5d8f6c7b9";
  ctx.deployment = "app";
  otel::inject::Options o;
  o.strict = false;
  o.record = false;
  for (auto _ : state) {
    auto r = otel::inject::injectPod(req.object, ctx, catalog, o);
    benchmark::DoNotOptimize(r.pod);
  }
}
BENCHMARK(BM_Piece_InjectPod)->Unit(benchmark::kMicrosecond);

void BM_Piece_MutatePod(benchmark::State& state) {  // lookups + injectPod + jsonPatch, no parse or render
  std::string source;
  const auto req = webhook::parseAdmissionReview(admissionBody(&source));
  const auto lk = podLookups();
  for (auto _ : state) {
    auto r = webhook::mutatePod(req, lk, {});
    benchmark::DoNotOptimize(r.patch);
  }
}
BENCHMARK(BM_Piece_MutatePod)->Unit(benchmark::kMicrosecond);

void BM_Piece_JsonPatch(benchmark::State& state) {
  std::string source;
  const auto req = webhook::parseAdmissionReview(admissionBody(&source));
  otel::inject::PodContext ctx;
  ctx.ns = "capture";
  otel::inject::Options o;
  o.strict = false;
  o.record = false;
  const Json after = otel::inject::injectPod(req.object, ctx, catalogObjects(), o).pod;
  for (auto _ : state) {
    Json p = webhook::jsonPatch(req.object, after);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Piece_JsonPatch)->Unit(benchmark::kMicrosecond);

void BM_Piece_Render(benchmark::State& state) {
  std::string source;
  const auto req = webhook::parseAdmissionReview(admissionBody(&source));
  const auto resp = webhook::mutatePod(req, podLookups(), {});
  for (auto _ : state) {
    std::string a = webhook::renderAdmissionReview(req, resp);
    benchmark::DoNotOptimize(a.data());
  }
}
BENCHMARK(BM_Piece_Render)->Unit(benchmark::kMicrosecond);

struct LoopResult {
  double seconds = 0;     // wall time of the measured phase
  double cpuServer = 0;   // process CPU minus the client threads'
  double cpuClient = 0;
  long errors = 0;
  long requests = 0;
};

// Closed loop: `requests` in total over `connections` keep-alive connections, each connected first.
LoopResult closedLoop(Fixture& f, const char* path, int connections, long requests, bool wantPatch) {
  std::vector<std::unique_ptr<httplib::SSLClient>> clients;
  for (int i = 0; i < connections; ++i) {
    clients.push_back(f.client());
    f.post(*clients.back(), path);  // handshake outside the measurement
  }
  std::atomic<long> errors{0};
  std::vector<double> clientCpu(static_cast<size_t>(connections), 0);
  std::latch ready(connections + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    long n = requests / connections + (i < requests % connections ? 1 : 0);
    threads.emplace_back([&, i, n] {
      ready.count_down();
      go.wait();
      double c0 = threadCpuSeconds();
      long bad = 0;
      for (long k = 0; k < n; ++k) {
        auto r = f.post(*clients[static_cast<size_t>(i)], path);
        if (!(wantPatch ? carriesPatch(r) : answered(r))) ++bad;
      }
      clientCpu[static_cast<size_t>(i)] = threadCpuSeconds() - c0;
      errors += bad;
    });
  }
  ready.arrive_and_wait();
  double p0 = processCpuSeconds();
  auto t0 = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  LoopResult out;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  double process = processCpuSeconds() - p0;
  for (double c : clientCpu) out.cpuClient += c;
  out.cpuServer = process - out.cpuClient;
  out.errors = errors.load();
  out.requests = requests;
  return out;
}

long throughputRequests() { return static_cast<long>(envNumber("BENCH_ADMISSION_REQUESTS", 4000)); }

void BM_NoopTls_Throughput(benchmark::State& state) {
  Fixture& f = fixture();
  const int connections = static_cast<int>(state.range(0));
  LoopResult r;
  for (auto _ : state) {
    r = closedLoop(f, kNoopPath, connections, throughputRequests(), false);
    state.SetIterationTime(r.seconds);
  }
  state.SetItemsProcessed(r.requests);
  state.counters["req_per_s"] = static_cast<double>(r.requests) / r.seconds;
  state.counters["errors"] = static_cast<double>(r.errors);
  state.counters["server_cpu_us_per_req"] = r.cpuServer / static_cast<double>(r.requests) * 1e6;
  state.counters["client_cpu_us_per_req"] = r.cpuClient / static_cast<double>(r.requests) * 1e6;
}
BENCHMARK(BM_NoopTls_Throughput)->ArgName("connections")->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_AdmissionTls_Throughput(benchmark::State& state) {
  Fixture& f = fixture();
  if (auto why = firstAnswerProblem(f); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const int connections = static_cast<int>(state.range(0));
  const long n = throughputRequests();
  constexpr int kRounds = 2;  // no-op and admission alternate, so drift on the shared machine hits both
  LoopResult pod, noop;
  for (auto _ : state) {
    pod = noop = {};
    for (int round = 0; round < kRounds; ++round) {
      auto a = closedLoop(f, kNoopPath, connections, n / kRounds, false);
      auto b = closedLoop(f, webhook::kPodPath, connections, n / kRounds, true);
      noop.seconds += a.seconds, noop.requests += a.requests, noop.errors += a.errors;
      pod.seconds += b.seconds, pod.requests += b.requests, pod.errors += b.errors;
      pod.cpuServer += b.cpuServer, pod.cpuClient += b.cpuClient;
    }
    state.SetIterationTime(pod.seconds);
  }
  if (pod.errors > 0) state.SkipWithError(("answers without a patch: " + std::to_string(pod.errors)).c_str());
  double podRate = static_cast<double>(pod.requests) / pod.seconds, noopRate = static_cast<double>(noop.requests) / noop.seconds;
  state.SetItemsProcessed(pod.requests);
  state.SetLabel(f.source);
  state.counters["req_per_s"] = podRate;
  state.counters["noop_req_per_s"] = noopRate;
  state.counters["vs_noop"] = podRate / noopRate;
  state.counters["errors"] = static_cast<double>(pod.errors + noop.errors);
  state.counters["server_cpu_us_per_req"] = pod.cpuServer / static_cast<double>(pod.requests) * 1e6;
  state.counters["client_cpu_us_per_req"] = pod.cpuClient / static_cast<double>(pod.requests) * 1e6;
}
BENCHMARK(BM_AdmissionTls_Throughput)->ArgName("connections")->Arg(1)->Arg(2)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Open loop on one keep-alive connection: request i is due at start + i/rate; its latency runs from the due
// time to the answer, so a slow answer delaying the next ones is counted (no coordinated omission).
void BM_AdmissionTls_FixedRate(benchmark::State& state) {
  Fixture& f = fixture();
  if (auto why = firstAnswerProblem(f); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const double rate = envNumber("BENCH_ADMISSION_RATE", 500), seconds = envNumber("BENCH_ADMISSION_SECONDS", 30);
  const long total = static_cast<long>(rate * seconds);
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  std::vector<double> latency, service, afterReconnect;
  bool reconnect = false;
  latency.reserve(static_cast<size_t>(total));
  service.reserve(static_cast<size_t>(total));
  long errors = 0, late = 0;
  double wall = 0, cpuProcess = 0, cpuClient = 0, runQueueWait = 0, machineIdle = 0;
  for (auto _ : state) {
    auto c = f.client();
    for (int i = 0; i < 20; ++i) f.post(*c, webhook::kPodPath);  // connect and warm up
    {
      std::lock_guard<std::mutex> l(f.mu);
      f.handlerSeconds.clear();
      f.handlerSeconds.reserve(static_cast<size_t>(total));
    }
    f.recording = true;
    double p0 = processCpuSeconds(), c0 = threadCpuSeconds(), w0 = runQueueWaitSeconds();
    auto m0 = machineTicks();
    const auto start = Clock::now();
    for (long i = 0; i < total; ++i) {
      const auto due = start + i * interval;
      auto now = Clock::now();
      if (now < due) {
        std::this_thread::sleep_until(due);
      } else if (now - due > interval) {
        ++late;  // sent more than one interval after its due time (the previous answers were slow)
      }
      const auto sent = Clock::now();
      auto r = f.post(*c, webhook::kPodPath);
      const auto done = Clock::now();
      if (!carriesPatch(r)) ++errors;
      latency.push_back(std::chrono::duration<double, std::micro>(done - due).count());
      service.push_back(std::chrono::duration<double, std::micro>(done - sent).count());
      if (reconnect) afterReconnect.push_back(service.back());  // this one paid a TLS handshake
      reconnect = r && r->get_header_value("Connection") == "close";  // the server closes after this answer
    }
    wall = std::chrono::duration<double>(Clock::now() - start).count();
    cpuClient = threadCpuSeconds() - c0;
    cpuProcess = processCpuSeconds() - p0;
    runQueueWait = runQueueWaitSeconds() - w0;
    auto m1 = machineTicks();
    machineIdle = m1.second > m0.second ? (m1.first - m0.first) / (m1.second - m0.second) : 0;
    f.recording = false;
  }
  std::vector<double> handler;
  {
    std::lock_guard<std::mutex> l(f.mu);
    for (double s : f.handlerSeconds) handler.push_back(s * 1e6);
  }
  state.SetLabel(f.source);
  state.SetItemsProcessed(static_cast<int64_t>(latency.size()));
  state.counters["rate_req_per_s"] = static_cast<double>(latency.size()) / wall;
  state.counters["p50_us"] = percentile(latency, 0.50);
  state.counters["p99_us"] = percentile(latency, 0.99);
  state.counters["p999_us"] = percentile(latency, 0.999);
  state.counters["max_us"] = latency.empty() ? 0 : *std::max_element(latency.begin(), latency.end());
  state.counters["service_p50_us"] = percentile(service, 0.50);  // from the actual send
  state.counters["handler_p50_us"] = percentile(handler, 0.50);  // server side, route handler only
  state.counters["handler_p99_us"] = percentile(handler, 0.99);
  state.counters["reconnects"] = static_cast<double>(afterReconnect.size());
  state.counters["reconnect_service_p50_us"] = percentile(afterReconnect, 0.50);
  state.counters["errors"] = static_cast<double>(errors);
  state.counters["late"] = static_cast<double>(late);
  state.counters["cpu_pct"] = cpuProcess / wall * 100;  // of one core, whole process
  state.counters["server_cpu_pct"] = (cpuProcess - cpuClient) / wall * 100;
  state.counters["client_cpu_pct"] = cpuClient / wall * 100;
  state.counters["server_cpu_us_per_req"] = (cpuProcess - cpuClient) / static_cast<double>(latency.size()) * 1e6;
  // waiting for a CPU taken by other processes, per request (a busy shared machine shows here, not in handler_*)
  state.counters["runq_wait_us_per_req"] = runQueueWait / static_cast<double>(latency.size()) * 1e6;
  state.counters["machine_idle_pct"] = machineIdle * 100;  // all CPUs, everyone's processes
  if (errors > 0) state.SkipWithError(("answers without a patch: " + std::to_string(errors)).c_str());
}
BENCHMARK(BM_AdmissionTls_FixedRate)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
