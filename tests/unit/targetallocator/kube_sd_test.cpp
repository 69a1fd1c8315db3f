// Incremental Kubernetes SD (KubeSd::changes -> Service::applyKubernetes) against a full rebuild from the
// same informer caches (KubeSd::groups -> Service::reloadTargets on a fresh Service): random sequences of
// object changes (pods, services, endpoints, endpointslices, ingresses, nodes, namespaces; adds, updates,
// deletes) give the same targets, labels and assignments. Also: an event touches only its own objects and
// their dependents.
#include <gtest/gtest.h>

#include <random>

#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/targetallocator/kube_sd.h"
#include "lib/targetallocator/service.h"

namespace otel::targetallocator {
namespace {

using kube::EventType;

kube::Client& client() {
  static kube::Client c([] {
    kube::RestConfig rc;
    rc.server = "http://127.0.0.1:9";  // never contacted: the caches are filled through applyEvent
    return rc;
  }());
  return c;
}

// Jobs over every role, with attach_metadata, two namespace informers, dropping and identity-changing
// relabel rules, and a static target whose identity a discovered target shares.
const char* kScrape = R"(
scrape_configs:
- job_name: slices
  static_configs: [{targets: ['10.0.0.1:8080']}]
  kubernetes_sd_configs:
  - {role: endpointslice, attach_metadata: {node: true, namespace: true}}
  - {role: endpointslice, namespaces: {names: [ns0, ns1]}}
  relabel_configs:
  - {source_labels: [__meta_kubernetes_service_label_monitored], regex: 'true|', action: keep}
  - {source_labels: [__meta_kubernetes_pod_label_tier], target_label: tier}
  - {source_labels: [__meta_kubernetes_endpointslice_port_name], regex: web, action: drop}
- job_name: pods
  kubernetes_sd_configs: [{role: pod, attach_metadata: {node: true}}]
  relabel_configs:
  - {regex: __meta_kubernetes_node_label_(.+), action: labelmap}
  - {source_labels: [__meta_kubernetes_namespace], regex: ns1, action: drop}
- job_name: services
  kubernetes_sd_configs: [{role: service, attach_metadata: {namespace: true}}]
  relabel_configs:
  - {source_labels: [__meta_kubernetes_namespace_label_env], target_label: env}
- job_name: nodes
  kubernetes_sd_configs: [{role: node}]
- job_name: endpoints
  kubernetes_sd_configs: [{role: endpoints, attach_metadata: {node: true, namespace: true}}]
  relabel_configs:
  - {source_labels: [__meta_kubernetes_service_label_monitored], regex: 'true|', action: keep}
  - {source_labels: [__meta_kubernetes_pod_label_tier, __meta_kubernetes_node_label_zone], target_label: where}
- job_name: ingresses
  kubernetes_sd_configs: [{role: ingress, namespaces: {names: [ns1]}, attach_metadata: {namespace: true}}]
  relabel_configs:
  - {source_labels: [__meta_kubernetes_ingress_scheme, __address__, __meta_kubernetes_ingress_path], regex: '(.+);(.+);(.+)', target_label: __param_target, replacement: '${1}://${2}${3}'}
  - {source_labels: [__meta_kubernetes_namespace_label_env], target_label: env}
)";

Config config(allocation::Strategy strategy) {
  Config c;
  c.strategy = strategy;
  c.prom = prom::parsePromConfig(parseYaml(kScrape, "test"), "test");
  for (int i = 0; i < 5; ++i) c.collectors.push_back({"collector-" + std::to_string(i), "n" + std::to_string(i % 3)});
  return c;
}

struct World {
  std::mt19937 rng;
  int rv = 1;
  // resource -> key -> object, mirroring what was sent (for deletes).
  std::map<std::string, std::map<std::string, Json>> objects;

