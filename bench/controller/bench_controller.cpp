// `kubectl otel run` (the real binary, a child process) against the in-process test API server:
// 1,000 collectors of mixed modes from empty to steady state (wall time, API requests, the controller's
// peak RSS), then one changed collector among them back to steady state (time, requests).
//   build/bench/controller/bench_controller [--collectors=N]
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "lib/manifests/build.h"
#include "lib/manifests/install.h"
#include "tests/support/api_server.h"

namespace {

using otel::Json;
using Clock = std::chrono::steady_clock;
int gCollectors = 1000;

Json collector(int i) {
  static const char* modes[] = {"deployment", "deployment", "deployment", "deployment", "daemonset",
                                "daemonset",  "daemonset",  "statefulset", "statefulset", "sidecar"};
  std::string mode = modes[i % 10];
  return {{"apiVersion", "opentelemetry.io/v1beta1"},
          {"kind", "OpenTelemetryCollector"},
          {"metadata", {{"name", "c" + std::to_string(i)}, {"namespace", "ns" + std::to_string(i % 10)}}},
          {"spec",
           {{"mode", mode},
            {"config",
             {{"receivers", {{"otlp", {{"protocols", {{"grpc", Json::object()}, {"http", Json::object()}}}}}}},
              {"processors", {{"batch", Json::object()}}},
              {"exporters", {{"debug", Json::object()}}},
              {"service",
               {{"pipelines", {{"traces", {{"receivers", {"otlp"}}, {"processors", {"batch"}}, {"exporters", {"debug"}}}}}}}}}}}}};
}

bool allReady(const otel::testing::TestApiServer& s) {
  auto crs = s.listObjects("opentelemetry.io/v1beta1", "opentelemetrycollectors");
  if (static_cast<int>(crs.size()) < gCollectors) return false;
  for (const auto& c : crs) {
    if (!c.contains("status") || !c["status"].contains("conditions")) return false;
    if (c["status"]["conditions"][0].value("status", "") != "True") return false;
  }
  return true;
}

// Steady: no write request for `quiet` after every collector is Ready.
void waitSteady(otel::testing::TestApiServer& s, std::chrono::milliseconds quiet, Clock::time_point& lastWrite) {
  auto writes = [&] { return s.requestCount("POST") + s.requestCount("PUT") + s.requestCount("PATCH") + s.requestCount("DELETE"); };
  int last = writes();
  lastWrite = Clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int now = writes();
    if (now != last) {
      last = now;
      lastWrite = Clock::now();
      continue;
    }
    if (Clock::now() - lastWrite >= quiet && allReady(s)) return;
  }
}

void BM_ThousandCollectors(benchmark::State& state) {
  for (auto _ : state) {
    otel::testing::TestApiServerOptions o;
    for (int i = 0; i < 10; ++i) o.namespaces.push_back("ns" + std::to_string(i));
    o.namespaces.push_back("default");
    otel::testing::TestApiServer server(o);
    std::string kc = std::filesystem::temp_directory_path() / ("bench-controller-" + std::to_string(::getpid()));
    server.writeKubeconfig(kc);
    for (const auto& crd : otel::manifests::crdObjects()) server.putObject(crd);
    for (int i = 0; i < gCollectors; ++i) server.putObject(collector(i));
    server.clearRequests();
    auto t0 = Clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      FILE* f = std::freopen(std::getenv("BENCH_LOG") ? std::getenv("BENCH_LOG") : "/dev/null", "w", stderr);
      (void)f;
      ::execl(OTEL_CLI_BINARY, OTEL_CLI_BINARY, "--kubeconfig", kc.c_str(), "--log-level", "warn", "run", "--leader-elect",
              "false", "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--concurrency", "4",
              "--create-rbac", "false", "--kube-api-qps", "0", nullptr);
      ::_exit(127);
    }
    Clock::time_point lastWrite;
    waitSteady(server, std::chrono::milliseconds(1500), lastWrite);
    double converge = std::chrono::duration<double>(lastWrite - t0).count();
    int requests = static_cast<int>(server.requests().size());
    std::size_t owned = 0;
    for (const char* r : {"configmaps", "serviceaccounts", "services"}) owned += server.listObjects("v1", r).size();
    for (const char* r : {"deployments", "daemonsets", "statefulsets"}) owned += server.listObjects("apps/v1", r).size();
    owned += server.listObjects("policy/v1", "poddisruptionbudgets").size();
    owned += server.listObjects("networking.k8s.io/v1", "networkpolicies").size();
    // one change among them
    server.clearRequests();
    Json c = server.getObject("opentelemetry.io/v1beta1", "opentelemetrycollectors", "ns3", "c3");
    c["spec"]["config"]["exporters"] = {{"nop", Json::object()}};
    c["spec"]["config"]["service"]["pipelines"]["traces"]["exporters"] = {"nop"};
    auto t1 = Clock::now();
    std::string before = server.getObject("apps/v1", "deployments", "ns3", "c3-collector")["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"];
    server.putObject(c);
    while (server.getObject("apps/v1", "deployments", "ns3", "c3-collector")["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == before)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    double change = std::chrono::duration<double>(Clock::now() - t1).count();
    waitSteady(server, std::chrono::milliseconds(1000), lastWrite);
    int changeRequests = static_cast<int>(server.requests().size());
    ::kill(pid, SIGTERM);
    int st = 0;
    rusage ru{};
    ::wait4(pid, &st, 0, &ru);
    state.SetIterationTime(converge);
    state.counters["converge_s"] = converge;
    state.counters["requests"] = requests;
    state.counters["owned_objects"] = static_cast<double>(owned);
    state.counters["controller_cpu_s"] = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    state.counters["peak_rss_MB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
    state.counters["one_change_ms"] = change * 1000;
    state.counters["one_change_requests"] = changeRequests;
    std::filesystem::remove(kc);
  }
}
BENCHMARK(BM_ThousandCollectors)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--collectors=", 13) == 0) gCollectors = std::atoi(argv[i] + 13);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
