// Scrape config model: defaults, durations, duplicate jobs, one-line errors naming file/job/rule,
// target identity and served labels.
#include "lib/prom/scrape_config.h"

#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/prom/target.h"

namespace otel::prom {
namespace {

PromConfig parse(const std::string& yaml) { return parsePromConfig(parseYaml(yaml), "prom.yaml"); }

std::string errorOf(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const Error& e) {
    return e.oneLine();
  }
  return "<no error>";
}

TEST(Duration, ParseAndFormatLikePrometheus) {
  EXPECT_EQ(parseDuration("1m30s"), 90000);
  EXPECT_EQ(parseDuration("0"), 0);
  EXPECT_EQ(formatDuration(60000), "1m");
  EXPECT_EQ(formatDuration(90000), "1m30s");
  EXPECT_EQ(formatDuration(parseDuration("120s")), "2m");
  EXPECT_EQ(formatDuration(7 * 24 * 3600 * 1000LL), "1w");
  EXPECT_EQ(formatDuration(1500), "1s500ms");
  EXPECT_THROW(parseDuration("1x"), Error);
  EXPECT_THROW(parseDuration("s"), Error);
  EXPECT_THROW(parseDuration("1s1m"), Error);
  // past int64 nanoseconds (~292 years) is out of range, as Prometheus says; found by fuzz_ta_config as a
  // signed overflow (111111111111w)
  EXPECT_EQ(parseDuration("290y"), 290LL * 365 * 24 * 3600 * 1000);
  EXPECT_THROW(parseDuration("300y"), Error);
  EXPECT_THROW(parseDuration("111111111111w"), Error);
  EXPECT_THROW(parseDuration("290y3000w"), Error);
}

TEST(ScrapeConfig, DefaultsFromGlobal) {
  auto c = parse(R"(
global: {scrape_interval: 30s}
scrape_configs:
  - job_name: a
  - job_name: b
    scrape_interval: 5s
    params: {module: [http_2xx]}
    honor_labels: true
)");
  ASSERT_EQ(c.scrapeConfigs.size(), 2u);
  EXPECT_EQ(c.scrapeConfigs[0].scrapeInterval(), "30s");
  EXPECT_EQ(c.scrapeConfigs[0].scrapeTimeout(), "10s");
  EXPECT_EQ(c.scrapeConfigs[1].scrapeTimeout(), "5s");  // global timeout capped at the interval
  EXPECT_EQ(c.scrapeConfigs[1].metricsPath, "/metrics");
  EXPECT_EQ(c.scrapeConfigs[1].raw["honor_labels"], true);  // unknown-to-us fields preserved
  EXPECT_EQ(c.scrapeConfigs[1].params[0].second[0], "http_2xx");
}

TEST(ScrapeConfig, Errors) {
  EXPECT_EQ(errorOf("scrape_configs: [{job_name: a}, {job_name: a}]"),
            "prom.yaml: found multiple scrape configs with job name \"a\"");
  EXPECT_EQ(errorOf("scrape_configs: [{job_name: a, relabel_configs: [{regex: '(', target_label: x}]}]")
                .rfind("prom.yaml: job \"a\": relabel_configs[0]: invalid regex \"(\"", 0),
            0u);
  EXPECT_EQ(errorOf("scrape_configs: [{job_name: a, relabel_configs: [{target_label: x}, {action: bogus}]}]"),
            "prom.yaml: job \"a\": relabel_configs[1] (action bogus): unknown relabel action \"bogus\"");
  EXPECT_EQ(errorOf("scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]"),
            "prom.yaml: job \"a\": scrape timeout greater than scrape interval for scrape config with job name \"a\"");
  EXPECT_EQ(errorOf("scrape_configs: [{scrape_interval: 5s}]"), "prom.yaml: job #0: job_name is empty");
  EXPECT_EQ(errorOf("scrape_configs: [{job_name: a, scrape_interval: 5x}]"),
            "prom.yaml: job \"a\": scrape_interval: not a valid duration string: \"5x\"");
}

TEST(Target, SeedRelabelIdentityAndServedLabels) {
  auto c = parse(R"(
scrape_configs:
  - job_name: j
    static_configs:
      - targets: ['10.0.0.1:9100', '10.0.0.2:9100']
        labels: {__meta_x: m, team: web}
    relabel_configs:
      - {source_labels: [job], regex: j, action: keep}
      - {source_labels: [__address__], regex: '10\.0\.0\.2:.*', action: drop}
      - {source_labels: [__tmp_disable_sharding], target_label: sharding}
)");
  auto targets = buildTargets(c);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].address(), "10.0.0.1:9100");
  // Served labels: discovered labels, __meta_* included, seeded job/scheme/path/interval/timeout excluded.
  EXPECT_EQ(targets[0].labels.toJson().dump(), R"({"__address__":"10.0.0.1:9100","__meta_x":"m","team":"web"})");
  // Identity ignores __meta_* but includes the job: the same labels in another job hash differently.
  Labels relabeled = Labels::fromPairs({{"__address__", "a"}, {"job", "j"}});
  Labels withMeta = Labels::fromPairs({{"__address__", "a"}, {"job", "j"}, {"__meta_z", "1"}});
  EXPECT_EQ(targetHash(relabeled, "j"), targetHash(withMeta, "j"));
  EXPECT_NE(targetHash(relabeled, "j"), targetHash(relabeled, "k"));
}

TEST(Target, DisableShardingWrapperNeutralisesShardKeep) {
  // prometheus-operator's sharding rule keeps `$(SHARD);|.+;.+`: with __tmp_disable_sharding set, it keeps all.
  auto c = parse(R"(
scrape_configs:
  - job_name: sm
    static_configs: [{targets: ['a:1', 'b:1', 'c:1']}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __tmp_hash, modulus: 1, action: hashmod}
      - {source_labels: [__tmp_hash, __tmp_disable_sharding], regex: '$(SHARD);|.+;.+', action: keep}
)");
  EXPECT_EQ(buildTargets(c).size(), 3u);
  EXPECT_EQ(buildTargets(c, ".", /*relabelFilter=*/true)[0].labels.has("__tmp_disable_sharding"), false);
}

}  // namespace
}  // namespace otel::prom