  explicit World(unsigned seed) : rng(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string of(std::initializer_list<const char*> xs) { return *(xs.begin() + pick(static_cast<int>(xs.size()))); }
  std::string ns() { return "ns" + std::to_string(pick(2)); }
  std::string ip() { return "10.0.0." + std::to_string(1 + pick(6)); }

  Json meta(const std::string& name, const std::string& namesp, Json labels) {
    Json m = {{"name", name}, {"resourceVersion", std::to_string(++rv)}, {"labels", std::move(labels)}};
    if (!namesp.empty()) m["namespace"] = namesp;
    return m;
  }
  Json make(const std::string& resource, const std::string& name, const std::string& namesp) {
    if (resource == "namespaces") return {{"metadata", meta(name, "", {{"env", of({"prod", "dev"})}})}};
    if (resource == "nodes")
      return {{"metadata", meta(name, "", {{"zone", of({"a", "b"})}})},
              {"status", {{"addresses", Json::array({{{"type", "InternalIP"}, {"address", "192.168.0." + std::to_string(pick(3))}}})},
                          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}}}}};
    if (resource == "pods") {
      Json ports = Json::array({{{"name", "metrics"}, {"containerPort", 8080}}});
      if (pick(2)) ports.push_back({{"name", "web"}, {"containerPort", 9090}});
      Json status = {{"phase", "Running"}};
      if (pick(5)) status["podIP"] = ip();
      return {{"metadata", meta(name, namesp, {{"tier", of({"front", "back"})}})},
              {"spec", {{"nodeName", "n" + std::to_string(pick(3))}, {"containers", Json::array({{{"name", "app"}, {"image", "app:1"}, {"ports", ports}}})}}},
              {"status", status}};
    }
    if (resource == "services") {
      Json labels = Json::object();
      if (pick(4)) labels["monitored"] = of({"true", "false"});
      return {{"metadata", meta(name, namesp, labels)},
              {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0." + std::to_string(pick(9))},
                        {"ports", Json::array({{{"name", "http"}, {"port", 80 + pick(2)}}})}}}};
    }
    if (resource == "endpoints") {
      Json subsets = Json::array();
      for (int n = 0, k = pick(3); n < k; ++n) {
        Json subset = {{"ports", Json::array({{{"name", "metrics"}, {"port", 8080}, {"protocol", "TCP"}}})}};
        if (pick(3) == 0) subset["ports"].push_back({{"name", "web"}, {"port", 9090}});
        for (const char* list : {"addresses", "notReadyAddresses"})
          for (int a = 0, m = pick(3); a < m; ++a) {
            Json addr = {{"ip", ip()}};
            if (pick(3)) addr["nodeName"] = "n" + std::to_string(pick(3));
            if (pick(4))
              addr["targetRef"] = {{"kind", "Pod"}, {"name", "p" + std::to_string(pick(4))}, {"namespace", namesp}};
            else if (pick(2))
              addr["targetRef"] = {{"kind", "Node"}, {"name", "n" + std::to_string(pick(3))}};
            subset[list].push_back(addr);
          }
        subsets.push_back(subset);
      }
      return {{"metadata", meta(name, namesp, Json::object())}, {"subsets", subsets}};
    }
    if (resource == "ingresses") {
      Json rules = Json::array();
      for (int n = 0, k = pick(3); n < k; ++n) {
        Json r = {{"host", of({"a.example", "b.example", "x.a.example"})}};
        if (pick(3)) {
          Json paths = Json::array();
          for (int m = 0, q = pick(3); m < q; ++m) paths.push_back({{"path", of({"/", "/api", ""})}});
          r["http"] = {{"paths", paths}};
        }
        rules.push_back(r);
      }
      Json spec = {{"rules", rules}};
      if (pick(2)) spec["tls"] = Json::array({{{"hosts", Json::array({of({"a.example", "*.a.example"})})}}});
      return {{"metadata", meta(name, namesp, {{"team", of({"x", "y"})}})}, {"spec", spec}};
    }
    // endpointslices
    Json eps = Json::array();
    for (int e = 0, n = 1 + pick(3); e < n; ++e) {
      Json ep = {{"addresses", Json::array({ip()})}, {"conditions", {{"ready", pick(2) == 1}}}};
      if (pick(3)) ep["nodeName"] = "n" + std::to_string(pick(3));
      if (pick(4))
        ep["targetRef"] = {{"kind", "Pod"}, {"name", "p" + std::to_string(pick(4))}, {"namespace", namesp}};
      else if (pick(2))
        ep["targetRef"] = {{"kind", "Node"}, {"name", "n" + std::to_string(pick(3))}};
      eps.push_back(ep);
    }
    Json ports = Json::array({{{"name", "metrics"}, {"port", 8080}, {"protocol", "TCP"}}});
    if (pick(3) == 0) ports.push_back({{"name", "web"}, {"port", 9090}});
    return {{"metadata", meta(name, namesp, {{"kubernetes.io/service-name", "s" + std::to_string(pick(3))}})},
            {"addressType", "IPv4"}, {"ports", ports}, {"endpoints", eps}};
  }
  // One random change, applied to `sd` as its watch would.
  void step(KubeSd& sd) {
    static const char* kResources[] = {"pods",  "pods",       "services",  "endpointslices", "endpointslices",
                                       "nodes", "namespaces", "endpoints", "endpoints",      "ingresses"};
    std::string resource = kResources[pick(10)];
    const bool cluster = resource == "nodes" || resource == "namespaces";
    std::string namesp = cluster ? "" : ns();
    std::string name = resource == "namespaces" ? namesp.empty() ? "ns" + std::to_string(pick(2)) : namesp
                       : resource == "nodes"    ? "n" + std::to_string(pick(3))
                       : resource == "pods"     ? "p" + std::to_string(pick(4))
                       : resource == "services" || resource == "endpoints" ? "s" + std::to_string(pick(3))
                       : resource == "ingresses"                           ? "i" + std::to_string(pick(3))
                                                                           : "e" + std::to_string(pick(4));
    std::string key = namesp.empty() ? name : namesp + "/" + name;
    auto& known = objects[resource];
    if (known.count(key) && pick(4) == 0) {
      sd.applyEvent(resource, {EventType::Deleted, known[key]});
      known.erase(key);
      return;
    }
    Json obj = make(resource, name, namesp);
    sd.applyEvent(resource, {known.count(key) ? EventType::Modified : EventType::Added, obj});
    known[key] = obj;
  }
};

