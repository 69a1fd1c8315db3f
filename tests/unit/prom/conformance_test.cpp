// The upstream target-allocator conformance suite (../shared/reference/ta-conformance): for each case,
// prometheus.yaml's discovered and final labels must equal golden.json (promtool check service-discovery
// output: "discoveredLabels" before relabeling, "labels" after, {} when dropped), and the allocator's
// served labels are the discovered labels minus job/__scheme__/__metrics_path__/__scrape_interval__/
// __scrape_timeout__.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/core/json.h"
#include "lib/core/yaml.h"
#include "lib/prom/scrape_config.h"
#include "lib/prom/target.h"

namespace otel::prom {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path suiteDir() { return fs::path(OTEL_SHARED_REFERENCE) / "ta-conformance"; }

TEST(Conformance, EveryCaseMatchesGolden) {
  if (!fs::is_directory(suiteDir())) GTEST_SKIP() << "no " << suiteDir() << " (reference data absent in this clone)";
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(suiteDir()))
    if (fs::exists(e.path() / "prometheus.yaml") && fs::exists(e.path() / "golden.json")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  ASSERT_FALSE(cases.empty());
  for (const auto& dir : cases) {
    SCOPED_TRACE(dir.filename().string());
    auto cfgPath = (dir / "prometheus.yaml").string();
    PromConfig cfg = parsePromConfig(parseYaml(slurp(cfgPath), cfgPath), cfgPath);
    Json golden = Json::parse(slurp(dir / "golden.json"));

    std::vector<std::string> got, want, servedGot, servedWant;
    for (std::size_t j = 0; j < cfg.scrapeConfigs.size(); ++j) {
      TargetBuilder b(cfg.scrapeConfigs[j], static_cast<std::uint32_t>(j));
      for (const auto& merged : discoveredLabelSets(cfg.scrapeConfigs[j])) {
        auto fin = b.finalLabels(merged);
        Json entry = {{"discoveredLabels", b.seeded(merged).toJson()},
                      {"labels", fin ? fin->toJson() : Json::object()}};
        got.push_back(entry.dump());
        auto t = b.build(merged);
        EXPECT_EQ(t.has_value(), fin.has_value()) << "allocator keep/drop differs from Prometheus: " << entry.dump();
        if (t) servedGot.push_back(t->labels.toJson().dump());
      }
    }
    for (const auto& g : golden) {
      Json entry = {{"discoveredLabels", g["discoveredLabels"]}, {"labels", g["labels"]}};
      // Golden keys are already sorted; ordered_json keeps that order, as does Labels::toJson.
      want.push_back(entry.dump());
      if (!g["labels"].empty()) {
        Json served = g["discoveredLabels"];
        for (auto k : {"job", "__scheme__", "__metrics_path__", "__scrape_interval__", "__scrape_timeout__"})
          served.erase(k);
        servedWant.push_back(served.dump());
      }
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    std::sort(servedGot.begin(), servedGot.end());
    std::sort(servedWant.begin(), servedWant.end());
    EXPECT_EQ(servedGot, servedWant);
  }
}

TEST(Conformance, IdentityGroupsAsUpstream) {
  if (!fs::is_directory(suiteDir())) GTEST_SKIP() << "no " << suiteDir() << " (reference data absent in this clone)";
  auto load = [](const char* name) {
    auto p = (suiteDir() / name / "prometheus.yaml").string();
    return parsePromConfig(parseYaml(slurp(p), p), p);
  };
  auto hashes = [](const PromConfig& cfg) {
    std::vector<std::uint64_t> h;
    for (std::size_t j = 0; j < cfg.scrapeConfigs.size(); ++j) {
      TargetBuilder b(cfg.scrapeConfigs[j], static_cast<std::uint32_t>(j));
      for (const auto& m : discoveredLabelSets(cfg.scrapeConfigs[j]))
        if (auto t = b.build(m)) h.push_back(t->hash);
    }
    return h;
  };
  auto dedup = hashes(load("dedup-address-rewrite"));
  ASSERT_EQ(dedup.size(), 2u);
  EXPECT_EQ(dedup[0], dedup[1]);  // same relabeled labels: one identity
  for (const char* distinct : {"blackbox-param-instance", "multi-job-same-address", "same-address-distinct-path",
                               "sorted-merge-multitarget"}) {
    auto h = hashes(load(distinct));
    std::sort(h.begin(), h.end());
    EXPECT_EQ(std::adjacent_find(h.begin(), h.end()), h.end()) << distinct;
  }
  EXPECT_EQ(buildTargets(load("dedup-address-rewrite")).size(), 1u);
}

}  // namespace
}  // namespace otel::prom
