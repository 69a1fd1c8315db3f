// kubernetes_sd_configs: the label sets of each role as Prometheus's discovery/kubernetes builds them (every
// __meta_kubernetes_* label of the role), and the config's validation messages.
#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/yaml.h"
#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/target.h"

namespace otel::prom {
namespace {

const std::string M = "__meta_kubernetes_";

Json y(const std::string& s) { return parseYaml(s, "test"); }

KubernetesSdConfig role(K8sRole r, bool node = false, bool ns = false) {
  KubernetesSdConfig c;
  c.role = r;
  c.attachNode = node;
  c.attachNamespace = ns;
  return c;
}

const Json kPod = y(R"(
metadata:
  name: web-1
  namespace: shop
  uid: u-1
  labels: {app: web, "app.kubernetes.io/name": web}
  annotations: {"prometheus.io/scrape": "true"}
  ownerReferences: [{kind: ReplicaSet, name: web-5d, controller: true}, {kind: Other, name: x}]
spec:
  nodeName: node-a
  containers:
  - name: app
    image: shop/web:1
    ports: [{name: http, containerPort: 8080, protocol: TCP}, {containerPort: 9090, protocol: TCP}]
  - name: sidecar
    image: envoy
  initContainers:
  - name: init
    image: busybox
status:
  phase: Running
  podIP: 10.0.0.5
  hostIP: 192.168.1.10
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: app, containerID: "containerd://abc"}]
)");

TEST(KubernetesSd, PodRoleOneTargetPerContainerPort) {
  auto ts = podTargets(kPod, role(K8sRole::Pod), {});
  ASSERT_EQ(ts.size(), 4u);  // app:8080, app:9090, sidecar (no port), init (no port)
  LabelMap want = {{"__address__", "10.0.0.5:8080"},
                   {M + "namespace", "shop"},
                   {M + "pod_name", "web-1"},
                   {M + "pod_ip", "10.0.0.5"},
                   {M + "pod_ready", "true"},
                   {M + "pod_phase", "Running"},
                   {M + "pod_node_name", "node-a"},
                   {M + "pod_host_ip", "192.168.1.10"},
                   {M + "pod_uid", "u-1"},
                   {M + "pod_label_app", "web"},
                   {M + "pod_labelpresent_app", "true"},
                   {M + "pod_label_app_kubernetes_io_name", "web"},
                   {M + "pod_labelpresent_app_kubernetes_io_name", "true"},
                   {M + "pod_annotation_prometheus_io_scrape", "true"},
                   {M + "pod_annotationpresent_prometheus_io_scrape", "true"},
                   {M + "pod_controller_kind", "ReplicaSet"},
                   {M + "pod_controller_name", "web-5d"},
                   {M + "pod_container_name", "app"},
                   {M + "pod_container_id", "containerd://abc"},
                   {M + "pod_container_image", "shop/web:1"},
                   {M + "pod_container_init", "false"},
                   {M + "pod_container_port_name", "http"},
                   {M + "pod_container_port_number", "8080"},
                   {M + "pod_container_port_protocol", "TCP"}};
  EXPECT_EQ(ts[0], want);
  EXPECT_EQ(ts[1]["__address__"], "10.0.0.5:9090");
  EXPECT_EQ(ts[1][M + "pod_container_port_name"], "");  // unnamed: empty, i.e. absent
  EXPECT_EQ(ts[2]["__address__"], "10.0.0.5");          // no port: the pod IP alone
  EXPECT_EQ(ts[2].count(M + "pod_container_port_number"), 0u);
  EXPECT_EQ(ts[3][M + "pod_container_init"], "true");
  EXPECT_EQ(ts[3][M + "pod_container_name"], "init");
}

