// The bounded YAML reader behind the library entry points that read files from outside (issue 14): the
// target allocator's config, file_sd files, scrape configs (allocations --simulate) and kubeconfig files.
// Hostile inputs are refused with YamlLimitError; a 3 MiB legitimate input with many anchors loads with
// a peak memory growth under 10x its size (measured in a forked child through VmHWM).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/kube/kubeconfig.h"
#include "lib/prom/scrape_config.h"
#include "lib/prom/target.h"
#include "lib/targetallocator/config.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/peak_memory.h"

namespace {

namespace fs = std::filesystem;
using otel::testing::measureInChild;

struct Files {
  std::string dir = ::testing::TempDir() + "/ta-bounds-" + std::to_string(::getpid());
  Files() { fs::create_directories(dir); }
  ~Files() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& content) {
    std::string p = dir + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

// "limit: <message>" for a YamlLimitError, "ok: <result>" otherwise, in a child with its peak memory.
otel::testing::PeakMemory attempt(const std::function<std::string()>& f) {
  return measureInChild([&] {
    try {
      return "ok: " + f();
    } catch (const otel::YamlLimitError& e) {
      return "limit: " + e.oneLine();
    }
  });
}

std::string taConfig(const std::string& scrapeConfigs) { return "allocation_strategy: consistent-hashing\nconfig:\n" + scrapeConfigs; }

// About 3 MiB of scrape configs (indented under `config:`) sharing anchored relabel rules and targets.
std::string legitScrapeConfigs() {
  std::string s =
      "  scrape_configs:\n  - job_name: j0\n    relabel_configs: &relabel\n    - {source_labels: [__address__], "
      "target_label: instance}\n    - {action: keep, regex: '.*', source_labels: [job]}\n    static_configs: &t\n"
      "    - targets: ['a:9090', 'b:9090']\n      labels: {team: observability}\n";
  for (int i = 1; s.size() < otel::kYamlMaxDocumentBytes - 4096; ++i)
    s += "  - job_name: job-number-" + std::to_string(i) + "\n    relabel_configs: *relabel\n    static_configs: *t\n";
  return s;
}

const std::vector<std::pair<std::string, std::string>>& hostile() {
  static const std::vector<std::pair<std::string, std::string>> h = {
      {otel::testing::aliasBomb(), "yaml: document contains excessive aliasing"},
      {otel::testing::deepFlow(100000), "yaml: exceeded max depth of 10000"},
  };
  return h;
}

void expectRefused(const otel::testing::PeakMemory& m, const std::string& file, const std::string& reason) {
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result.rfind("limit: " + file, 0), 0u) << m.result;
  EXPECT_NE(m.result.find(reason), std::string::npos) << m.result;
  OTEL_EXPECT_MEMORY_LT(m.growthKb(), 10 * 200 + 2048) << m.result;  // 10x the largest input (200 kB), plus a constant
}

TEST(Bounds, TargetAllocatorConfigFile) {
  Files files;
  for (const auto& [text, reason] : hostile()) {
    std::string f = files.write("targetallocator.yaml", text);
    expectRefused(attempt([&] { return std::to_string(otel::targetallocator::loadConfig(f, {}, nullptr).prom.scrapeConfigs.size()); }),
                  f, reason);
  }
  std::string legit = taConfig(legitScrapeConfigs());
  std::string f = files.write("legit.yaml", legit);
  // Reading the file: under 10x the larger of its size and its value's (aliases expanded) JSON size.
  // (the peak is taken before the JSON text of the value is made, for its size)
  auto read = attempt([&] {
    otel::Json v = otel::parseYaml(otel::readFile(f), f);
    long hwm = otel::testing::procStatusKb("VmHWM");
    return std::to_string(hwm) + " " + std::to_string(v.dump().size());
  });
  ASSERT_TRUE(read.ok);
  ASSERT_EQ(read.result.rfind("ok: ", 0), 0u) << read.result;
  read.peakKb = std::stol(read.result.substr(4));
  long expandedKb = std::stol(read.result.substr(read.result.rfind(' ') + 1)) / 1024;
  OTEL_EXPECT_MEMORY_LT(read.growthKb(), 10 * std::max(expandedKb, static_cast<long>(legit.size() / 1024))) << read.result;
  // Loading it (every job's relabel rules compiled with RE2): accepted; its memory is printed, not bounded
  // here (about 13 kB a job: see docs/target-allocator.md).
  otel::targetallocator::Overrides o;
  o.collectors = "2";
  auto m = attempt([&] { return std::to_string(otel::targetallocator::loadConfig(f, o, nullptr).prom.scrapeConfigs.size()); });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result.rfind("ok: ", 0), 0u) << m.result;
  std::printf("targetallocator.yaml %zu kB (%ld kB as JSON): read %ld kB, loaded (%s jobs) %ld kB peak growth\n",
              legit.size() / 1024, expandedKb, read.growthKb(), m.result.c_str(), m.growthKb());
}

