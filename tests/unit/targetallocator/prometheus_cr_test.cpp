// prometheus_cr: the config keys, and which monitors are selected (upstream's nil-versus-empty rules,
// namespace selectors over namespace labels, allow/deny lists), each skipped monitor with its reason.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/targetallocator/config.h"
#include "lib/targetallocator/prometheus_cr.h"

namespace otel::targetallocator {
namespace {

Json y(const std::string& s) { return parseYaml(s, "test"); }

PrometheusCrConfig cr(const std::string& yaml) {
  return parseConfig(y("collectors: [a]\nprometheus_cr:\n" + yaml), "ta.yaml").prometheusCr;
}

Json sm(const std::string& ns, const std::string& name, const std::string& labels = "{}") {
  return y("{kind: ServiceMonitor, metadata: {name: " + name + ", namespace: " + ns + ", labels: " + labels +
           "}, spec: {selector: {matchLabels: {app: x}}, endpoints: [{port: http}]}}");
}

std::vector<std::string> jobs(const PromCrScrapeConfigs& g) {
  std::vector<std::string> out;
  for (const auto& sc : g.scrapeConfigs) out.push_back(sc.jobName);
  return out;
}

TEST(PrometheusCr, ConfigKeysAndDefaults) {
  PrometheusCrConfig d = cr("  enabled: true\n");
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.scrapeInterval, "30s");
  EXPECT_TRUE(d.serviceMonitorSelector.is_null());  // nil: nothing
  EXPECT_EQ(d.serviceMonitorNamespaceSelector, Json::object());  // {}: every namespace
  PrometheusCrConfig c = cr("  enabled: true\n  scrape_interval: 1m\n  service_monitor_selector: {matchlabels: {team: a}}\n"
                            "  service_monitor_namespace_selector: null\n  pod_monitor_namespace_selector: {matchlabels: {env: prod}}\n"
                            "  deny_namespaces: [kube-system]\n  secret_namespaces: [s]\n  deny_fs_access_through_sms: true\n"
                            "  scrape_protocols: [PrometheusText0.0.4]\n  evaluation_interval: 30s\n  scrape_classes: []\n");
  EXPECT_EQ(c.scrapeInterval, "1m");
  EXPECT_EQ(c.serviceMonitorSelector["matchlabels"]["team"], "a");
  EXPECT_EQ(c.serviceMonitorNamespaceSelector, Json::object());  // an explicit null keeps the default
  EXPECT_EQ(c.podMonitorNamespaceSelector["matchlabels"]["env"], "prod");
  EXPECT_EQ(c.denyNamespaces, std::vector<std::string>{"kube-system"});
  EXPECT_TRUE(c.denyFsAccessThroughSms);
  EXPECT_THROW(cr("  enabled: true\n  scrape_interval: often\n"), Error);
  EXPECT_THROW(cr("  enabled: true\n  colour: blue\n"), Error);
  EXPECT_THROW(cr("  enabled: true\n  pod_monitor_selector: [a]\n"), Error);
}

TEST(PrometheusCr, NilSelectsNothingEmptySelectsEverything) {
  prom::ObjectMap sms = {{"a/one", sm("a", "one", "{team: x}")}, {"b/two", sm("b", "two")}};
  PromCrObjects o{.serviceMonitors = &sms};
  EXPECT_TRUE(jobs(promCrScrapeConfigs(cr("  enabled: true\n"), o)).empty());
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n"), o)),
            (std::vector<std::string>{"serviceMonitor/a/one/0", "serviceMonitor/b/two/0"}));
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {matchLabels: {team: x}}\n"), o)),
            std::vector<std::string>{"serviceMonitor/a/one/0"});
  EXPECT_EQ(jobs(promCrScrapeConfigs(
                cr("  enabled: true\n  service_monitor_selector: {matchexpressions: [{key: team, operator: DoesNotExist}]}\n"), o)),
            std::vector<std::string>{"serviceMonitor/b/two/0"});
}

// prometheus_cr.scrape_protocols is the generated jobs' global: a job without scrapeProtocols of its own
// gets it, one with its own keeps them; without the setting nothing is added.
TEST(PrometheusCr, ScrapeProtocolsAreTheGeneratedJobsGlobal) {
  Json own = sm("a", "own");
  own["spec"]["scrapeProtocols"] = Json::array({"PrometheusProto"});
  prom::ObjectMap sms = {{"a/own", own}, {"a/plain", sm("a", "plain")}};
  PromCrObjects o{.serviceMonitors = &sms};
  auto g = promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n  scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]\n"), o);
  ASSERT_EQ(g.scrapeConfigs.size(), 2u);
  EXPECT_EQ(g.scrapeConfigs[0].raw["scrape_protocols"], Json::array({"PrometheusProto"}));
  EXPECT_EQ(g.scrapeConfigs[1].raw["scrape_protocols"], Json::array({"OpenMetricsText1.0.0", "PrometheusText0.0.4"}));
  auto none = promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n"), o);
  EXPECT_FALSE(none.scrapeConfigs[1].raw.contains("scrape_protocols"));
}