TEST(KubernetesSd, PodWithoutIpIsSkippedAndAttachMetadata) {
  Json starting = kPod;
  starting["status"].erase("podIP");
  EXPECT_TRUE(podTargets(starting, role(K8sRole::Pod), {}).empty());
  ObjectMap nodes = {{"node-a", y("metadata: {name: node-a, labels: {zone: z1}}")}};
  ObjectMap nss = {{"shop", y("metadata: {name: shop, labels: {team: t}, annotations: {owner: o}}")}};
  KubeObjects o;
  o.nodes = &nodes;
  o.namespaces = &nss;
  auto ts = podTargets(kPod, role(K8sRole::Pod, true, true), o);
  ASSERT_FALSE(ts.empty());
  EXPECT_EQ(ts[0][M + "node_name"], "node-a");
  EXPECT_EQ(ts[0][M + "node_label_zone"], "z1");
  EXPECT_EQ(ts[0][M + "node_labelpresent_zone"], "true");
  EXPECT_EQ(ts[0][M + "namespace_label_team"], "t");
  EXPECT_EQ(ts[0][M + "namespace_annotation_owner"], "o");
  ObjectMap none;
  o.nodes = &none;  // the pod's node is not among the (selected) nodes: the pod is filtered out
  EXPECT_TRUE(podTargets(kPod, role(K8sRole::Pod, true), o).empty());
  Json unknownReady = kPod;
  unknownReady["status"].erase("conditions");
  EXPECT_EQ(podTargets(unknownReady, role(K8sRole::Pod), {})[0][M + "pod_ready"], "unknown");
}

TEST(KubernetesSd, ServiceRolePerPort) {
  Json svc = y(R"(
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, protocol: TCP}, {port: 443, protocol: TCP}]
status: {loadBalancer: {ingress: [{ip: 1.2.3.4}, {hostname: lb.example}, {ip: 5.6.7.8}]}}
)");
  auto ts = serviceTargets(svc, role(K8sRole::Service), {});
  ASSERT_EQ(ts.size(), 2u);
  LabelMap want = {{"__address__", "web.shop.svc:80"},
                   {M + "namespace", "shop"},
                   {M + "service_name", "web"},
                   {M + "service_label_app", "web"},
                   {M + "service_labelpresent_app", "true"},
                   {M + "service_port_name", "http"},
                   {M + "service_port_number", "80"},
                   {M + "service_port_protocol", "TCP"},
                   {M + "service_type", "LoadBalancer"},
                   {M + "service_cluster_ip", "10.96.0.10"},
                   {M + "service_loadbalancer_ip", "1.2.3.4,5.6.7.8"}};
  EXPECT_EQ(ts[0], want);
  EXPECT_EQ(ts[1]["__address__"], "web.shop.svc:443");
  Json ext = y("metadata: {name: db, namespace: shop}\nspec: {type: ExternalName, externalName: db.example.com, ports: [{port: 5432}]}");
  auto e = serviceTargets(ext, role(K8sRole::Service), {});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0][M + "service_external_name"], "db.example.com");
  EXPECT_EQ(e[0].count(M + "service_cluster_ip"), 0u);
  Json headless = y("metadata: {name: h, namespace: shop}\nspec: {type: ClusterIP, clusterIP: None, ports: [{port: 9}]}");
  EXPECT_EQ(serviceTargets(headless, role(K8sRole::Service), {})[0][M + "service_cluster_ip"], "None");
}

TEST(KubernetesSd, NodeRoleAddressPriorityAndConditions) {
  Json node = y(R"(
metadata: {name: node-a, labels: {"kubernetes.io/os": linux}}
spec: {providerID: "aws:///eu/i-1"}
status:
  addresses: [{type: Hostname, address: node-a}, {type: ExternalIP, address: 3.3.3.3}, {type: InternalIP, address: 10.1.1.1}, {type: InternalIP, address: 10.1.1.2}]
  daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
  conditions: [{type: Ready, status: "True"}, {type: MemoryPressure, status: "False"}]
)");
  auto ts = nodeTargets(node);
  ASSERT_EQ(ts.size(), 1u);
  LabelMap want = {{"__address__", "10.1.1.1:10250"},
                   {"instance", "node-a"},
                   {M + "node_name", "node-a"},
                   {M + "node_provider_id", "aws:///eu/i-1"},
                   {M + "node_label_kubernetes_io_os", "linux"},
                   {M + "node_labelpresent_kubernetes_io_os", "true"},
                   {M + "node_condition_ready", "true"},
                   {M + "node_condition_memorypressure", "false"},
                   {M + "node_address_Hostname", "node-a"},
                   {M + "node_address_ExternalIP", "3.3.3.3"},
                   {M + "node_address_InternalIP", "10.1.1.1"}};
  EXPECT_EQ(ts[0], want);
  EXPECT_TRUE(nodeTargets(y("metadata: {name: bare}")).empty()) << "no address: no target";
}

