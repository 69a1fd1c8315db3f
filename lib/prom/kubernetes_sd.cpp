#include "lib/prom/kubernetes_sd.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "lib/core/error.h"

namespace otel::prom {

namespace {

const std::string kMeta = "__meta_kubernetes_";

const Json& member(const Json& obj, const char* key) {
  static const Json null;
  if (!obj.is_object()) return null;
  auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}

std::string text(const Json& obj, const char* key) {
  const Json& v = member(obj, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return "";
}

bool has(const Json& obj, const char* key) { return !member(obj, key).is_null(); }

std::string boolText(bool b) { return b ? "true" : "false"; }

// net.JoinHostPort: IPv6 hosts in brackets.
std::string joinHostPort(const std::string& host, const std::string& port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
}

// Label pairs in assignment order: a later pair of the same name overrides an earlier one (as a map's
// operator[] would), so Labels::fromPairs or a map built in order give the label set.
using Pairs = std::vector<Label>;

void put(Pairs& ls, std::string name, std::string value) { ls.push_back({std::move(name), std::move(value)}); }

void addObjectAnnotationsAndLabels(Pairs& ls, const Json& meta, const std::string& resource) {
  for (const bool labels : {true, false}) {
    const Json& m = member(meta, labels ? "labels" : "annotations");
    if (!m.is_object()) continue;
    const std::string single = kMeta + resource + (labels ? "_label_" : "_annotation_");
    const std::string present = kMeta + resource + (labels ? "_labelpresent_" : "_annotationpresent_");
    for (const auto& [k, v] : m.items()) {
      std::string ln = sanitizeLabelName(k);
      put(ls, single + ln, v.is_string() ? v.get<std::string>() : "");
      put(ls, present + ln, "true");
    }
  }
}

void addObjectMetaLabels(Pairs& ls, const Json& meta, const std::string& role) {
  put(ls, kMeta + role + "_name", text(meta, "name"));
  addObjectAnnotationsAndLabels(ls, meta, role);
}

const Json* lookup(const ObjectMap* m, const KubeLookup& fn, const std::string& key) {
  if (fn) return fn(key);
  if (!m) return nullptr;
  auto it = m->find(key);
  return it == m->end() ? nullptr : &it->second;
}
const Json* findNode(const KubeObjects& o, const std::string& key) { return lookup(o.nodes, o.findNode, key); }
const Json* findPod(const KubeObjects& o, const std::string& key) { return lookup(o.pods, o.findPod, key); }
const Json* findService(const KubeObjects& o, const std::string& key) { return lookup(o.services, o.findService, key); }
const Json* findNamespace(const KubeObjects& o, const std::string& key) {
  return lookup(o.namespaces, o.findNamespace, key);
}

// addNodeLabels: the node's name, labels and annotations when the node is known.
void addNodeLabels(Pairs& ls, const KubeObjects& o, const std::string* nodeName) {
  if (!nodeName) return;
  const Json* node = findNode(o, *nodeName);
  if (!node) return;
  addObjectMetaLabels(ls, member(*node, "metadata"), "node");
}

void addNamespaceLabels(Pairs& ls, const KubeObjects& o, const std::string& ns) {
  const Json* n = findNamespace(o, ns);
  if (!n) return;
  addObjectAnnotationsAndLabels(ls, member(*n, "metadata"), "namespace");
}

std::string podReady(const Json& pod) {
  const Json& conds = member(member(pod, "status"), "conditions");
  if (conds.is_array())
    for (const auto& c : conds)
      if (text(c, "type") == "Ready") return asciiLower(text(c, "status"));
  return "unknown";
}

void addPodLabels(Pairs& ls, const Json& pod) {
  const Json& meta = member(pod, "metadata");
  const Json& status = member(pod, "status");
  // A map literal keeps the first of duplicate keys; these names are distinct.
  put(ls, kMeta + "pod_ip", text(status, "podIP"));
  put(ls, kMeta + "pod_ready", podReady(pod));
  put(ls, kMeta + "pod_phase", text(status, "phase"));
  put(ls, kMeta + "pod_node_name", text(member(pod, "spec"), "nodeName"));
  put(ls, kMeta + "pod_host_ip", text(status, "hostIP"));
  put(ls, kMeta + "pod_uid", text(meta, "uid"));
  addObjectMetaLabels(ls, meta, "pod");
  const Json& owners = member(meta, "ownerReferences");
  if (owners.is_array())
    for (const auto& ref : owners)
      if (member(ref, "controller").is_boolean() && member(ref, "controller").get<bool>()) {
        if (!text(ref, "kind").empty()) put(ls, kMeta + "pod_controller_kind", text(ref, "kind"));
        if (!text(ref, "name").empty()) put(ls, kMeta + "pod_controller_name", text(ref, "name"));
        break;
      }
}

struct ContainerRef {
  const Json* c;
  bool init;
};

std::vector<ContainerRef> containersOf(const Json& pod) {
  std::vector<ContainerRef> out;
  const Json& spec = member(pod, "spec");
  for (const bool init : {false, true}) {
    const Json& list = member(spec, init ? "initContainers" : "containers");
    if (list.is_array())
      for (const auto& c : list) out.push_back({&c, init});
  }
  return out;
}

std::string containerId(const Json& pod, const std::string& name, bool init) {
  const Json& st = member(member(pod, "status"), init ? "initContainerStatuses" : "containerStatuses");
  if (st.is_array())
    for (const auto& s : st)
      if (text(s, "name") == name) return text(s, "containerID");
  return "";
}

void addServiceLabels(Pairs& ls, const Json& svc) {
  put(ls, kMeta + "namespace", text(member(svc, "metadata"), "namespace"));
  addObjectMetaLabels(ls, member(svc, "metadata"), "service");
}

std::string portText(const Json& p, const char* key) {
  const Json& v = member(p, key);
  return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : "";
}

// One object's targets as pairs: the pairs every target shares, then each target's own (which override
// the shared ones; the roles below never give a target a name its group has).
struct RawTargets {
  Pairs group;
  std::vector<Pairs> targets;
};

RawTargets podRaw(const Json& pod, const KubernetesSdConfig& c, const KubeObjects& o) {
  RawTargets out;
  const std::string ip = text(member(pod, "status"), "podIP");
  if (ip.empty()) return out;  // starting or evicted
  const std::string node = text(member(pod, "spec"), "nodeName");
  if (c.attachNode && !findNode(o, node)) return out;  // on a node the node selector filtered out
  Pairs& group = out.group;
  addPodLabels(group, pod);
  const std::string ns = text(member(pod, "metadata"), "namespace");
  put(group, kMeta + "namespace", ns);
  if (c.attachNode) addNodeLabels(group, o, &node);
  if (c.attachNamespace) addNamespaceLabels(group, o, ns);
  for (const auto& [ct, init] : containersOf(pod)) {
    const std::string name = text(*ct, "name");
    Pairs t;
    put(t, kMeta + "pod_container_name", name);
    put(t, kMeta + "pod_container_id", containerId(pod, name, init));
    put(t, kMeta + "pod_container_image", text(*ct, "image"));
    put(t, kMeta + "pod_container_init", boolText(init));
    const Json& ports = member(*ct, "ports");
    if (!ports.is_array() || ports.empty()) {
      put(t, "__address__", ip);
      out.targets.push_back(std::move(t));
      continue;
    }
    for (const auto& p : ports) {
      Pairs pt = t;
      std::string num = portText(p, "containerPort");
      put(pt, "__address__", joinHostPort(ip, num));
      put(pt, kMeta + "pod_container_port_number", num);
      put(pt, kMeta + "pod_container_port_name", text(p, "name"));
      put(pt, kMeta + "pod_container_port_protocol", text(p, "protocol"));
      out.targets.push_back(std::move(pt));
    }
  }
  return out;
}

RawTargets serviceRaw(const Json& svc, const KubernetesSdConfig& c, const KubeObjects& o) {
  RawTargets out;
  Pairs& group = out.group;
  addServiceLabels(group, svc);
  const Json& meta = member(svc, "metadata");
  if (c.attachNamespace) addNamespaceLabels(group, o, text(meta, "namespace"));
  const Json& spec = member(svc, "spec");
  const std::string type = text(spec, "type");
  const Json& ports = member(spec, "ports");
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    Pairs t;
    std::string num = portText(p, "port");
    put(t, "__address__", joinHostPort(text(meta, "name") + "." + text(meta, "namespace") + ".svc", num));
    put(t, kMeta + "service_port_name", text(p, "name"));
    put(t, kMeta + "service_port_number", num);
    put(t, kMeta + "service_port_protocol", text(p, "protocol"));
    put(t, kMeta + "service_type", type);
    if (type == "ExternalName")
      put(t, kMeta + "service_external_name", text(spec, "externalName"));
    else
      put(t, kMeta + "service_cluster_ip", text(spec, "clusterIP"));
    if (type == "LoadBalancer") {
      std::string ips;
      const Json& ing = member(member(member(svc, "status"), "loadBalancer"), "ingress");
      if (ing.is_array())
        for (const auto& i : ing)
          if (!text(i, "ip").empty()) ips += (ips.empty() ? "" : ",") + text(i, "ip");
      put(t, kMeta + "service_loadbalancer_ip", ips.empty() ? text(spec, "loadBalancerIP") : ips);
    }
    out.targets.push_back(std::move(t));
  }
  return out;
}

RawTargets nodeRaw(const Json& node) {
  RawTargets out;
  Pairs& group = out.group;
  put(group, kMeta + "node_provider_id", text(member(node, "spec"), "providerID"));
  const Json& status = member(node, "status");
  if (const Json& conds = member(status, "conditions"); conds.is_array())
    for (const auto& cnd : conds)
      put(group, kMeta + "node_condition_" + sanitizeLabelName(asciiLower(text(cnd, "type"))), asciiLower(text(cnd, "status")));
  addObjectMetaLabels(group, member(node, "metadata"), "node");
  std::map<std::string, std::string> first;  // address type -> first address
  const Json& addrs = member(status, "addresses");
  if (addrs.is_array())
    for (const auto& a : addrs) first.emplace(text(a, "type"), text(a, "address"));
  std::string addr;
  for (const char* ty : {"InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"})
    if (auto it = first.find(ty); it != first.end()) {
      addr = it->second;
      break;
    }
  if (addr.empty()) return {};  // "No node address found"
  const Json& kubelet = member(member(member(status, "daemonEndpoints"), "kubeletEndpoint"), "Port");
  Pairs t;
  put(t, "__address__",
      joinHostPort(addr, kubelet.is_number_integer() ? std::to_string(kubelet.get<std::int64_t>()) : "0"));
  put(t, "instance", text(member(node, "metadata"), "name"));
  for (const auto& [ty, a] : first) put(t, sanitizeLabelName(kMeta + "node_address_" + ty), a);
  out.targets.push_back(std::move(t));
  return out;
}

// The pods an endpoints or endpointslice object's addresses point at, with the ports it gave them targets on.
struct SeenPod {
  const Json* pod = nullptr;
  std::set<std::int64_t> ports;
};

// The first container port numbered `port` (containers, then init containers): its container's labels.
// `protocol`: the protocol label's value when not the container port's own.
void addContainerPortLabels(Pairs& t, const Json& pod, std::int64_t port, const std::string* protocol) {
  for (const auto& [ct, init] : containersOf(pod)) {
    const Json& cps = member(*ct, "ports");
    if (!cps.is_array()) continue;
    for (const auto& cp : cps)
      if (member(cp, "containerPort").is_number_integer() && member(cp, "containerPort").get<std::int64_t>() == port) {
        put(t, kMeta + "pod_container_name", text(*ct, "name"));
        put(t, kMeta + "pod_container_image", text(*ct, "image"));
        put(t, kMeta + "pod_container_port_name", text(cp, "name"));
        put(t, kMeta + "pod_container_port_number", std::to_string(port));
        put(t, kMeta + "pod_container_port_protocol", protocol ? *protocol : text(cp, "protocol"));
        put(t, kMeta + "pod_container_init", boolText(init));
        return;
      }
  }
}

// Container ports of the seen pods that no endpoint port covered get targets of their own.
void addUnlistedContainerPorts(RawTargets& out, const std::map<std::string, SeenPod>& seenPods) {
  for (const auto& [key, seen] : seenPods) {
    const std::string ip = text(member(*seen.pod, "status"), "podIP");
    if (ip.empty()) continue;  // starting or evicted
    for (const auto& [ct, init] : containersOf(*seen.pod)) {
      const Json& cps = member(*ct, "ports");
      if (!cps.is_array()) continue;
      for (const auto& cp : cps) {
        if (!member(cp, "containerPort").is_number_integer()) continue;
        std::int64_t pn = member(cp, "containerPort").get<std::int64_t>();
        if (seen.ports.count(pn)) continue;
        std::string num = std::to_string(pn);
        Pairs t;
        put(t, "__address__", joinHostPort(ip, num));
        put(t, kMeta + "pod_container_name", text(*ct, "name"));
        put(t, kMeta + "pod_container_image", text(*ct, "image"));
        put(t, kMeta + "pod_container_port_name", text(cp, "name"));
        put(t, kMeta + "pod_container_port_number", num);
        put(t, kMeta + "pod_container_port_protocol", text(cp, "protocol"));
        put(t, kMeta + "pod_container_init", boolText(init));
        addPodLabels(t, *seen.pod);
        out.targets.push_back(std::move(t));
      }
    }
  }
}

// The pod an endpoint address refers to (targetRef kind Pod, found in the cache): its labels added to the
// target and the pod recorded among the seen ones; nullptr for another kind of address.
SeenPod* referencedPod(Pairs& t, const Json& ref, const KubeObjects& o, std::map<std::string, SeenPod>& seenPods) {
  if (text(ref, "kind") != "Pod") return nullptr;
  const std::string podKey = text(ref, "namespace") + "/" + text(ref, "name");
  const Json* pod = findPod(o, podKey);
  if (!pod) return nullptr;
  SeenPod& seen = seenPods[podKey];
  seen.pod = pod;
  addPodLabels(t, *pod);
  return &seen;
}

RawTargets endpointSliceRaw(const Json& eps, const KubernetesSdConfig& c, const KubeObjects& o) {
  RawTargets out;
  const Json& meta = member(eps, "metadata");
  const std::string ns = text(meta, "namespace");
  Pairs& group = out.group;
  put(group, kMeta + "namespace", ns);
  put(group, kMeta + "endpointslice_address_type", text(eps, "addressType"));
  addObjectMetaLabels(group, meta, "endpointslice");
  const Json* svc = nullptr;
  if (const Json& sn = member(member(meta, "labels"), "kubernetes.io/service-name"); sn.is_string()) {
    svc = findService(o, ns + "/" + sn.get<std::string>());
    if (svc) addServiceLabels(group, *svc);
  }
  if (c.attachNamespace) addNamespaceLabels(group, o, ns);
  if (svc) {  // dual-stack: only the slices of the primary family
    const Json& spec = member(*svc, "spec");
    std::string policy = text(spec, "ipFamilyPolicy");
    const Json& fams = member(spec, "ipFamilies");
    if ((policy == "PreferDualStack" || policy == "RequireDualStack") && fams.is_array() && !fams.empty() &&
        fams[0].is_string() && fams[0].get<std::string>() != text(eps, "addressType"))
      return {};
  }
  std::map<std::string, SeenPod> seenPods;
  const Json& endpoints = member(eps, "endpoints");
  const Json& ports = member(eps, "ports");
  if (!endpoints.is_array() || !ports.is_array()) return out;
  for (const auto& ep : endpoints)
    for (const auto& port : ports) {
      const Json& addrs = member(ep, "addresses");
      if (!addrs.is_array()) continue;
      for (const auto& a : addrs) {
        if (!a.is_string()) continue;
        const bool hasPort = member(port, "port").is_number_integer();
        const std::string num = portText(port, "port");
        Pairs t;
        put(t, "__address__", hasPort ? joinHostPort(a.get<std::string>(), num) : a.get<std::string>());
        if (member(port, "name").is_string()) put(t, kMeta + "endpointslice_port_name", text(port, "name"));
        if (member(port, "protocol").is_string()) put(t, kMeta + "endpointslice_port_protocol", text(port, "protocol"));
        if (hasPort) put(t, kMeta + "endpointslice_port", num);
        if (member(port, "appProtocol").is_string())
          put(t, kMeta + "endpointslice_port_app_protocol", text(port, "appProtocol"));
        const Json& cond = member(ep, "conditions");
        for (const char* k : {"ready", "serving", "terminating"})
          if (member(cond, k).is_boolean())
            put(t, kMeta + "endpointslice_endpoint_conditions_" + k, boolText(member(cond, k).get<bool>()));
        if (member(ep, "hostname").is_string()) put(t, kMeta + "endpointslice_endpoint_hostname", text(ep, "hostname"));
        const Json& ref = member(ep, "targetRef");
        if (ref.is_object()) {
          put(t, kMeta + "endpointslice_address_target_kind", text(ref, "kind"));
          put(t, kMeta + "endpointslice_address_target_name", text(ref, "name"));
        }
        if (member(ep, "nodeName").is_string()) put(t, kMeta + "endpointslice_endpoint_node_name", text(ep, "nodeName"));
        if (member(ep, "zone").is_string()) put(t, kMeta + "endpointslice_endpoint_zone", text(ep, "zone"));
        if (const Json& topo = member(ep, "deprecatedTopology"); topo.is_object())
          for (const auto& [k, v] : topo.items()) {
            put(t, kMeta + "endpointslice_endpoint_topology_" + sanitizeLabelName(k), v.is_string() ? v.get<std::string>() : "");
            put(t, kMeta + "endpointslice_endpoint_topology_present_" + sanitizeLabelName(k), "true");
          }
        if (c.attachNode) {
          std::string nodeName = text(ref, "kind") == "Node" ? text(ref, "name") : text(ep, "nodeName");
          bool haveName = text(ref, "kind") == "Node" || member(ep, "nodeName").is_string();
          addNodeLabels(t, o, haveName ? &nodeName : nullptr);
        }
        SeenPod* seen = referencedPod(t, ref, o, seenPods);
        if (seen && hasPort) {
          const std::int64_t pn = member(port, "port").get<std::int64_t>();
          addContainerPortLabels(t, *seen->pod, pn, nullptr);
          seen->ports.insert(pn);
        }
        out.targets.push_back(std::move(t));
      }
    }
  addUnlistedContainerPorts(out, seenPods);
  return out;
}

// Prometheus's endpoints role (discovery/kubernetes/endpoints.go): one target per subset port and
// address (ready, then not-ready), the Service of the same name, the pods the addresses point at.
RawTargets endpointsRaw(const Json& eps, const KubernetesSdConfig& c, const KubeObjects& o) {
  RawTargets out;
  const Json& meta = member(eps, "metadata");
  const std::string ns = text(meta, "namespace");
  Pairs& group = out.group;
  put(group, kMeta + "namespace", ns);
  if (const Json* svc = findService(o, ns + "/" + text(meta, "name"))) addServiceLabels(group, *svc);
  addObjectMetaLabels(group, meta, "endpoints");
  if (c.attachNamespace) addNamespaceLabels(group, o, ns);
  std::map<std::string, SeenPod> seenPods;
  auto add = [&](const Json& addr, const Json& port, const char* ready) {
    const std::string num = portText(port, "port");
    Pairs t;
    put(t, "__address__", joinHostPort(text(addr, "ip"), num.empty() ? "0" : num));
    put(t, kMeta + "endpoint_port_name", text(port, "name"));
    put(t, kMeta + "endpoint_port_protocol", text(port, "protocol"));
    put(t, kMeta + "endpoint_ready", ready);
    const Json& ref = member(addr, "targetRef");
    if (ref.is_object()) {
      put(t, kMeta + "endpoint_address_target_kind", text(ref, "kind"));
      put(t, kMeta + "endpoint_address_target_name", text(ref, "name"));
    }
    const bool hasNode = member(addr, "nodeName").is_string();
    if (hasNode) put(t, kMeta + "endpoint_node_name", text(addr, "nodeName"));
    if (!text(addr, "hostname").empty()) put(t, kMeta + "endpoint_hostname", text(addr, "hostname"));
    if (c.attachNode) {
      if (hasNode) {
        const std::string n = text(addr, "nodeName");
        addNodeLabels(t, o, &n);
      } else if (text(ref, "kind") == "Node") {
        const std::string n = text(ref, "name");
        addNodeLabels(t, o, &n);
      }
    }
    if (SeenPod* seen = referencedPod(t, ref, o, seenPods)) {
      const Json& pn = member(port, "port");
      const std::int64_t p = pn.is_number_integer() ? pn.get<std::int64_t>() : 0;
      const std::string protocol = text(port, "protocol");  // the endpoint port's, as Prometheus's endpoints role
      addContainerPortLabels(t, *seen->pod, p, &protocol);
      seen->ports.insert(p);
    }
    out.targets.push_back(std::move(t));
  };
  if (const Json& subsets = member(eps, "subsets"); subsets.is_array())
    for (const auto& ss : subsets) {
      const Json& ports = member(ss, "ports");
      if (!ports.is_array()) continue;
      for (const auto& port : ports) {
        for (const char* list : {"addresses", "notReadyAddresses"}) {
          const Json& addrs = member(ss, list);
          if (!addrs.is_array()) continue;
          for (const auto& a : addrs) add(a, port, list[0] == 'a' ? "true" : "false");
        }
      }
    }
  addUnlistedContainerPorts(out, seenPods);
  return out;
}

// Prometheus's ingress role (discovery/kubernetes/ingress.go): one target per rule and path, the rule's
// host as the address, https when a TLS entry's host (or its wildcard) covers it.
bool matchesHostnamePattern(const std::string& pattern, const std::string& host) {
  if (pattern == host) return true;
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (std::size_t dot; (dot = s.find('.', from)) != std::string::npos; from = dot + 1) parts.push_back(s.substr(from, dot - from));
    parts.push_back(s.substr(from));
    return parts;
  };
  const auto p = split(pattern), h = split(host);
  if (p[0] != "*" || p.size() != h.size()) return false;
  for (std::size_t i = 1; i < p.size(); ++i)
    if (p[i] != h[i]) return false;
  return true;
}

RawTargets ingressRaw(const Json& ing, const KubernetesSdConfig& c, const KubeObjects& o) {
  RawTargets out;
  const Json& meta = member(ing, "metadata");
  const Json& spec = member(ing, "spec");
  Pairs& group = out.group;
  put(group, kMeta + "namespace", text(meta, "namespace"));
  if (member(spec, "ingressClassName").is_string()) put(group, kMeta + "ingress_class_name", text(spec, "ingressClassName"));
  addObjectMetaLabels(group, meta, "ingress");
  if (c.attachNamespace) addNamespaceLabels(group, o, text(meta, "namespace"));
  std::vector<std::string> tlsHosts;
  if (const Json& tls = member(spec, "tls"); tls.is_array())
    for (const auto& t : tls)
      if (const Json& hosts = member(t, "hosts"); hosts.is_array())
        for (const auto& h : hosts)
          if (h.is_string()) tlsHosts.push_back(h.get<std::string>());
  const Json& rules = member(spec, "rules");
  if (!rules.is_array()) return out;
  for (const auto& rule : rules) {
    const std::string host = text(rule, "host");
    std::vector<std::string> paths;
    const Json& http = member(rule, "http");
    if (!http.is_object()) {
      paths.push_back("/");  // a rule without http: its host's root
    } else if (const Json& ps = member(http, "paths"); ps.is_array()) {
      for (const auto& p : ps) paths.push_back(text(p, "path").empty() ? "/" : text(p, "path"));
    }
    std::string scheme = "http";
    for (const auto& pattern : tlsHosts)
      if (matchesHostnamePattern(pattern, host)) {
        scheme = "https";
        break;
      }
    for (const auto& path : paths) {
      Pairs t;
      put(t, "__address__", host);
      put(t, kMeta + "ingress_scheme", scheme);
      put(t, kMeta + "ingress_host", host);
      put(t, kMeta + "ingress_path", path);
      out.targets.push_back(std::move(t));
    }
  }
  return out;
}

// The label maps of the targets (group overlaid by each target's own), empty values kept.
std::vector<LabelMap> toMaps(const RawTargets& raw) {
  LabelMap group;
  for (const auto& l : raw.group) group[l.name] = l.value;
  std::vector<LabelMap> out;
  out.reserve(raw.targets.size());
  for (const auto& t : raw.targets) {
    LabelMap m = group;
    for (const auto& l : t) m[l.name] = l.value;
    out.push_back(std::move(m));
  }
  return out;
}

RawTargets rawTargets(K8sRole role, const Json& obj, const KubernetesSdConfig& c, const KubeObjects& o) {
  switch (role) {
    case K8sRole::Pod: return podRaw(obj, c, o);
    case K8sRole::Service: return serviceRaw(obj, c, o);
    case K8sRole::EndpointSlice: return endpointSliceRaw(obj, c, o);
    case K8sRole::Node: return nodeRaw(obj);
    case K8sRole::Endpoints: return endpointsRaw(obj, c, o);
    case K8sRole::Ingress: return ingressRaw(obj, c, o);
    default: return {};
  }
}

}  // namespace