TEST(Bounds, ScrapeConfigOfAllocationsSimulate) {
  Files files;
  for (const auto& [text, reason] : hostile()) {
    std::string f = files.write("prometheus.yaml", text);
    expectRefused(attempt([&] { return std::to_string(otel::prom::loadPromConfig(f).scrapeConfigs.size()); }), f, reason);
  }
}

TEST(Bounds, FileSdFiles) {
  Files files;
  for (const auto& [text, reason] : hostile()) {
    std::string sd = files.write("sd.yaml", text);
    auto cfg = otel::prom::parsePromConfig(
        otel::parseYaml("scrape_configs:\n- job_name: f\n  file_sd_configs: [{files: ['" + sd + "']}]\n"), "p.yaml");
    expectRefused(attempt([&] { return std::to_string(otel::prom::buildTargets(cfg, files.dir).size()); }), sd, reason);
  }
  // A file_sd file holds target lists: one document may be larger than 3 MiB (up to the 64 MiB stream bound).
  std::string list = "- targets: &t\n";
  for (int i = 0; list.size() < (size_t{4} << 20); ++i) list += "  - 10.0." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250) + ":" + std::to_string(9000 + i / 62500) + "\n";
  list += "  labels: {env: prod}\n- targets: *t\n  labels: {env: staging}\n";
  std::string sd = files.write("big-sd.yaml", list);
  auto cfg = otel::prom::parsePromConfig(
      otel::parseYaml("scrape_configs:\n- job_name: f\n  file_sd_configs: [{files: ['" + sd + "']}]\n"), "p.yaml");
  auto m = attempt([&] { return std::to_string(otel::prom::buildTargets(cfg, files.dir).size()); });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result.rfind("ok: ", 0), 0u) << m.result;
  std::printf("file_sd %zu kB with an alias: %s targets, peak growth %ld kB\n", list.size() / 1024, m.result.c_str(), m.growthKb());
}

TEST(Bounds, KubeconfigFiles) {
  Files files;
  for (const auto& [text, reason] : hostile()) {
    std::string kc = files.write("kubeconfig", text);
    otel::kube::LoadOptions o;
    o.kubeconfig = kc;
    o.getenv = [](const std::string&) { return std::optional<std::string>(); };
    expectRefused(attempt([&] { return otel::kube::loadRestConfig(o).server; }), kc, reason);
    // Through KUBECONFIG (merged files) too.
    otel::kube::LoadOptions e;
    e.getenv = [kc](const std::string& n) { return n == "KUBECONFIG" ? std::optional<std::string>(kc) : std::nullopt; };
    expectRefused(attempt([&] { return otel::kube::loadRestConfig(e).server; }), kc, reason);
  }
  // 3 MiB of users sharing an anchored exec stanza, clusters sharing one cluster.
  std::string text = "apiVersion: v1\nkind: Config\ncurrent-context: c0\nclusters:\n- name: c0\n  cluster: &cl {server: "
                     "'https://127.0.0.1:6443', insecure-skip-tls-verify: true}\nusers:\n- name: u0\n  user: &u {token: "
                     "abcdefghijklmnopqrstuvwxyz0123456789}\ncontexts:\n- name: c0\n  context: {cluster: c0, user: u0}\n";
  for (int i = 1; text.size() < otel::kYamlMaxDocumentBytes - 4096; ++i)
    text += "- name: context-number-" + std::to_string(i) + "\n  context: &x" + std::to_string(i) +
            " {cluster: c0, user: u0, namespace: team-" + std::to_string(i) + "}\n- name: alias-" + std::to_string(i) +
            "\n  context: *x" + std::to_string(i) + "\n";
  std::string kc = files.write("big-kubeconfig", text);
  otel::kube::LoadOptions o;
  o.kubeconfig = kc;
  o.getenv = [](const std::string&) { return std::optional<std::string>(); };
  // (the peak is taken before the JSON text of the value is made, for its size)
  auto read = attempt([&] {
    otel::Json v = otel::parseYaml(otel::readFile(kc), kc);
    long hwm = otel::testing::procStatusKb("VmHWM");
    return std::to_string(hwm) + " " + std::to_string(v.dump().size());
  });
  ASSERT_TRUE(read.ok);
  ASSERT_EQ(read.result.rfind("ok: ", 0), 0u) << read.result;
  read.peakKb = std::stol(read.result.substr(4));
  long expandedKb = std::stol(read.result.substr(read.result.rfind(' ') + 1)) / 1024;
  OTEL_EXPECT_MEMORY_LT(read.growthKb(), 10 * std::max(expandedKb, static_cast<long>(text.size() / 1024))) << read.result;
  // Loading it keeps each stanza again (KubeconfigEntry per name): accepted, its memory printed.
  auto m = attempt([&] { return otel::kube::loadRestConfig(o).server; });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result, "ok: https://127.0.0.1:6443");
  std::printf("kubeconfig %zu kB (%ld kB as JSON): read %ld kB, loaded %ld kB peak growth\n", text.size() / 1024,
              expandedKb, read.growthKb(), m.growthKb());
}

}  // namespace