const Json kSlice = y(R"(
metadata:
  name: web-abc
  namespace: shop
  labels: {"kubernetes.io/service-name": web, "endpointslice.kubernetes.io/managed-by": endpointslice-controller.k8s.io}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP, appProtocol: http}, {port: 7070, protocol: TCP}]
endpoints:
- addresses: [10.0.0.5]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: node-a
  zone: z1
  hostname: web-1
  targetRef: {kind: Pod, name: web-1, namespace: shop}
- addresses: [10.0.0.6]
  conditions: {ready: false, serving: true, terminating: true}
)");

TEST(KubernetesSd, EndpointSliceRoleWithServiceAndPodLabels) {
  ObjectMap services = {{"shop/web", y("metadata: {name: web, namespace: shop, labels: {tier: front}}\nspec: {clusterIP: None}")}};
  ObjectMap pods = {{"shop/web-1", kPod}};
  KubeObjects o;
  o.services = &services;
  o.pods = &pods;
  auto ts = endpointSliceTargets(kSlice, role(K8sRole::EndpointSlice), o);
  // 2 endpoints x 2 ports, plus the pod's container port 9090 no endpoint port covers
  ASSERT_EQ(ts.size(), 5u);
  const auto& t = ts[0];
  EXPECT_EQ(t.at("__address__"), "10.0.0.5:8080");
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {M + "namespace", "shop"},
           {M + "endpointslice_name", "web-abc"},
           {M + "endpointslice_address_type", "IPv4"},
           {M + "endpointslice_label_kubernetes_io_service_name", "web"},
           {M + "endpointslice_labelpresent_kubernetes_io_service_name", "true"},
           {M + "endpointslice_port", "8080"},
           {M + "endpointslice_port_name", "http"},
           {M + "endpointslice_port_protocol", "TCP"},
           {M + "endpointslice_port_app_protocol", "http"},
           {M + "endpointslice_endpoint_conditions_ready", "true"},
           {M + "endpointslice_endpoint_conditions_serving", "true"},
           {M + "endpointslice_endpoint_conditions_terminating", "false"},
           {M + "endpointslice_endpoint_hostname", "web-1"},
           {M + "endpointslice_endpoint_node_name", "node-a"},
           {M + "endpointslice_endpoint_zone", "z1"},
           {M + "endpointslice_address_target_kind", "Pod"},
           {M + "endpointslice_address_target_name", "web-1"},
           {M + "service_name", "web"},
           {M + "service_label_tier", "front"},
           {M + "pod_name", "web-1"},
           {M + "pod_ready", "true"},
           {M + "pod_container_name", "app"},
           {M + "pod_container_port_name", "http"},
           {M + "pod_container_port_number", "8080"},
           {M + "pod_container_init", "false"}})
    EXPECT_EQ(t.count(k) ? t.at(k) : "<absent>", v) << k;
  // the unnamed endpoint port has no port_name label; the second endpoint is terminating, no targetRef
  EXPECT_EQ(ts[1].at("__address__"), "10.0.0.5:7070");
  EXPECT_EQ(ts[1].count(M + "endpointslice_port_name"), 0u);
  EXPECT_EQ(ts[1].count(M + "pod_container_name"), 0u) << "no container port 7070";
  EXPECT_EQ(ts[2].at("__address__"), "10.0.0.6:8080");
  EXPECT_EQ(ts[2].at(M + "endpointslice_endpoint_conditions_terminating"), "true");
  EXPECT_EQ(ts[2].count(M + "pod_name"), 0u);
  EXPECT_EQ(ts[4].at("__address__"), "10.0.0.5:9090");
  EXPECT_EQ(ts[4].at(M + "pod_container_port_number"), "9090");
  EXPECT_EQ(ts[4].count(M + "endpointslice_port"), 0u);
  EXPECT_EQ(ts[4].at(M + "endpointslice_name"), "web-abc") << "group labels on every target";
}

