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

void addObjectAnnotationsAndLabels(LabelMap& ls, const Json& meta, const std::string& resource) {
  for (const char* kind : {"labels", "annotations"}) {
    const Json& m = member(meta, kind);
    if (!m.is_object()) continue;
    const std::string single = std::string(kind) == "labels" ? "_label_" : "_annotation_";
    const std::string present = std::string(kind) == "labels" ? "_labelpresent_" : "_annotationpresent_";
    for (const auto& [k, v] : m.items()) {
      std::string ln = sanitizeLabelName(k);
      ls[kMeta + resource + single + ln] = v.is_string() ? v.get<std::string>() : "";
      ls[kMeta + resource + present + ln] = "true";
    }
  }
}

void addObjectMetaLabels(LabelMap& ls, const Json& meta, const std::string& role) {
  ls[kMeta + role + "_name"] = text(meta, "name");
  addObjectAnnotationsAndLabels(ls, meta, role);
}

void merge(LabelMap& into, const LabelMap& from) {
  for (const auto& [k, v] : from) into[k] = v;
}

const Json* lookup(const ObjectMap* m, const std::string& key) {
  if (!m) return nullptr;
  auto it = m->find(key);
  return it == m->end() ? nullptr : &it->second;
}

// addNodeLabels: the node's name, labels and annotations when the node is known.
void addNodeLabels(LabelMap& ls, const KubeObjects& o, const std::string* nodeName) {
  if (!nodeName) return;
  const Json* node = lookup(o.nodes, *nodeName);
  if (!node) return;
  LabelMap n;
  addObjectMetaLabels(n, member(*node, "metadata"), "node");
  merge(ls, n);
}

void addNamespaceLabels(LabelMap& ls, const KubeObjects& o, const std::string& ns) {
  const Json* n = lookup(o.namespaces, ns);
  if (!n) return;
  LabelMap m;
  addObjectAnnotationsAndLabels(m, member(*n, "metadata"), "namespace");
  merge(ls, m);
}

std::string podReady(const Json& pod) {
  const Json& conds = member(member(pod, "status"), "conditions");
  if (conds.is_array())
    for (const auto& c : conds)
      if (text(c, "type") == "Ready") return asciiLower(text(c, "status"));
  return "unknown";
}

LabelMap podLabels(const Json& pod) {
  const Json& meta = member(pod, "metadata");
  const Json& status = member(pod, "status");
  LabelMap ls{{kMeta + "pod_ip", text(status, "podIP")},
              {kMeta + "pod_ready", podReady(pod)},
              {kMeta + "pod_phase", text(status, "phase")},
              {kMeta + "pod_node_name", text(member(pod, "spec"), "nodeName")},
              {kMeta + "pod_host_ip", text(status, "hostIP")},
              {kMeta + "pod_uid", text(meta, "uid")}};
  addObjectMetaLabels(ls, meta, "pod");
  const Json& owners = member(meta, "ownerReferences");
  if (owners.is_array())
    for (const auto& ref : owners)
      if (member(ref, "controller").is_boolean() && member(ref, "controller").get<bool>()) {
        if (!text(ref, "kind").empty()) ls[kMeta + "pod_controller_kind"] = text(ref, "kind");
        if (!text(ref, "name").empty()) ls[kMeta + "pod_controller_name"] = text(ref, "name");
        break;
      }
  return ls;
}

struct ContainerRef {
  const Json* c;
  bool init;
};

