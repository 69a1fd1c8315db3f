// TargetBuilder::buildGroup (the per-group reload path) against build() target by target: same targets,
// identities, served labels and address hashes, for the conformance suite and for rules that read,
// write or delete __address__ (where the per-group relabel prefix must stop); buildTargets' dedup.
#include "lib/prom/target.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "lib/core/yaml.h"

namespace otel::prom {
namespace {

namespace fs = std::filesystem;

std::string describe(const Target& t) {
  return std::to_string(t.hash) + " job=" + std::to_string(t.job) + " addr=" + std::to_string(t.addressHash) + " " +
         t.labels.toJson().dump();
}

std::string describe(const DroppedTarget& d) {
  return "dropped " + d.address + " rule=" + std::to_string(d.rule) + " values=" + d.values;
}

// build() one target at a time, as before buildGroup existed; the dropped targets after the kept ones.
// `ownMeta`: each target also has a label of its own (the buildObject shape).
std::vector<std::string> oneByOne(const TargetBuilder& b, const TargetGroup& g, bool ownMeta = false) {
  std::vector<std::string> out;
  std::vector<DroppedTarget> dropped;
  for (const auto& addr : g.targets) {
    Labels own;
    own.set(kAddressLabel, addr);
    if (ownMeta) own.set("__meta_own", addr);
    if (auto t = b.build(g.labels, own, &dropped)) out.push_back(describe(*t));
  }
  for (const auto& d : dropped) out.push_back(describe(d));
  return out;
}

std::vector<std::string> grouped(const TargetBuilder& b, const TargetGroup& g) {
  std::vector<Target> ts;
  std::vector<DroppedTarget> dropped;
  b.buildGroup(g.labels, g.targets, ts, &dropped);
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(describe(t));
  for (const auto& d : dropped) out.push_back(describe(d));
  return out;
}

// buildObject: the group's labels shared (its __address__ left out, as Kubernetes SD gives them), each
// target with __address__ and __meta_own of its own.
std::vector<std::string> object(const TargetBuilder& b, const TargetGroup& g) {
  Labels group = g.labels;
  group.del(kAddressLabel);
  std::vector<Labels> targets;
  for (const auto& addr : g.targets) {
    if (addr.empty()) continue;  // Kubernetes SD always gives an address
    Labels own;
    own.set(kAddressLabel, addr);
    own.set("__meta_own", addr);
    targets.push_back(std::move(own));
  }
  std::vector<Target> ts;
  std::vector<DroppedTarget> dropped;
  b.buildObject(group, targets, ts, &dropped);
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(describe(t));
  for (const auto& d : dropped) out.push_back(describe(d));
  return out;
}

void expectSame(const PromConfig& cfg) {
  for (std::size_t j = 0; j < cfg.scrapeConfigs.size(); ++j) {
    for (bool filter : {true, false}) {
      TargetBuilder a(cfg.scrapeConfigs[j], static_cast<std::uint32_t>(j), filter);
      TargetBuilder b(cfg.scrapeConfigs[j], static_cast<std::uint32_t>(j), filter);
      for (const auto& g : cfg.scrapeConfigs[j].staticConfigs) {
        // Twice through the same builder: scratch state must not leak between groups.
        EXPECT_EQ(grouped(b, g), oneByOne(a, g)) << cfg.scrapeConfigs[j].jobName << " " << g.labels.toJson().dump();
        EXPECT_EQ(grouped(b, g), oneByOne(a, g));
        TargetGroup withAddress = g, noAddress = g;
        withAddress.targets.erase(std::remove(withAddress.targets.begin(), withAddress.targets.end(), ""), withAddress.targets.end());
        noAddress.labels.del(kAddressLabel);
        noAddress.targets = withAddress.targets;
        EXPECT_EQ(object(b, g), oneByOne(a, noAddress, true)) << "buildObject " << g.labels.toJson().dump();
      }
    }
  }
}

PromConfig config(const std::string& yaml) { return parsePromConfig(parseYaml(yaml), "test"); }

TEST(BuildGroup, ConformanceSuiteSameAsOneByOne) {
  fs::path dir = fs::path(OTEL_SHARED_REFERENCE) / "ta-conformance";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  std::size_t cases = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto p = e.path() / "prometheus.yaml";
    if (!fs::exists(p)) continue;
    SCOPED_TRACE(e.path().filename().string());
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    expectSame(parsePromConfig(parseYaml(ss.str(), p.string()), p.string()));
    ++cases;
  }
  EXPECT_GT(cases, 0u);
}

constexpr const char* kGroups = R"(
    static_configs:
      - targets: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:80', '192.168.1.1:9', 'Host-A:1']
        labels: {__meta_ns: prod, __meta_app: web, env: Prod, __address__: group-addr, job: override}
      - targets: ['10.0.0.3:80', '10.0.0.4:80']
        labels: {__meta_ns: dev, __meta_app: api, __meta_kubernetes_pod_label___address__: x}
      - targets: ['', '10.0.0.5:80']
        labels: {__meta_ns: dev}
      - targets: ['10.0.0.6:80']
        labels: {__meta_ns: dev}
)";