std::string asciiLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string sanitizeLabelName(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return out;
}

std::optional<K8sRole> parseK8sRole(const std::string& s) {
  if (s == "pod") return K8sRole::Pod;
  if (s == "service") return K8sRole::Service;
  if (s == "endpoints") return K8sRole::Endpoints;
  if (s == "endpointslice") return K8sRole::EndpointSlice;
  if (s == "node") return K8sRole::Node;
  if (s == "ingress") return K8sRole::Ingress;
  return std::nullopt;
}

const char* k8sRoleName(K8sRole r) {
  switch (r) {
    case K8sRole::Pod: return "pod";
    case K8sRole::Service: return "service";
    case K8sRole::Endpoints: return "endpoints";
    case K8sRole::EndpointSlice: return "endpointslice";
    case K8sRole::Node: return "node";
    case K8sRole::Ingress: return "ingress";
  }
  return "";
}

std::vector<KubernetesSdConfig> parseKubernetesSdConfigs(const Json& list, const std::string& where) {
  std::vector<KubernetesSdConfig> out;
  if (list.is_null()) return out;
  if (!list.is_array()) throw Error("kubernetes_sd_configs must be a list", where);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& e = list[i];
    const std::string at = where + ": kubernetes_sd_configs[" + std::to_string(i) + "]";
    if (!e.is_object()) throw Error("must be a mapping", at);
    KubernetesSdConfig c;
    std::string role = text(e, "role");
    if (role.empty()) throw Error("role missing (one of: pod, service, endpoints, endpointslice, node, ingress)", at);
    auto r = parseK8sRole(role);
    if (!r) throw Error("unknown Kubernetes SD role \"" + role + "\"", at);
    c.role = *r;
    c.kubeconfigFile = text(e, "kubeconfig_file");
    if (has(e, "api_server"))
      throw Error("api_server is not supported: the allocator discovers through its own API server connection", at,
                  "remove api_server (and its client settings), or give kubeconfig_file");
    for (const char* k : {"basic_auth", "authorization", "oauth2", "bearer_token", "bearer_token_file", "tls_config", "proxy_url"})
      if (has(e, k)) {
        if (!c.kubeconfigFile.empty())
          throw Error("cannot use a custom HTTP client configuration together with 'kubeconfig_file'", at);
        throw Error("to use custom HTTP client configuration please provide the 'api_server' URL explicitly", at);
      }
    if (const Json& ns = member(e, "namespaces"); ns.is_object()) {
      if (member(ns, "own_namespace").is_boolean()) c.ownNamespace = member(ns, "own_namespace").get<bool>();
      if (const Json& names = member(ns, "names"); names.is_array())
        for (const auto& n : names)
          if (n.is_string()) c.namespaces.push_back(n.get<std::string>());
    }
    if (c.ownNamespace && !c.kubeconfigFile.empty())
      throw Error("cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously", at);
    if (const Json& am = member(e, "attach_metadata"); am.is_object()) {
      c.attachNode = member(am, "node").is_boolean() && member(am, "node").get<bool>();
      c.attachNamespace = member(am, "namespace").is_boolean() && member(am, "namespace").get<bool>();
    }
    static const std::map<K8sRole, std::vector<K8sRole>> allowed = {
        {K8sRole::Pod, {K8sRole::Pod, K8sRole::Node}},
        {K8sRole::Service, {K8sRole::Service}},
        {K8sRole::EndpointSlice, {K8sRole::Pod, K8sRole::Service, K8sRole::EndpointSlice}},
        {K8sRole::Endpoints, {K8sRole::Pod, K8sRole::Service, K8sRole::Endpoints}},
        {K8sRole::Node, {K8sRole::Node}},
        {K8sRole::Ingress, {K8sRole::Ingress}}};
    if (const Json& sels = member(e, "selectors"); sels.is_array())
      for (const auto& s : sels) {
        auto sr = parseK8sRole(text(s, "role"));
        if (!sr) throw Error("unknown Kubernetes SD role \"" + text(s, "role") + "\"", at + ": selectors");
        if (c.selectors.count(*sr)) throw Error(std::string("duplicated selector role: ") + k8sRoleName(*sr), at);
        const auto& ok = allowed.at(c.role);
        if (std::find(ok.begin(), ok.end(), *sr) == ok.end()) {
          std::string list;
          for (auto x : ok) list += std::string(list.empty() ? "" : ", ") + k8sRoleName(x);
          throw Error(std::string(k8sRoleName(c.role)) + " role supports only " + list + " selectors", at);
        }
        c.selectors[*sr] = {text(s, "label"), text(s, "field")};
      }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<LabelMap> podTargets(const Json& pod, const KubernetesSdConfig& c, const KubeObjects& o) {
  return toMaps(podRaw(pod, c, o));
}

std::vector<LabelMap> serviceTargets(const Json& svc, const KubernetesSdConfig& c, const KubeObjects& o) {
  return toMaps(serviceRaw(svc, c, o));
}

std::vector<LabelMap> nodeTargets(const Json& node) { return toMaps(nodeRaw(node)); }

std::vector<LabelMap> endpointSliceTargets(const Json& eps, const KubernetesSdConfig& c, const KubeObjects& o) {
  return toMaps(endpointSliceRaw(eps, c, o));
}

std::vector<LabelMap> endpointsTargets(const Json& eps, const KubernetesSdConfig& c, const KubeObjects& o) {
  return toMaps(endpointsRaw(eps, c, o));
}

std::vector<LabelMap> ingressTargets(const Json& ing, const KubernetesSdConfig& c, const KubeObjects& o) {
  return toMaps(ingressRaw(ing, c, o));
}

ObjectTargets objectTargets(const KubernetesSdConfig& c, const Json& obj, const KubeObjects& o) {
  RawTargets raw = rawTargets(c.role, obj, c, o);
  ObjectTargets out;
  if (raw.targets.empty()) return out;
  out.group = Labels::fromPairs(std::move(raw.group));
  out.targets.reserve(raw.targets.size());
  for (auto& t : raw.targets) out.targets.push_back(Labels::fromPairs(std::move(t)));
  return out;
}

ObjectRefs objectRefs(const KubernetesSdConfig& c, const Json& obj) {
  ObjectRefs r;
  const Json& meta = member(obj, "metadata");
  r.ns = text(meta, "namespace");
  switch (c.role) {
    case K8sRole::Pod:
      if (c.attachNode) r.nodes.push_back(text(member(obj, "spec"), "nodeName"));
      break;
    case K8sRole::EndpointSlice: {
      if (const Json& sn = member(member(meta, "labels"), "kubernetes.io/service-name"); sn.is_string())
        r.services.push_back(r.ns + "/" + sn.get<std::string>());
      const Json& endpoints = member(obj, "endpoints");
      if (!endpoints.is_array()) break;
      for (const auto& ep : endpoints) {
        const Json& ref = member(ep, "targetRef");
        if (text(ref, "kind") == "Pod") r.pods.push_back(text(ref, "namespace") + "/" + text(ref, "name"));
        if (c.attachNode) {
          if (text(ref, "kind") == "Node")
            r.nodes.push_back(text(ref, "name"));
          else if (member(ep, "nodeName").is_string())
            r.nodes.push_back(text(ep, "nodeName"));
        }
      }
      break;
    }
    case K8sRole::Endpoints: {
      r.services.push_back(r.ns + "/" + text(meta, "name"));
      const Json& subsets = member(obj, "subsets");
      if (!subsets.is_array()) break;
      for (const auto& ss : subsets)
        for (const char* list : {"addresses", "notReadyAddresses"}) {
          const Json& addrs = member(ss, list);
          if (!addrs.is_array()) continue;
          for (const auto& a : addrs) {
            const Json& ref = member(a, "targetRef");
            if (text(ref, "kind") == "Pod") r.pods.push_back(text(ref, "namespace") + "/" + text(ref, "name"));
            if (c.attachNode) {
              if (member(a, "nodeName").is_string())
                r.nodes.push_back(text(a, "nodeName"));
              else if (text(ref, "kind") == "Node")
                r.nodes.push_back(text(ref, "name"));
            }
          }
        }
      break;
    }
    default: break;
  }
  for (auto* v : {&r.services, &r.pods, &r.nodes}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return r;
}

std::vector<TargetGroup> kubernetesTargetGroups(const KubernetesSdConfig& c, const KubeObjects& o) {
  std::vector<TargetGroup> out;
  auto emit = [&](const Json& obj, const std::string& source) {
    ObjectTargets ts = objectTargets(c, obj, o);
    for (auto& t : ts.targets) {
      TargetGroup g;
      g.source = source;
      g.targets.emplace_back(t.get(kAddressLabel));
      t.del(kAddressLabel);
      g.labels = mergeLabels(ts.group, t);
      out.push_back(std::move(g));
    }
  };
  const ObjectMap* m = c.role == K8sRole::Pod             ? o.pods
                       : c.role == K8sRole::Service       ? o.services
                       : c.role == K8sRole::EndpointSlice ? o.endpointSlices
                       : c.role == K8sRole::Node          ? o.nodes
                       : c.role == K8sRole::Endpoints     ? o.endpoints
                       : c.role == K8sRole::Ingress       ? o.ingresses
                                                          : nullptr;
  if (!m) return out;
  for (const auto& [key, obj] : *m) emit(obj, objectSourcePrefix(c.role) + key);
  return out;
}

std::string objectSourcePrefix(K8sRole role) {
  switch (role) {
    case K8sRole::Pod: return "pod/";
    case K8sRole::Service: return "svc/";
    case K8sRole::EndpointSlice: return "endpointslice/";
    case K8sRole::Node: return "node/";
    case K8sRole::Endpoints: return "endpoints/";
    case K8sRole::Ingress: return "ingress/";
  }
  return "";
}

}  // namespace otel::prom