TEST(KubernetesSd, EndpointSliceDualStackAndIpv6) {
  Json v6 = kSlice;
  v6["addressType"] = "IPv6";
  v6["endpoints"] = y("[{addresses: ['fd00::5'], conditions: {ready: true}}]");
  ObjectMap services = {{"shop/web", y("metadata: {name: web, namespace: shop}\nspec: {ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv4, IPv6]}")}};
  KubeObjects o;
  o.services = &services;
  EXPECT_TRUE(endpointSliceTargets(v6, role(K8sRole::EndpointSlice), o).empty()) << "secondary family slice";
  ObjectMap single = {{"shop/web", y("metadata: {name: web, namespace: shop}\nspec: {ipFamilyPolicy: SingleStack, ipFamilies: [IPv6]}")}};
  o.services = &single;
  auto ts = endpointSliceTargets(v6, role(K8sRole::EndpointSlice), o);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].at("__address__"), "[fd00::5]:8080");
}

// The endpoints role (Prometheus's endpoints.go): a target per subset port and address, ready then
// not-ready, the Service of the same name, the pod an address points at with the container port that
// matches, and the pod's other container ports as targets of their own.
const Json kEndpoints = y(R"(
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {"endpoints.kubernetes.io/last-change-trigger-time": "2026-01-01T00:00:00Z"}
subsets:
- addresses:
  - {ip: 10.0.0.5, hostname: web-1, nodeName: node-a, targetRef: {kind: Pod, name: web-1, namespace: shop}}
  notReadyAddresses:
  - {ip: 10.0.0.7}
  ports: [{name: http, port: 8080, protocol: TCP}]
- addresses:
  - {ip: 192.168.1.10, targetRef: {kind: Node, name: node-a}}
  ports: [{port: 10250, protocol: TCP}]
)");