TEST(BuildGroup, RulesTouchingAddressSameAsOneByOne) {
  const char* rules[] = {
      // group-level only
      "- {source_labels: [__meta_ns], regex: prod, action: keep}\n"
      "- {source_labels: [__meta_ns], target_label: namespace}\n"
      "- {regex: '__meta_(.+)', action: labelmap}\n",
      // reads __address__
      "- {source_labels: [__address__], target_label: __tmp_hash, modulus: 4, action: hashmod}\n"
      "- {source_labels: [__tmp_hash], regex: '1', action: drop}\n",
      "- {source_labels: [__address__], regex: '192\\.168\\..*', action: drop}\n",
      "- {source_labels: [__meta_ns], target_label: __address__, action: keepequal}\n",
      "- {source_labels: [__meta_ns], target_label: __address__, action: dropequal}\n",
      // writes or deletes __address__ from group labels
      "- {source_labels: [__meta_ns], target_label: __address__, replacement: 'blackbox:9115'}\n",
      "- {source_labels: [__meta_ns], target_label: __address__, regex: '(.*)', replacement: '10.0.0.1:80'}\n",
      "- {source_labels: [__meta_ns], regex: '(.*)', target_label: '${1}', replacement: v}\n",
      "- {source_labels: [__meta_app], regex: '(.*)', target_label: '__address_${1}', replacement: v}\n",
      "- {regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}\n",
      "- {regex: '__addr.*', action: labeldrop}\n",
      "- {regex: '__meta.*|job|__scheme__|__metrics_path__|__scrape.*', action: labelkeep}\n",
      "- {source_labels: [__meta_ns], target_label: __address__, action: uppercase}\n",
      "- {source_labels: [__address__], target_label: addr_lower, action: lowercase}\n",
      "- {regex: '(__address__)', replacement: copied_$1, action: labelmap}\n",
      // group-level prefix then per-target rules
      "- {source_labels: [__meta_app], regex: 'web|api', action: keep}\n"
      "- {source_labels: [env], target_label: env, action: lowercase}\n"
      "- {source_labels: [__address__], regex: '([^:]+):.*', target_label: host}\n"
      "- {source_labels: [host, env], separator: '/', target_label: id}\n"
      "- {regex: 'host', action: labeldrop}\n",
      // drops the whole group in the prefix
      "- {source_labels: [__meta_ns], regex: nowhere, action: keep}\n",
  };
  for (const char* r : rules) {
    SCOPED_TRACE(r);
    std::string yaml = "scrape_configs:\n  - job_name: j\n";
    yaml += kGroups;
    yaml += "    relabel_configs:\n";
    std::istringstream in(r);
    for (std::string line; std::getline(in, line);) yaml += "      " + line + "\n";
    expectSame(config(yaml));
  }
}

TEST(BuildGroup, RandomRuleChainsSameAsOneByOne) {
  const char* pool[] = {
      "{source_labels: [__meta_ns], target_label: namespace}",
      "{source_labels: [__address__], regex: '10\\.0\\.0\\.[12]:80', action: keep}",
      "{source_labels: [__address__], regex: '(.*):(.*)', target_label: port, replacement: $2}",
      "{source_labels: [__meta_app], target_label: __address__, replacement: 'svc:1'}",
      "{regex: '__meta_(.+)', action: labelmap}",
      "{regex: '__meta_app', action: labeldrop}",
      "{source_labels: [__address__, __meta_ns], target_label: k, modulus: 3, action: hashmod}",
      "{source_labels: [k], regex: '0', action: drop}",
      "{source_labels: [__meta_ns], regex: '(d)ev', target_label: '__address__', replacement: '$1:2'}",
      "{source_labels: [namespace], target_label: ns_up, action: uppercase}",
      "{source_labels: [__meta_ns], target_label: __meta_app, action: keepequal}",
      "{source_labels: [__address__], regex: '10\\.0\\.0\\.3:80', target_label: __address__, replacement: ''}",
      "{source_labels: [__meta_own], regex: '10\\.0\\.0\\.4:80', action: drop}",
  };
  std::mt19937 rng(11);
  for (int round = 0; round < 150; ++round) {
    std::string yaml = "scrape_configs:\n  - job_name: j\n";
    yaml += kGroups;
    yaml += "    relabel_configs:\n";
    int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) yaml += std::string("      - ") + pool[rng() % std::size(pool)] + "\n";
    SCOPED_TRACE(yaml);
    expectSame(config(yaml));
  }
}