void expectSame(const Service& incremental, const Service& full, bool assignments, const std::string& where) {
  auto a = incremental.targetList(), b = full.targetList();
  ASSERT_EQ(a.size(), b.size()) << where;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].hash, b[i].hash) << where;
    ASSERT_EQ(a[i].job, b[i].job) << where;
    ASSERT_EQ(a[i].labels, b[i].labels) << where << ": " << a[i].labels.toJson().dump() << " vs " << b[i].labels.toJson().dump();
  }
  if (assignments) {
    EXPECT_EQ(incremental.assignments(), full.assignments()) << where;
  }
}

class KubeSdIncremental : public ::testing::TestWithParam<allocation::Strategy> {};

TEST_P(KubeSdIncremental, RandomChangesGiveWhatAFullRebuildGives) {
  const allocation::Strategy strategy = GetParam();
  using S = allocation::Strategy;
  // Two references, each rebuilt in full from the same caches after every round: a fresh allocator (for the
  // strategies that are a function of collectors and targets), and one that lived through the same rounds
  // (the server before incremental discovery). Per-node keeps a target's collector while its identity stays
  // and a node label changes, as SetTargets does, so only the second compares its assignments; least-weighted
  // depends on the order new targets arrive in, so only its target sets are compared.
  const bool fresh = strategy == S::ConsistentHashing || strategy == S::Rendezvous;
  const bool lived = strategy != S::LeastWeighted;
  for (unsigned seed = 1; seed <= 12; ++seed) {
    World w(seed);
    Config c = config(strategy);
    KubeSd sd(c.prom, [](const std::string&) -> kube::Client& { return client(); }, "ns0");
    for (int i = 0; i < 15; ++i) w.step(sd);  // before the first sync
    Service service(config(strategy)), previous(config(strategy));
    std::size_t seenTargets = 0;
    for (int round = 0; round < 40; ++round) {
      if (round)
        for (int i = 0, n = 1 + w.pick(3); i < n; ++i) w.step(sd);
      const std::string where = "seed " + std::to_string(seed) + " round " + std::to_string(round);
      service.applyKubernetes(sd.changes());
      seenTargets += service.targetCount();
      auto groups = sd.groups();
      Service full(config(strategy));
      full.reloadTargets(&groups);
      previous.reloadTargets(&groups);
      expectSame(service, full, fresh, where + " (fresh)");
      expectSame(service, previous, lived, where + " (lived)");
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(seenTargets, 0u) << "the sequence made targets";
  }
}

INSTANTIATE_TEST_SUITE_P(Strategies, KubeSdIncremental,
                         ::testing::Values(allocation::Strategy::ConsistentHashing, allocation::Strategy::Rendezvous,
                                           allocation::Strategy::PerNode, allocation::Strategy::LeastWeighted),
                         [](const auto& info) {
                           std::string n(allocation::strategyName(info.param));
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// Prometheus CRs regenerate the scrape configs: setScrapeConfigs swaps in a new set (job indices move) with a
// fresh KubeSd's first changes(), and incremental changes go on from there. Each step gives what a full
// rebuild of the new set gives, and targets whose identity stays keep their collector.
TEST(KubeSd, ANewSetOfScrapeConfigsWithItsOwnDiscoveryGivesWhatAFullRebuildGives) {
  using S = allocation::Strategy;
  for (S strategy : {S::ConsistentHashing, S::LeastWeighted}) {
    World w(3);
    Config a = config(strategy);
    KubeSd sd1(a.prom, [](const std::string&) -> kube::Client& { return client(); }, "ns0");
    Service service(config(strategy));
    for (int i = 0; i < 60; ++i) w.step(sd1);
    service.applyKubernetes(sd1.changes());
    const auto before = service.assignments();
    ASSERT_GT(before.size(), 0u);
    // The new set: "pods" moves from index 1 to the end, "services" and "nodes" move down.
    Config b = config(strategy);
    auto pods = b.prom.scrapeConfigs[1];
    b.prom.scrapeConfigs.erase(b.prom.scrapeConfigs.begin() + 1);
    b.prom.scrapeConfigs.push_back(pods);
    KubeSd sd2(b.prom, [](const std::string&) -> kube::Client& { return client(); }, "ns0");
    for (const auto& [resource, objs] : w.objects)
      for (const auto& [key, obj] : objs) sd2.applyEvent(resource, {EventType::Added, obj});
    std::function<void(const Service::KubernetesSink&)> all = [&](const Service::KubernetesSink& sink) { sd2.changes(sink); };
    service.setScrapeConfigs(b.prom, &all);
    const std::string name(allocation::strategyName(strategy));
    {
      auto groups = sd2.groups();
      Service full(b);
      full.reloadTargets(&groups);
      expectSame(service, full, strategy == S::ConsistentHashing, name + " after the swap");
      EXPECT_EQ(service.jobs().body, full.jobs().body) << "the job list is the new set's";
    }
    EXPECT_EQ(service.assignments(), before) << name << ": the same targets (only their job index moved) keep their collectors";
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 3; ++i) w.step(sd2);
      service.applyKubernetes(sd2.changes());
      auto groups = sd2.groups();
      Service full(b);
      full.reloadTargets(&groups);
      expectSame(service, full, strategy == S::ConsistentHashing, name + " round " + std::to_string(round));
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(KubeSd, AnEventRebuildsOnlyItsObjectAndTheObjectsThatReadIt) {
  Config c = config(allocation::Strategy::ConsistentHashing);
  KubeSd sd(c.prom, [](const std::string&) -> kube::Client& { return client(); }, "ns0");
  World w(7);
  auto slice = [&](const std::string& name, const std::string& svc, const std::string& pod) {
    return Json{{"metadata", {{"name", name}, {"namespace", "ns0"}, {"resourceVersion", std::to_string(++w.rv)},
                              {"labels", {{"kubernetes.io/service-name", svc}}}}},
                {"addressType", "IPv4"},
                {"ports", Json::array({{{"name", "metrics"}, {"port", 8080}}})},
                {"endpoints", Json::array({{{"addresses", Json::array({"10.0.0.1"})},
                                            {"targetRef", {{"kind", "Pod"}, {"name", pod}, {"namespace", "ns0"}}}}})}};
  };
  sd.applyEvent("endpointslices", {EventType::Added, slice("e0", "s0", "p0")});
  sd.applyEvent("endpointslices", {EventType::Added, slice("e1", "s1", "p1")});
  sd.applyEvent("services", {EventType::Added, w.make("services", "s0", "ns0")});
  EXPECT_FALSE(sd.changes().empty()) << "the first call: every object";
  EXPECT_TRUE(sd.changes().empty()) << "nothing happened since";
  auto keys = [&] {
    std::set<std::string> out;
    for (const auto& u : sd.changes()) out.insert(std::to_string(u.job) + ":" + u.key);
    return out;
  };
  sd.applyEvent("endpointslices", {EventType::Modified, slice("e0", "s0", "p0")});
  // (e0 is in both endpointslice configs of job 0: every namespace, and names ns0, ns1.)
  EXPECT_EQ(keys(), (std::set<std::string>{"0:endpointslice/ns0/e0"}));
  sd.applyEvent("services", {EventType::Modified, w.make("services", "s1", "ns0")});
  EXPECT_EQ(keys(), (std::set<std::string>{"0:endpointslice/ns0/e1", "2:svc/ns0/s1"}));
  sd.applyEvent("pods", {EventType::Added, w.make("pods", "p0", "ns0")});
  EXPECT_EQ(keys(), (std::set<std::string>{"0:endpointslice/ns0/e0", "1:pod/ns0/p0"}));
  sd.applyEvent("endpointslices", {EventType::Deleted, slice("e1", "s1", "p1")});
  auto gone = sd.changes();
  ASSERT_EQ(gone.size(), 2u) << "one per endpointslice config";
  EXPECT_TRUE(gone[0].removed && gone[1].removed);
}

}  // namespace
}  // namespace otel::targetallocator