TEST(KubernetesSd, EndpointsRoleWithServiceAndPodLabels) {
  ObjectMap services = {{"shop/web", y("metadata: {name: web, namespace: shop, labels: {tier: front}}\nspec: {clusterIP: 10.96.0.9, type: ClusterIP, ports: [{name: http, port: 80}]}")}};
  ObjectMap pods = {{"shop/web-1", kPod}};
  ObjectMap nodes = {{"node-a", y("metadata: {name: node-a, labels: {zone: z1}}")}};
  KubeObjects o;
  o.services = &services;
  o.pods = &pods;
  o.nodes = &nodes;
  auto ts = endpointsTargets(kEndpoints, role(K8sRole::Endpoints, true), o);
  // 10.0.0.5:8080 (ready), 10.0.0.7:8080 (not ready), the node address, then web-1's container port 9090
  ASSERT_EQ(ts.size(), 4u);
  LabelMap want = {{"__address__", "10.0.0.5:8080"},
                   {M + "namespace", "shop"},
                   {M + "endpoints_name", "web"},
                   {M + "endpoints_label_app", "web"},
                   {M + "endpoints_labelpresent_app", "true"},
                   {M + "endpoints_annotation_endpoints_kubernetes_io_last_change_trigger_time", "2026-01-01T00:00:00Z"},
                   {M + "endpoints_annotationpresent_endpoints_kubernetes_io_last_change_trigger_time", "true"},
                   {M + "service_name", "web"},
                   {M + "service_label_tier", "front"},
                   {M + "service_labelpresent_tier", "true"},
                   {M + "endpoint_port_name", "http"},
                   {M + "endpoint_port_protocol", "TCP"},
                   {M + "endpoint_ready", "true"},
                   {M + "endpoint_hostname", "web-1"},
                   {M + "endpoint_node_name", "node-a"},
                   {M + "endpoint_address_target_kind", "Pod"},
                   {M + "endpoint_address_target_name", "web-1"},
                   {M + "node_name", "node-a"},
                   {M + "node_label_zone", "z1"},
                   {M + "node_labelpresent_zone", "true"},
                   {M + "pod_name", "web-1"},
                   {M + "pod_ip", "10.0.0.5"},
                   {M + "pod_ready", "true"},
                   {M + "pod_phase", "Running"},
                   {M + "pod_node_name", "node-a"},
                   {M + "pod_host_ip", "192.168.1.10"},
                   {M + "pod_uid", "u-1"},
                   {M + "pod_label_app", "web"},
                   {M + "pod_labelpresent_app", "true"},
                   {M + "pod_label_app_kubernetes_io_name", "web"},
                   {M + "pod_labelpresent_app_kubernetes_io_name", "true"},
                   {M + "pod_annotation_prometheus_io_scrape", "true"},
                   {M + "pod_annotationpresent_prometheus_io_scrape", "true"},
                   {M + "pod_controller_kind", "ReplicaSet"},
                   {M + "pod_controller_name", "web-5d"},
                   {M + "pod_container_name", "app"},
                   {M + "pod_container_image", "shop/web:1"},
                   {M + "pod_container_port_name", "http"},
                   {M + "pod_container_port_number", "8080"},
                   {M + "pod_container_port_protocol", "TCP"},
                   {M + "pod_container_init", "false"}};
  // the service's own labels (service role) are there as well
  const auto svcTargets = serviceTargets(services["shop/web"], role(K8sRole::Service), o);
  ASSERT_EQ(svcTargets.size(), 1u);
  for (const auto& [k, v] : svcTargets[0])
    if (k.rfind(M + "service_port", 0) != 0 && k != "__address__" && k.rfind(M + "service_type", 0) != 0 &&
        k.rfind(M + "service_cluster_ip", 0) != 0)
      want[k] = v;
  EXPECT_EQ(ts[0], want);
  EXPECT_EQ(ts[1].at("__address__"), "10.0.0.7:8080");
  EXPECT_EQ(ts[1].at(M + "endpoint_ready"), "false");
  EXPECT_EQ(ts[1].count(M + "endpoint_address_target_kind"), 0u) << "no targetRef";
  EXPECT_EQ(ts[1].count(M + "endpoint_hostname"), 0u);
  EXPECT_EQ(ts[2].at("__address__"), "192.168.1.10:10250");
  EXPECT_EQ(ts[2].at(M + "endpoint_port_name"), "") << "an unnamed port: the label is there, empty";
  EXPECT_EQ(ts[2].at(M + "endpoint_address_target_kind"), "Node");
  EXPECT_EQ(ts[2].at(M + "node_label_zone"), "z1") << "attach_metadata.node through a Node targetRef";
  EXPECT_EQ(ts[2].count(M + "pod_name"), 0u);
  EXPECT_EQ(ts[3].at("__address__"), "10.0.0.5:9090");
  EXPECT_EQ(ts[3].at(M + "pod_container_port_number"), "9090");
  EXPECT_EQ(ts[3].count(M + "endpoint_port_name"), 0u);
  EXPECT_EQ(ts[3].at(M + "endpoints_name"), "web");
  // without the Service or the pod in the caches: only the endpoints' own labels
  auto bare = endpointsTargets(kEndpoints, role(K8sRole::Endpoints), {});
  ASSERT_EQ(bare.size(), 3u);
  EXPECT_EQ(bare[0].count(M + "service_name"), 0u);
  EXPECT_EQ(bare[0].count(M + "pod_name"), 0u);
  EXPECT_EQ(bare[0].count(M + "node_label_zone"), 0u);
  // what the incremental path recomputes it on
  ObjectRefs refs = objectRefs(role(K8sRole::Endpoints, true), kEndpoints);
  EXPECT_EQ(refs.services, std::vector<std::string>{"shop/web"});
  EXPECT_EQ(refs.pods, std::vector<std::string>{"shop/web-1"});
  EXPECT_EQ(refs.nodes, std::vector<std::string>{"node-a"});
  EXPECT_EQ(objectSourcePrefix(K8sRole::Endpoints), "endpoints/");
}

