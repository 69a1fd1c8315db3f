// Hostile input through every entry point of the real binary (issue 14): the 282-byte alias bomb, a
// 100,000-deep document, a file past the size limit and a 3 MiB legitimate document with many anchors,
// each refused on one line (file, document, what was exceeded; exit 1; nothing on stdout) or accepted,
// with the program's peak memory (wait4's ru_maxrss) under 10x the input plus a constant measured here:
// the same verb's peak on a tiny valid input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "lib/core/yaml.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/peak_memory.h"
#include "tests/support/shell.h"

namespace {

using otel::testing::runMeasured;
using ProgramRun = otel::testing::Run;

const std::string kBin = OTEL_CLI_BINARY;
// Programs are started by a process forked now, while this one is small (see peak_memory.h).
const bool kSpawnerStarted = (otel::testing::startSpawner(), true);

std::string dir() {
  static std::string d = otel::clitest::tempDir("bounds");
  return d;
}

std::string write(const std::string& name, const std::string& content) {
  std::string p = dir() + "/" + name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

// A file of more than the stream bound that takes no disk (sparse).
std::string sparseHuge(const std::string& name) {
  std::string p = write(name, "a: 1\n");
  EXPECT_EQ(::truncate(p.c_str(), static_cast<off_t>(otel::kYamlMaxStreamBytes + 4096)), 0);
  return p;
}

const std::string kDeployment =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: default}\nspec:\n"
    "  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n"
    "    spec:\n      containers:\n      - {name: app, image: app:1}\n";
const std::string kCollector =
    "apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: {name: c, namespace: default}\n"
    "spec:\n  config:\n    receivers: {otlp: {protocols: {grpc: {}}}}\n    exporters: {debug: {}}\n"
    "    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n";
const std::string kScrape = "scrape_configs:\n- job_name: j\n  static_configs:\n  - targets: ['a:9090', 'b:9090']\n";

// A ConfigMap of about 3 MiB with many anchors and aliases, after `head` (another document).
std::string legit(const std::string& head) {
  return head + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  labels: &labels {app: big}\n"
                "data:\n" +
         otel::testing::anchoredEntries(otel::kYamlMaxDocumentBytes - 8192, 2) + "more:\n  labels: *labels\n";
}

// A scrape config of about 3 MiB: jobs sharing anchored relabel configs and targets.
std::string legitScrape() {
  std::string s =
      "scrape_configs:\n- job_name: j0\n  relabel_configs: &relabel\n  - {source_labels: [__address__], target_label: "
      "instance}\n  static_configs: [{targets: ['a:9090']}]\n";
  for (int i = 1; s.size() < otel::kYamlMaxDocumentBytes - 4096; ++i) {
    std::string n = std::to_string(i);
    s += "- job_name: job-number-" + n + "\n  relabel_configs: *relabel\n  static_configs:\n  - targets: ['10.1." +
         std::to_string(i / 250 % 250) + "." + std::to_string(i % 250) + ":9090', 'node-" + n + ".example.com:9100']\n" +
         "    labels: {team: observability, shard: '" + n + "'}\n";
  }
  return s;
}

struct EntryPoint {
  std::string name;
  // argv for an input file; tiny valid input for the constant; legit input (3 MiB, anchors) or "" if covered elsewhere.
  std::function<std::vector<std::string>(const std::string& file)> argv;
  std::string tiny;
  std::string legit;
  // Peak above the constant for the legitimate input, as a multiple of its size. The reader alone stays
  // under 10x (yaml_limits_test, targetallocator bounds_test); a verb holds more than the parsed value:
  // the file's text, the documents' texts and the output (inject, uninject), the rendered objects (create),
  // every job's compiled relabel rules and targets and the simulation (allocations).
  double legitFactor = 10;
  int refusedCode = 1;  // doctor: 2, "could not run"
};

std::vector<EntryPoint> entryPoints() {
  return {
      {"create -f --render", [](const std::string& f) { return std::vector<std::string>{kBin, "create", "-f", f, "--render"}; },
       kCollector, legit(kCollector), 14},
      {"create collector --config",
       [](const std::string& f) {
         return std::vector<std::string>{kBin, "create", "collector", "c", "--config", f, "--render"};
       },
       "receivers: {otlp: {protocols: {grpc: {}}}}\nexporters: {debug: {}}\n"
       "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n",
       ""},
      {"inject -f",
       [](const std::string& f) {
         return std::vector<std::string>{kBin, "inject", "-f", f, "--lang", "java", "--endpoint", "http://c:4318"};
       },
       kDeployment, legit(kDeployment), 16},
      {"uninject -f", [](const std::string& f) { return std::vector<std::string>{kBin, "uninject", "-f", f}; }, kDeployment,
       legit(kDeployment), 16},
      {"allocations --simulate --scrape-config",
       [](const std::string& f) {
         return std::vector<std::string>{kBin, "allocations", "--simulate", "--collectors", "3", "--scrape-config", f};
       },
       kScrape, legitScrape(), 32},
      {"target-allocator --config-file",
       [](const std::string& f) {
         return std::vector<std::string>{kBin, "target-allocator", "--config-file", f, "--listen-addr", "127.0.0.1:1"};
       },
       "", ""},
      {"--kubeconfig (install)", [](const std::string& f) { return std::vector<std::string>{kBin, "--kubeconfig", f, "install"}; },
       "", ""},
      {"doctor -f", [](const std::string& f) { return std::vector<std::string>{kBin, "doctor", "-f", f}; }, kDeployment,
       legit(kDeployment), 10, 2},
      {"doctor --desired",
       [](const std::string& f) {
         return std::vector<std::string>{kBin, "doctor", "-f", write("doctor-view.yaml", kDeployment), "--desired", f};
       },
       kDeployment, "", 10, 2},
  };
}

// The verb's peak on a tiny valid input (or on `version --client` when there is none): the constant.
long constantKb(const EntryPoint& e) {
  ProgramRun r = e.tiny.empty() ? runMeasured({kBin, "version", "--client"}) : runMeasured(e.argv(write("tiny.yaml", e.tiny)));
  EXPECT_EQ(r.code, 0) << e.name << ": " << r.err;
  return r.maxRssKb;
}

void expectRefused(const EntryPoint& e, const std::string& file, size_t inputBytes, long constant,
                   const std::string& reason) {
  ProgramRun r = runMeasured(e.argv(file));
  SCOPED_TRACE(e.name + " " + file);
  EXPECT_EQ(r.code, e.refusedCode) << r.err;
  EXPECT_EQ(r.out, "") << "nothing written";
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  long bound = constant + static_cast<long>(10 * inputBytes / 1024) + 2048;
  OTEL_EXPECT_MEMORY_LT(r.maxRssKb, bound) << "peak " << r.maxRssKb << " kB, constant " << constant << " kB";
  std::printf("%-40s %-12s input %8zu B  peak %6ld kB  (constant %ld kB)\n", e.name.c_str(),
              file.substr(file.rfind('/') + 1).c_str(), inputBytes, r.maxRssKb, constant);
}

TEST(Bounds, EveryEntryPointRefusesTheAliasBombTheDeepDocumentAndTheHugeFile) {
  std::string bomb = write("bomb.yaml", otel::testing::aliasBomb());
  std::string deep = write("deep.yaml", otel::testing::deepFlow(100000));
  std::string huge = sparseHuge("huge.yaml");
  for (const auto& e : entryPoints()) {
    long c = constantKb(e);
    expectRefused(e, bomb, 282, c, "document contains excessive aliasing");
    expectRefused(e, deep, 200001, c, "yaml: exceeded max depth of 10000");
    expectRefused(e, huge, 0, c, "the input has more than 64 MiB (67108864 bytes)");
  }
}

TEST(Bounds, ADocumentPastThreeMiBIsRefused) {
  std::string big = write("big.yaml", kDeployment + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n" +
                                          otel::testing::anchoredEntries(otel::kYamlMaxDocumentBytes + 1024, 2));
  for (const auto& e : entryPoints()) {
    if (e.name != "inject -f" && e.name != "create -f --render") continue;
    long c = constantKb(e);
    expectRefused(e, big, otel::kYamlMaxDocumentBytes, c, "the document has more than 3 MiB (3145728 bytes)");
  }
}

TEST(Bounds, ALegitimateThreeMiBDocumentWithManyAnchorsIsAccepted) {
  for (const auto& e : entryPoints()) {
    if (e.legit.empty()) continue;
    long c = constantKb(e);
    std::string f = write("legit.yaml", e.legit);
    ProgramRun r = runMeasured(e.argv(f));
    SCOPED_TRACE(e.name);
    EXPECT_EQ(r.code, 0) << r.err.substr(0, 2000);
    long bound = c + static_cast<long>(e.legitFactor * static_cast<double>(e.legit.size()) / 1024);
    OTEL_EXPECT_MEMORY_LT(r.maxRssKb, bound) << "peak " << r.maxRssKb << " kB, constant " << c << " kB";
    std::printf("%-40s legit.yaml   input %8zu B  peak %6ld kB  (constant %ld kB; %.1fx the input above it)\n",
                e.name.c_str(), e.legit.size(), r.maxRssKb, c,
                static_cast<double>(r.maxRssKb - c) * 1024 / static_cast<double>(e.legit.size()));
  }
}

TEST(Bounds, StdinIsBoundedToo) {
  std::string bomb = write("bomb-stdin.yaml", otel::testing::aliasBomb());
  ProgramRun r = runMeasured({kBin, "inject", "-f", "-", "--lang", "java", "--endpoint", "http://c:4318"}, bomb);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("document contains excessive aliasing"), std::string::npos) << r.err;
  ProgramRun z = runMeasured({kBin, "create", "-f", "-", "--render"}, "/dev/zero");
  EXPECT_EQ(z.code, 1);
  EXPECT_NE(z.err.find("<stdin>: the input has more than 64 MiB"), std::string::npos) << z.err;
  OTEL_EXPECT_MEMORY_LT(z.maxRssKb, 3 * 65536 + 65536);  // read no further than the bound (and a copy of it)
}

TEST(Bounds, KubeconfigFromTheEnvironmentIsBounded) {
  std::string bomb = write("kc-bomb.yaml", otel::testing::aliasBomb());
  ProgramRun r = runMeasured({kBin, "install"}, "/dev/null", {"KUBECONFIG=" + bomb});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(bomb), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("document contains excessive aliasing"), std::string::npos) << r.err;
}

}  // namespace