// Prometheus refuses to scrape a target whose relabeling leaves no __address__ ("no address"); upstream's
// allocator still assigns it. Here it is not served (docs/compatibility.md), by the group path and the
// one-by-one path alike.
TEST(BuildTargets, ATargetWithoutAddressAfterRelabelingIsNotServed) {
  auto cfg = config(R"(
scrape_configs:
  - job_name: j
    static_configs:
      - targets: ['a:1', 'b:1', 'c:1']
    relabel_configs:
      - {source_labels: [__address__], regex: 'b:1', target_label: __address__, replacement: ''}
)");
  auto ts = buildTargets(cfg);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].address(), "a:1");
  EXPECT_EQ(ts[1].address(), "c:1");
  TargetBuilder one(cfg.scrapeConfigs[0], 0);
  EXPECT_FALSE(one.build(Labels{}, Labels::fromPairs({{"__address__", "b:1"}})).has_value());
  EXPECT_TRUE(one.build(Labels{}, Labels::fromPairs({{"__address__", "a:1"}})).has_value());
  // without rules, an empty discovered address (a '' static target, an ingress rule without host) is not
  // served either, and is recorded as such; without the relabel filter it is
  auto plain = config("scrape_configs:\n  - job_name: j\n    static_configs: [{targets: ['', 'a:1']}]\n");
  TargetBuilder filtered(plain.scrapeConfigs[0], 0), unfiltered(plain.scrapeConfigs[0], 0, false);
  std::vector<Target> kept;
  std::vector<DroppedTarget> dropped;
  filtered.buildGroup(plain.scrapeConfigs[0].staticConfigs[0].labels, plain.scrapeConfigs[0].staticConfigs[0].targets, kept, &dropped);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].address(), "a:1");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].rule, kNoAddressLeft);
  kept.clear();
  unfiltered.buildGroup(plain.scrapeConfigs[0].staticConfigs[0].labels, plain.scrapeConfigs[0].staticConfigs[0].targets, kept);
  EXPECT_EQ(kept.size(), 2u);
}

// Each dropped target says which rule dropped it, and dropReason says it in a line.
TEST(BuildTargets, DroppedTargetsNameTheRule) {
  auto cfg = config(R"(
scrape_configs:
  - job_name: j
    static_configs:
      - targets: ['a:1', 'b:1', 'c:1']
        labels: {__meta_app: web}
      - targets: ['d:1']
        labels: {__meta_app: db}
    relabel_configs:
      - {source_labels: [__meta_app], regex: web, action: keep}
      - {source_labels: [__address__, __meta_app], separator: '@', regex: 'b:1@.*', action: drop}
      - {source_labels: [__address__], regex: 'c:1', target_label: __address__, replacement: ''}
)");
  TargetBuilder b(cfg.scrapeConfigs[0], 0);
  std::vector<Target> kept;
  std::vector<DroppedTarget> dropped;
  for (const auto& g : cfg.scrapeConfigs[0].staticConfigs) b.buildGroup(g.labels, g.targets, kept, &dropped);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].address(), "a:1");
  ASSERT_EQ(dropped.size(), 3u);
  EXPECT_EQ(describe(dropped[0]), "dropped b:1 rule=1 values=b:1@web");
  EXPECT_EQ(describe(dropped[1]), "dropped c:1 rule=" + std::to_string(kNoAddressLeft) + " values=");
  EXPECT_EQ(describe(dropped[2]), "dropped d:1 rule=0 values=db");
  const auto& sc = cfg.scrapeConfigs[0];
  EXPECT_EQ(dropReason(sc, dropped[0]), "relabel_configs[1] drop [__address__, __meta_app]: \"b:1@web\" matches \"b:1@.*\"");
  EXPECT_EQ(dropReason(sc, dropped[1]), "no __address__ left after relabel_configs (Prometheus cannot scrape it)");
  EXPECT_EQ(dropReason(sc, dropped[2]), "relabel_configs[0] keep [__meta_app]: \"db\" does not match \"web\"");
}

TEST(BuildTargets, DedupKeepsFirstPositionLastContent) {
  auto cfg = config(R"(
scrape_configs:
  - job_name: j
    static_configs:
      - targets: ['a:1', 'b:1']
        labels: {__meta_x: first}
      - targets: ['c:1', 'a:1']
        labels: {__meta_x: second}
)");
  auto ts = buildTargets(cfg);
  ASSERT_EQ(ts.size(), 3u);  // a:1 twice: same identity (meta labels are not part of it)
  EXPECT_EQ(ts[0].address(), "a:1");
  EXPECT_EQ(ts[0].labels.get("__meta_x"), "second");
  EXPECT_EQ(ts[1].address(), "b:1");
  EXPECT_EQ(ts[2].address(), "c:1");
}

}  // namespace
}  // namespace otel::prom