// The ingress role (Prometheus's ingress.go): a target per rule and path, the host as address, https
// when a TLS host (or a wildcard of it) covers the rule's host.
TEST(KubernetesSd, IngressRoleOneTargetPerRuleAndPath) {
  Json ing = y(R"(
metadata:
  name: shop
  namespace: shop
  labels: {team: a}
  annotations: {"nginx.ingress.kubernetes.io/rewrite-target": /}
spec:
  ingressClassName: nginx
  tls: [{hosts: ["*.example.com"]}, {hosts: [exact.test]}]
  rules:
  - host: www.example.com
    http:
      paths: [{path: /, pathType: Prefix}, {path: /api, pathType: Prefix}, {pathType: ImplementationSpecific}]
  - host: a.b.example.com
    http: {paths: [{path: /x}]}
  - host: exact.test
  - host: empty.test
    http: {paths: []}
)");
  ObjectMap namespaces = {{"shop", y("metadata: {name: shop, labels: {env: prod}}")}};
  KubeObjects o;
  o.namespaces = &namespaces;
  auto ts = ingressTargets(ing, role(K8sRole::Ingress, false, true), o);
  ASSERT_EQ(ts.size(), 5u);  // 3 paths, 1 path, the rule without http ("/"), none for an empty path list
  LabelMap want = {{"__address__", "www.example.com"},
                   {M + "namespace", "shop"},
                   {M + "namespace_label_env", "prod"},
                   {M + "namespace_labelpresent_env", "true"},
                   {M + "ingress_name", "shop"},
                   {M + "ingress_label_team", "a"},
                   {M + "ingress_labelpresent_team", "true"},
                   {M + "ingress_annotation_nginx_ingress_kubernetes_io_rewrite_target", "/"},
                   {M + "ingress_annotationpresent_nginx_ingress_kubernetes_io_rewrite_target", "true"},
                   {M + "ingress_class_name", "nginx"},
                   {M + "ingress_scheme", "https"},
                   {M + "ingress_host", "www.example.com"},
                   {M + "ingress_path", "/"}};
  EXPECT_EQ(ts[0], want);
  EXPECT_EQ(ts[1].at(M + "ingress_path"), "/api");
  EXPECT_EQ(ts[2].at(M + "ingress_path"), "/") << "an empty path is /";
  EXPECT_EQ(ts[3].at("__address__"), "a.b.example.com");
  EXPECT_EQ(ts[3].at(M + "ingress_scheme"), "http") << "a wildcard covers one label only";
  EXPECT_EQ(ts[4].at("__address__"), "exact.test");
  EXPECT_EQ(ts[4].at(M + "ingress_scheme"), "https");
  EXPECT_EQ(ts[4].at(M + "ingress_path"), "/");
  Json noClass = ing;
  noClass["spec"].erase("ingressClassName");
  EXPECT_EQ(ingressTargets(noClass, role(K8sRole::Ingress), o)[0].count(M + "ingress_class_name"), 0u);
  EXPECT_EQ(ingressTargets(noClass, role(K8sRole::Ingress), o)[0].count(M + "namespace_label_env"), 0u);
  ObjectMap ingresses = {{"shop/shop", ing}};
  o.ingresses = &ingresses;
  auto gs = kubernetesTargetGroups(role(K8sRole::Ingress), o);
  ASSERT_EQ(gs.size(), 5u);
  EXPECT_EQ(gs[0].source, "ingress/shop/shop");
  EXPECT_EQ(gs[0].targets, std::vector<std::string>{"www.example.com"});
}