TEST(PrometheusCr, NamespacesByLabelAndByList) {
  prom::ObjectMap sms = {{"prod/one", sm("prod", "one")}, {"dev/two", sm("dev", "two")}, {"kube-system/k", sm("kube-system", "k")}};
  prom::ObjectMap nss = {{"prod", y("{metadata: {name: prod, labels: {env: prod}}}")}, {"dev", y("{metadata: {name: dev}}")},
                         {"kube-system", y("{metadata: {name: kube-system, labels: {env: prod}}}")}};
  PromCrObjects o{.serviceMonitors = &sms, .namespaces = &nss};
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n  service_monitor_namespace_selector: {matchlabels: {env: prod}}\n"), o)),
            (std::vector<std::string>{"serviceMonitor/kube-system/k/0", "serviceMonitor/prod/one/0"}));
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n  deny_namespaces: [kube-system]\n"), o)),
            (std::vector<std::string>{"serviceMonitor/dev/two/0", "serviceMonitor/prod/one/0"}));
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n  allow_namespaces: [dev]\n"), o)),
            std::vector<std::string>{"serviceMonitor/dev/two/0"});
}

TEST(PrometheusCr, AnInvalidMonitorIsSkippedAndTheRestKept) {
  prom::ObjectMap sms = {{"a/bad", y("{kind: ServiceMonitor, metadata: {name: bad, namespace: a}, spec: {endpoints: [{interval: 5s, scrapeTimeout: 10s}]}}")},
                         {"a/clash", y("{kind: ServiceMonitor, metadata: {name: clash, namespace: a}, spec: {endpoints: [{}]}}")},
                         {"a/good", sm("a", "good")}};
  prom::ObjectMap pms = {{"a/pm", y("{kind: PodMonitor, metadata: {name: pm, namespace: a}, spec: {podMetricsEndpoints: [{port: m}]}}")}};
  PromCrObjects o{.serviceMonitors = &sms, .podMonitors = &pms};
  auto g = promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n  pod_monitor_selector: {}\n"), o,
                               {"serviceMonitor/a/clash/0"});
  EXPECT_EQ(jobs(g), (std::vector<std::string>{"serviceMonitor/a/good/0", "podMonitor/a/pm/0"}));
  ASSERT_EQ(g.skipped.size(), 2u);
  EXPECT_EQ(g.skipped[0].name, "bad");
  EXPECT_NE(g.skipped[0].reason.find("scrape timeout greater than scrape interval"), std::string::npos) << g.skipped[0].reason;
  EXPECT_EQ(g.skipped[1].name, "clash");
  EXPECT_NE(g.skipped[1].reason.find("already defined by the allocator's scrape_configs"), std::string::npos) << g.skipped[1].reason;
  // the generated jobs get prometheus_cr's scrape interval as their default
  EXPECT_EQ(g.scrapeConfigs[0].scrapeInterval(), "30s");
}

TEST(PrometheusCr, ProbesAndScrapeConfigsHaveTheirOwnSelectors) {
  prom::ObjectMap probes = {{"a/p", y("{kind: Probe, metadata: {name: p, namespace: a, labels: {k: v}}, spec: {prober: {url: 'b:9115'}, targets: {staticConfig: {static: [x]}}}}")}};
  prom::ObjectMap scs = {{"a/s", y("{kind: ScrapeConfig, metadata: {name: s, namespace: a}, spec: {staticConfigs: [{targets: ['h:1']}]}}")}};
  PromCrObjects o{.probes = &probes, .scrapeConfigs = &scs};
  EXPECT_TRUE(jobs(promCrScrapeConfigs(cr("  enabled: true\n  service_monitor_selector: {}\n"), o)).empty());
  EXPECT_EQ(jobs(promCrScrapeConfigs(cr("  enabled: true\n  probe_selector: {matchlabels: {k: v}}\n  scrape_config_selector: {}\n"), o)),
            (std::vector<std::string>{"probe/a/p", "scrapeConfig/a/s"}));
}

}  // namespace
}  // namespace otel::targetallocator