std::vector<ContainerRef> containersOf(const Json& pod) {
  std::vector<ContainerRef> out;
  const Json& spec = member(pod, "spec");
  for (const char* k : {"containers", "initContainers"}) {
    const Json& list = member(spec, k);
    if (list.is_array())
      for (const auto& c : list) out.push_back({&c, std::string(k) == "initContainers"});
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

LabelMap serviceLabels(const Json& svc) {
  LabelMap ls{{kMeta + "namespace", text(member(svc, "metadata"), "namespace")}};
  addObjectMetaLabels(ls, member(svc, "metadata"), "service");
  return ls;
}

std::string portText(const Json& p, const char* key) {
  const Json& v = member(p, key);
  return v.is_number_integer() ? std::to_string(v.get<std::int64_t>()) : "";
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
    if (c.role == K8sRole::Endpoints || c.role == K8sRole::Ingress)
      throw Error("role " + role + " is not available yet in kubectl-otel's allocator", at,
                  c.role == K8sRole::Endpoints ? "use role: endpointslice (the same targets, what prometheus-operator uses)"
                                               : "list the ingresses' hosts under static_configs");
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
        {K8sRole::Node, {K8sRole::Node}}};
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
  std::vector<LabelMap> out;
  const std::string ip = text(member(pod, "status"), "podIP");
  if (ip.empty()) return out;  // starting or evicted
  const std::string node = text(member(pod, "spec"), "nodeName");
  if (c.attachNode && !lookup(o.nodes, node)) return out;  // on a node the node selector filtered out
  LabelMap group = podLabels(pod);
  const std::string ns = text(member(pod, "metadata"), "namespace");
  group[kMeta + "namespace"] = ns;
  if (c.attachNode) addNodeLabels(group, o, &node);
  if (c.attachNamespace) addNamespaceLabels(group, o, ns);
  for (const auto& [ct, init] : containersOf(pod)) {
    const std::string name = text(*ct, "name");
    LabelMap t = group;
    t[kMeta + "pod_container_name"] = name;
    t[kMeta + "pod_container_id"] = containerId(pod, name, init);
    t[kMeta + "pod_container_image"] = text(*ct, "image");
    t[kMeta + "pod_container_init"] = boolText(init);
    const Json& ports = member(*ct, "ports");
    if (!ports.is_array() || ports.empty()) {
      t["__address__"] = ip;
      out.push_back(std::move(t));
      continue;
    }
    for (const auto& p : ports) {
      LabelMap pt = t;
      std::string num = portText(p, "containerPort");
      pt["__address__"] = joinHostPort(ip, num);
      pt[kMeta + "pod_container_port_number"] = num;
      pt[kMeta + "pod_container_port_name"] = text(p, "name");
      pt[kMeta + "pod_container_port_protocol"] = text(p, "protocol");
      out.push_back(std::move(pt));
    }
  }
  return out;
}

std::vector<LabelMap> serviceTargets(const Json& svc, const KubernetesSdConfig& c, const KubeObjects& o) {
  std::vector<LabelMap> out;
  LabelMap group = serviceLabels(svc);
  const Json& meta = member(svc, "metadata");
  if (c.attachNamespace) addNamespaceLabels(group, o, text(meta, "namespace"));
  const Json& spec = member(svc, "spec");
  const std::string type = text(spec, "type");
  const Json& ports = member(spec, "ports");
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    LabelMap t = group;
    std::string num = portText(p, "port");
    t["__address__"] = joinHostPort(text(meta, "name") + "." + text(meta, "namespace") + ".svc", num);
    t[kMeta + "service_port_name"] = text(p, "name");
    t[kMeta + "service_port_number"] = num;
    t[kMeta + "service_port_protocol"] = text(p, "protocol");
    t[kMeta + "service_type"] = type;
    if (type == "ExternalName")
      t[kMeta + "service_external_name"] = text(spec, "externalName");
    else
      t[kMeta + "service_cluster_ip"] = text(spec, "clusterIP");
    if (type == "LoadBalancer") {
      std::string ips;
      const Json& ing = member(member(member(svc, "status"), "loadBalancer"), "ingress");
      if (ing.is_array())
        for (const auto& i : ing)
          if (!text(i, "ip").empty()) ips += (ips.empty() ? "" : ",") + text(i, "ip");
      t[kMeta + "service_loadbalancer_ip"] = ips.empty() ? text(spec, "loadBalancerIP") : ips;
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<LabelMap> nodeTargets(const Json& node) {
  LabelMap group{{kMeta + "node_provider_id", text(member(node, "spec"), "providerID")}};
  const Json& status = member(node, "status");
  if (const Json& conds = member(status, "conditions"); conds.is_array())
    for (const auto& cnd : conds)
      group[kMeta + "node_condition_" + sanitizeLabelName(asciiLower(text(cnd, "type")))] = asciiLower(text(cnd, "status"));
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
  LabelMap t = group;
  t["__address__"] = joinHostPort(addr, kubelet.is_number_integer() ? std::to_string(kubelet.get<std::int64_t>()) : "0");
  t["instance"] = text(member(node, "metadata"), "name");
  for (const auto& [ty, a] : first) t[sanitizeLabelName(kMeta + "node_address_" + ty)] = a;
  return {t};
}

std::vector<LabelMap> endpointSliceTargets(const Json& eps, const KubernetesSdConfig& c, const KubeObjects& o) {
  std::vector<LabelMap> out;
  const Json& meta = member(eps, "metadata");
  const std::string ns = text(meta, "namespace");
  LabelMap group{{kMeta + "namespace", ns}, {kMeta + "endpointslice_address_type", text(eps, "addressType")}};
  addObjectMetaLabels(group, meta, "endpointslice");
  const Json* svc = nullptr;
  if (const Json& sn = member(member(meta, "labels"), "kubernetes.io/service-name"); sn.is_string()) {
    svc = lookup(o.services, ns + "/" + sn.get<std::string>());
    if (svc) merge(group, serviceLabels(*svc));
  }
  if (c.attachNamespace) addNamespaceLabels(group, o, ns);
  if (svc) {  // dual-stack: only the slices of the primary family
    const Json& spec = member(*svc, "spec");
    std::string policy = text(spec, "ipFamilyPolicy");
    const Json& fams = member(spec, "ipFamilies");
    if ((policy == "PreferDualStack" || policy == "RequireDualStack") && fams.is_array() && !fams.empty() &&
        fams[0].is_string() && fams[0].get<std::string>() != text(eps, "addressType"))
      return out;
  }
  struct Seen {
    const Json* pod;
    std::set<std::int64_t> ports;
  };
  std::map<std::string, Seen> seenPods;
  auto finish = [&](LabelMap t) {
    LabelMap full = group;
    merge(full, t);
    out.push_back(std::move(full));
  };
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
        LabelMap t{{"__address__", hasPort ? joinHostPort(a.get<std::string>(), num) : a.get<std::string>()}};
        if (member(port, "name").is_string()) t[kMeta + "endpointslice_port_name"] = text(port, "name");
        if (member(port, "protocol").is_string()) t[kMeta + "endpointslice_port_protocol"] = text(port, "protocol");
        if (hasPort) t[kMeta + "endpointslice_port"] = num;
        if (member(port, "appProtocol").is_string()) t[kMeta + "endpointslice_port_app_protocol"] = text(port, "appProtocol");
        const Json& cond = member(ep, "conditions");
        for (const char* k : {"ready", "serving", "terminating"})
          if (member(cond, k).is_boolean())
            t[kMeta + "endpointslice_endpoint_conditions_" + k] = boolText(member(cond, k).get<bool>());
        if (member(ep, "hostname").is_string()) t[kMeta + "endpointslice_endpoint_hostname"] = text(ep, "hostname");
        const Json& ref = member(ep, "targetRef");
        if (ref.is_object()) {
          t[kMeta + "endpointslice_address_target_kind"] = text(ref, "kind");
          t[kMeta + "endpointslice_address_target_name"] = text(ref, "name");
        }
        if (member(ep, "nodeName").is_string()) t[kMeta + "endpointslice_endpoint_node_name"] = text(ep, "nodeName");
        if (member(ep, "zone").is_string()) t[kMeta + "endpointslice_endpoint_zone"] = text(ep, "zone");
        if (const Json& topo = member(ep, "deprecatedTopology"); topo.is_object())
          for (const auto& [k, v] : topo.items()) {
            t[kMeta + "endpointslice_endpoint_topology_" + sanitizeLabelName(k)] = v.is_string() ? v.get<std::string>() : "";
            t[kMeta + "endpointslice_endpoint_topology_present_" + sanitizeLabelName(k)] = "true";
          }
        if (c.attachNode) {
          std::string nodeName = text(ref, "kind") == "Node" ? text(ref, "name") : text(ep, "nodeName");
          bool haveName = text(ref, "kind") == "Node" || member(ep, "nodeName").is_string();
          addNodeLabels(t, o, haveName ? &nodeName : nullptr);
        }
        const Json* pod = text(ref, "kind") == "Pod" ? lookup(o.pods, text(ref, "namespace") + "/" + text(ref, "name")) : nullptr;
        if (!pod) {
          finish(std::move(t));
          continue;
        }
        auto& seen = seenPods[text(ref, "namespace") + "/" + text(ref, "name")];
        seen.pod = pod;
        merge(t, podLabels(*pod));
        if (hasPort) {
          const std::int64_t pn = member(port, "port").get<std::int64_t>();
          bool matched = false;
          for (const auto& [ct, init] : containersOf(*pod)) {
            const Json& cps = member(*ct, "ports");
            if (!cps.is_array()) continue;
            for (const auto& cp : cps)
              if (member(cp, "containerPort").is_number_integer() && member(cp, "containerPort").get<std::int64_t>() == pn) {
                t[kMeta + "pod_container_name"] = text(*ct, "name");
                t[kMeta + "pod_container_image"] = text(*ct, "image");
                t[kMeta + "pod_container_port_name"] = text(cp, "name");
                t[kMeta + "pod_container_port_number"] = num;
                t[kMeta + "pod_container_port_protocol"] = text(cp, "protocol");
                t[kMeta + "pod_container_init"] = boolText(init);
                matched = true;
                break;
              }
            if (matched) break;
          }
          seen.ports.insert(pn);
        }
        finish(std::move(t));
      }
    }
  // Container ports of the seen pods that no endpoint port covered get targets of their own.
  for (const auto& [key, seen] : seenPods) {
    const std::string ip = text(member(*seen.pod, "status"), "podIP");
    if (ip.empty()) continue;
    for (const auto& [ct, init] : containersOf(*seen.pod)) {
      const Json& cps = member(*ct, "ports");
      if (!cps.is_array()) continue;
      for (const auto& cp : cps) {
        if (!member(cp, "containerPort").is_number_integer()) continue;
        std::int64_t pn = member(cp, "containerPort").get<std::int64_t>();
        if (seen.ports.count(pn)) continue;
        std::string num = std::to_string(pn);
        LabelMap t{{"__address__", joinHostPort(ip, num)},
                   {kMeta + "pod_container_name", text(*ct, "name")},
                   {kMeta + "pod_container_image", text(*ct, "image")},
                   {kMeta + "pod_container_port_name", text(cp, "name")},
                   {kMeta + "pod_container_port_number", num},
                   {kMeta + "pod_container_port_protocol", text(cp, "protocol")},
                   {kMeta + "pod_container_init", boolText(init)}};
        merge(t, podLabels(*seen.pod));
        finish(std::move(t));
      }
    }
  }
  return out;
}

std::vector<TargetGroup> kubernetesTargetGroups(const KubernetesSdConfig& c, const KubeObjects& o) {
  std::vector<TargetGroup> out;
  auto emit = [&](std::vector<LabelMap> targets, const std::string& source) {
    for (auto& t : targets) {
      TargetGroup g;
      g.source = source;
      g.targets.push_back(t["__address__"]);
      std::vector<Label> pairs;
      pairs.reserve(t.size());
      for (auto& [k, v] : t)
        if (k != "__address__") pairs.push_back({k, v});
      g.labels = Labels::fromPairs(std::move(pairs));
      out.push_back(std::move(g));
    }
  };
  const ObjectMap* m = c.role == K8sRole::Pod             ? o.pods
                       : c.role == K8sRole::Service       ? o.services
                       : c.role == K8sRole::EndpointSlice ? o.endpointSlices
                       : c.role == K8sRole::Node          ? o.nodes
                                                          : nullptr;
  if (!m) return out;
  for (const auto& [key, obj] : *m) {
    switch (c.role) {
      case K8sRole::Pod: emit(podTargets(obj, c, o), "pod/" + key); break;
      case K8sRole::Service: emit(serviceTargets(obj, c, o), "svc/" + key); break;
      case K8sRole::EndpointSlice: emit(endpointSliceTargets(obj, c, o), "endpointslice/" + key); break;
      case K8sRole::Node: emit(nodeTargets(obj), "node/" + key); break;
      default: break;
    }
  }
  return out;
}

}  // namespace otel::prom