TEST(KubernetesSd, GroupsAndConfigValidation) {
  ObjectMap pods = {{"shop/web-1", kPod}};
  KubeObjects o;
  o.pods = &pods;
  auto gs = kubernetesTargetGroups(role(K8sRole::Pod), o);
  ASSERT_EQ(gs.size(), 4u);
  EXPECT_EQ(gs[0].targets, std::vector<std::string>{"10.0.0.5:8080"});
  EXPECT_EQ(gs[0].labels.get(M + "pod_name"), "web-1");
  EXPECT_EQ(gs[0].source, "pod/shop/web-1");

  auto cfg = parseKubernetesSdConfigs(
      y("[{role: endpointslice, namespaces: {names: [a, b], own_namespace: true}, attach_metadata: {node: true},\n"
        "  selectors: [{role: pod, label: 'app=x'}, {role: service, field: 'metadata.name=y'}]}]"),
      "f");
  ASSERT_EQ(cfg.size(), 1u);
  EXPECT_EQ(cfg[0].role, K8sRole::EndpointSlice);
  EXPECT_EQ(cfg[0].namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(cfg[0].ownNamespace);
  EXPECT_TRUE(cfg[0].attachNode);
  EXPECT_EQ(cfg[0].selectors.at(K8sRole::Pod).label, "app=x");
  EXPECT_EQ(cfg[0].selectors.at(K8sRole::Service).field, "metadata.name=y");
  auto err = [](const std::string& doc) {
    try {
      parseKubernetesSdConfigs(parseYaml(doc, "t"), "ta.yaml: job \"k\"");
    } catch (const Error& e) {
      return e.oneLine();
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("[{namespaces: {}}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: role missing (one of: pod, service, endpoints, endpointslice, node, ingress)");
  EXPECT_EQ(err("[{role: pods}]"), "ta.yaml: job \"k\": kubernetes_sd_configs[0]: unknown Kubernetes SD role \"pods\"");
  EXPECT_EQ(err("[{role: service, selectors: [{role: pod}]}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: service role supports only service selectors");
  EXPECT_EQ(err("[{role: pod, selectors: [{role: pod}, {role: pod}]}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: duplicated selector role: pod");
  EXPECT_EQ(err("[{role: pod, kubeconfig_file: k, namespaces: {own_namespace: true}}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously");
  EXPECT_EQ(err("[{role: ingress, selectors: [{role: service}]}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: ingress role supports only ingress selectors");
  EXPECT_EQ(err("[{role: endpoints, selectors: [{role: node}]}]"),
            "ta.yaml: job \"k\": kubernetes_sd_configs[0]: endpoints role supports only pod, service, endpoints selectors");
  auto ep = parseKubernetesSdConfigs(y("[{role: endpoints, selectors: [{role: endpoints, label: 'a=b'}, {role: pod, field: 'x=y'}]}, {role: ingress}]"), "f");
  ASSERT_EQ(ep.size(), 2u);
  EXPECT_EQ(ep[0].role, K8sRole::Endpoints);
  EXPECT_EQ(ep[0].selectors.at(K8sRole::Endpoints).label, "a=b");
  EXPECT_EQ(ep[1].role, K8sRole::Ingress);
  EXPECT_NE(err("[{role: pod, api_server: 'https://x'}]").find("api_server is not supported"), std::string::npos);
  EXPECT_EQ(sanitizeLabelName("app.kubernetes.io/name-x"), "app_kubernetes_io_name_x");
}

}  // namespace
}  // namespace otel::prom

namespace otel::prom {
namespace {

TEST(KubernetesSd, GroupsBecomeTargetsThroughTheJobsRelabeling) {
  PromConfig cfg = parsePromConfig(
      y("scrape_configs:\n- job_name: web\n  kubernetes_sd_configs: [{role: endpointslice}]\n"
        "  relabel_configs: [{source_labels: [__meta_kubernetes_service_name], regex: web, action: keep}]\n"),
      "t");
  ObjectMap services = {{"shop/web", y("metadata: {name: web, namespace: shop}")}};
  ObjectMap slices = {{"shop/web-abc", kSlice}};
  KubeObjects o;
  o.services = &services;
  o.endpointSlices = &slices;
  std::vector<std::vector<TargetGroup>> extra = {kubernetesTargetGroups(cfg.scrapeConfigs[0].kubernetesSdConfigs[0], o)};
  ASSERT_EQ(extra[0].size(), 4u);
  auto targets = buildTargets(cfg, ".", true, &extra);
  EXPECT_EQ(targets.size(), 4u);
  services.clear();  // no Service: no service labels, the keep rule drops every target
  extra = {kubernetesTargetGroups(cfg.scrapeConfigs[0].kubernetesSdConfigs[0], o)};
  EXPECT_TRUE(buildTargets(cfg, ".", true, &extra).empty());
}

}  // namespace
}  // namespace otel::prom
