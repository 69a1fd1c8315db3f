#include "lib/prom/monitors.h"

#include <algorithm>
#include <cctype>

#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/prom/kubernetes_sd.h"
#include "lib/prom/relabel.h"

namespace otel::prom {

namespace {

std::string text(const Json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

const Json* field(const Json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

std::string metaText(const Json& obj, const char* key) {
  const Json* m = field(obj, "metadata");
  return m ? text(*m, key) : "";
}

struct Gen {
  const Json& monitor;
  const MonitorOptions& opts;
  std::string kind, ns, name;

  [[noreturn]] void fail(const std::string& fieldPath, const std::string& msg) const {
    throw Error(kind + " " + ns + "/" + name + ": " + fieldPath + ": " + msg);
  }

  std::string secretValue(const Json& selector, const std::string& fieldPath) const {
    std::string sname = text(selector, "name"), key = text(selector, "key");
    if (sname.empty() || key.empty()) fail(fieldPath, "a secret reference needs name and key");
    std::optional<Json> found;
    if (opts.secret) found = opts.secret(ns, sname);
    const Json* secret = found ? &*found : nullptr;
    if (!secret)
      fail(fieldPath, "secret " + ns + "/" + sname + " not found" +
                          (opts.secretNamespacesHint.empty() ? "" : " (" + opts.secretNamespacesHint + ")"));
    if (const Json* d = field(*secret, "data"); d && d->contains(key) && (*d)[key].is_string())
      return base64Decode((*d)[key].get<std::string>());
    if (const Json* d = field(*secret, "stringData"); d && d->contains(key) && (*d)[key].is_string())
      return (*d)[key].get<std::string>();
    if (!field(selector, "optional") || !(*field(selector, "optional")).is_boolean() || !selector["optional"].get<bool>())
      fail(fieldPath, "key " + key + " not found in secret " + ns + "/" + sname);
    return "";
  }

  // SecretOrConfigMap: only Secrets are read (a ConfigMap reference is refused with a clear reason).
  std::string secretOrConfigMap(const Json& v, const std::string& fieldPath) const {
    if (const Json* s = field(v, "secret")) return secretValue(*s, fieldPath + ".secret");
    if (field(v, "configMap")) fail(fieldPath + ".configMap", "ConfigMap references are not read by kubectl-otel's allocator yet");
    fail(fieldPath, "needs secret or configMap");
  }

  void noFile(const Json& o, const char* key, const std::string& fieldPath) const {
    if (opts.denyFsAccess && !text(o, key).empty())
      fail(fieldPath + "." + key, "file access is denied (deny_fs_access_through_sms)");
  }

  Json tls(const Json& t, const std::string& fieldPath) const {
    Json out = Json::object();
    if (const Json* ca = field(t, "ca")) out["ca"] = secretOrConfigMap(*ca, fieldPath + ".ca");
    if (const Json* cert = field(t, "cert")) out["cert"] = secretOrConfigMap(*cert, fieldPath + ".cert");
    if (const Json* key = field(t, "keySecret")) out["key"] = secretValue(*key, fieldPath + ".keySecret");
    for (auto [from, to] : {std::pair{"caFile", "ca_file"}, {"certFile", "cert_file"}, {"keyFile", "key_file"}}) {
      noFile(t, from, fieldPath);
      if (auto v = text(t, from); !v.empty()) out[to] = v;
    }
    if (auto v = text(t, "serverName"); !v.empty()) out["server_name"] = v;
    if (const Json* v = field(t, "insecureSkipVerify"); v && v->is_boolean()) out["insecure_skip_verify"] = *v;
    if (auto v = text(t, "minVersion"); !v.empty()) out["min_version"] = v;
    if (auto v = text(t, "maxVersion"); !v.empty()) out["max_version"] = v;
    return out;
  }

  // The HTTP client fields of an endpoint (ServiceMonitor Endpoint, PodMonitor PodMetricsEndpoint).
  void httpClient(const Json& ep, const std::string& at, Json& cfg) const {
    if (auto v = text(ep, "proxyUrl"); !v.empty()) cfg["proxy_url"] = v;
    if (const Json* v = field(ep, "followRedirects"); v && v->is_boolean()) cfg["follow_redirects"] = *v;
    if (const Json* v = field(ep, "enableHttp2"); v && v->is_boolean()) cfg["enable_http2"] = *v;
    if (const Json* o = field(ep, "oauth2")) {
      Json oa = Json::object();
      if (const Json* id = field(*o, "clientId")) oa["client_id"] = secretOrConfigMap(*id, at + ".oauth2.clientId");
      if (const Json* s = field(*o, "clientSecret")) oa["client_secret"] = secretValue(*s, at + ".oauth2.clientSecret");
      oa["token_url"] = text(*o, "tokenUrl");
      if (const Json* s = field(*o, "scopes"); s && s->is_array()) oa["scopes"] = *s;
      if (const Json* p = field(*o, "endpointParams"); p && p->is_object()) oa["endpoint_params"] = *p;
      cfg["oauth2"] = oa;
    }
    if (const Json* b = field(ep, "basicAuth")) {
      Json ba = Json::object();
      if (const Json* u = field(*b, "username")) ba["username"] = secretValue(*u, at + ".basicAuth.username");
      if (const Json* p = field(*b, "password")) ba["password"] = secretValue(*p, at + ".basicAuth.password");
      cfg["basic_auth"] = ba;
    }
    noFile(ep, "bearerTokenFile", at);
    if (auto f = text(ep, "bearerTokenFile"); !f.empty()) cfg["authorization"] = {{"type", "Bearer"}, {"credentials_file", f}};
    if (const Json* s = field(ep, "bearerTokenSecret"); s && !text(*s, "name").empty())
      cfg["authorization"] = {{"type", "Bearer"}, {"credentials", secretValue(*s, at + ".bearerTokenSecret")}};
    if (const Json* a = field(ep, "authorization")) {
      Json au = {{"type", text(*a, "type").empty() ? "Bearer" : text(*a, "type")}};
      if (const Json* c = field(*a, "credentials")) au["credentials"] = secretValue(*c, at + ".authorization.credentials");
      cfg["authorization"] = au;
    }
    if (const Json* t = field(ep, "tlsConfig")) cfg["tls_config"] = tls(*t, at + ".tlsConfig");
  }
};

Json rule(std::initializer_list<std::pair<const char*, Json>> kv) {
  Json r = Json::object();
  for (const auto& [k, v] : kv) r[k] = v;
  return r;
}

// The monitor's label selector as keep/drop rules on `prefix`<label> and `presentPrefix`<label>.
void selectorRules(const Json* selector, const std::string& prefix, const std::string& presentPrefix, Json& rules) {
  if (!selector) return;
  if (const Json* ml = field(*selector, "matchLabels"); ml && ml->is_object()) {
    std::vector<std::string> keys;
    for (auto it = ml->begin(); it != ml->end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys)
      rules.push_back(rule({{"action", "keep"},
                            {"source_labels", Json::array({prefix + sanitizeLabelName(k), presentPrefix + sanitizeLabelName(k)})},
                            {"regex", "(" + text(*ml, k.c_str()) + ");true"}}));
  }
  if (const Json* me = field(*selector, "matchExpressions"); me && me->is_array())
    for (const auto& e : *me) {
      std::string key = sanitizeLabelName(text(e, "key")), op = text(e, "operator");
      std::string values;
      if (const Json* vs = field(e, "values"); vs && vs->is_array())
        for (const auto& v : *vs) values += (values.empty() ? "" : "|") + (v.is_string() ? v.get<std::string>() : v.dump());
      if (op == "In" || op == "NotIn")
        rules.push_back(rule({{"action", op == "In" ? "keep" : "drop"},
                              {"source_labels", Json::array({prefix + key, presentPrefix + key})},
                              {"regex", "(" + values + ");true"}}));
      else if (op == "Exists" || op == "DoesNotExist")
        rules.push_back(rule({{"action", op == "Exists" ? "keep" : "drop"},
                              {"source_labels", Json::array({presentPrefix + key})},
                              {"regex", "true"}}));
    }
}

// `holder`: the object with the namespaceSelector (and attachMetadata): a monitor's spec, a Probe's
// spec.targets.ingress.
Json k8sSd(const Json& holder, const std::string& role, const std::string& ns) {
  Json sd = {{"role", role}};
  const Json* sel = field(holder, "namespaceSelector");
  bool any = sel && field(*sel, "any") && (*sel)["any"].is_boolean() && (*sel)["any"].get<bool>();
  if (!any) {
    Json names = Json::array();
    if (const Json* mn = sel ? field(*sel, "matchNames") : nullptr; mn && mn->is_array() && !mn->empty()) names = *mn;
    else names.push_back(ns);
    sd["namespaces"] = {{"names", names}};
  }
  if (const Json* am = field(holder, "attachMetadata"); am && field(*am, "node") && (*am)["node"].is_boolean() &&
                                                               (*am)["node"].get<bool>())
    sd["attach_metadata"] = {{"node", true}};
  return sd;
}

void common(const Gen& g, const Json& ep, const std::string& at, Json& cfg) {
  if (const Json* v = field(ep, "honorLabels"); v && v->is_boolean()) cfg["honor_labels"] = *v;
  else cfg["honor_labels"] = false;
  if (const Json* v = field(ep, "honorTimestamps"); v && v->is_boolean()) cfg["honor_timestamps"] = *v;
  if (const Json* v = field(ep, "trackTimestampsStaleness"); v && v->is_boolean()) cfg["track_timestamps_staleness"] = *v;
  if (auto v = text(ep, "interval"); !v.empty()) cfg["scrape_interval"] = v;
  if (auto v = text(ep, "scrapeTimeout"); !v.empty()) cfg["scrape_timeout"] = v;
  if (auto v = text(ep, "path"); !v.empty()) cfg["metrics_path"] = v;
  if (const Json* p = field(ep, "params"); p && p->is_object()) cfg["params"] = *p;
  if (auto v = text(ep, "scheme"); !v.empty()) cfg["scheme"] = asciiLower(v);
  g.httpClient(ep, at, cfg);
}

void limits(const Json& spec, Json& cfg) {
  for (auto [from, to] : {std::pair{"sampleLimit", "sample_limit"}, {"targetLimit", "target_limit"}, {"labelLimit", "label_limit"},
                          {"labelNameLengthLimit", "label_name_length_limit"},
                          {"labelValueLengthLimit", "label_value_length_limit"}, {"keepDroppedTargets", "keep_dropped_targets"}})
    if (const Json* v = field(spec, from); v && v->is_number_integer()) cfg[to] = *v;
  if (const Json* v = field(spec, "scrapeProtocols"); v && v->is_array() && !v->empty()) cfg["scrape_protocols"] = *v;
}

// prometheus-operator's generateAddressShardingRelabelingRules with one shard; the allocator's
// __tmp_disable_sharding wrapper makes the keep rule pass.
void sharding(Json& rules) {
  rules.push_back(rule({{"source_labels", Json::array({"__address__", "__tmp_hash"})},
                        {"target_label", "__tmp_hash"},
                        {"regex", "(.+);"},
                        {"replacement", "$1"},
                        {"action", "replace"}}));
  rules.push_back(rule({{"source_labels", Json::array({"__tmp_hash"})}, {"target_label", "__tmp_hash"}, {"modulus", 1}, {"action", "hashmod"}}));
  rules.push_back(rule({{"source_labels", Json::array({"__tmp_hash", "__tmp_disable_sharding"})},
                        {"regex", "$(SHARD);|.+;.+"},
                        {"action", "keep"}}));
}

// The endpoint's relabelings, each checked as Prometheus will check it, so that an invalid one names its
// own field (prometheus-operator rejects the monitor for it).
Json copyRule(const std::string& source, const std::string& target) {
  return rule({{"source_labels", Json::array({source})}, {"target_label", target}});
}

Json keepRule(const std::string& source, const std::string& regex) {
  return rule({{"action", "keep"}, {"source_labels", Json::array({source})}, {"regex", regex}});
}

// A label copied from a meta label when it has a value (targetLabels, podTargetLabels, jobLabel).
Json fromMetaRule(const std::string& prefix, const std::string& label, const std::string& target) {
  return rule({{"source_labels", Json::array({prefix + sanitizeLabelName(label)})},
               {"target_label", target},
               {"regex", "(.+)"},
               {"replacement", "${1}"}});
}

void labelsFromMeta(const Json& spec, const char* key, const std::string& prefix, Json& rules) {
  if (const Json* ls = field(spec, key); ls && ls->is_array())
    for (const auto& l : *ls) {
      std::string name = l.is_string() ? l.get<std::string>() : l.dump();
      rules.push_back(fromMetaRule(prefix, name, sanitizeLabelName(name)));
    }
}

// The deprecated targetPort: a name filters on the container port name, a number on its number.
Json targetPortRule(const Json& ep) {
  bool number = ep["targetPort"].is_number_integer();
  return keepRule(number ? "__meta_kubernetes_pod_container_port_number" : "__meta_kubernetes_pod_container_port_name",
                  text(ep, "targetPort"));
}

void runningFilter(const Json& ep, Json& rules) {
  if (const Json* fr = field(ep, "filterRunning"); !fr || !fr->is_boolean() || fr->get<bool>())
    rules.push_back(rule({{"action", "drop"}, {"source_labels", Json::array({"__meta_kubernetes_pod_phase"})}, {"regex", "(Failed|Succeeded)"}}));
}

void userRules(const Gen& g, const Json& ep, const std::string& at, const char* key, Json& rules) {
  const Json* rs = field(ep, key);
  if (!rs) return;
  if (!rs->is_array()) g.fail(at + "." + key, "must be a list");
  for (std::size_t i = 0; i < rs->size(); ++i) {
    Json r = relabelingToPrometheus((*rs)[i]);
    try {
      (void)parseRelabelConfig(r);
    } catch (const std::exception& e) {
      g.fail(at + "." + key + "[" + std::to_string(i) + "]", e.what());
    }
    rules.push_back(std::move(r));
  }
}

// metric_relabel_configs from `key` of `from`, when there are any.
void metricRules(const Gen& g, const Json& from, const std::string& at, const char* key, Json& cfg) {
  Json metric = Json::array();
  userRules(g, from, at, key, metric);
  if (!metric.empty()) cfg["metric_relabel_configs"] = metric;
}

// The tail of a ServiceMonitor or PodMonitor job: the endpoint's relabelings, sharding, limits, metric rules.
void finishMonitorJob(const Gen& g, const Json& spec, const Json& ep, const std::string& at, Json& rules, Json& cfg) {
  userRules(g, ep, at, "relabelings", rules);
  sharding(rules);
  cfg["relabel_configs"] = std::move(rules);
  limits(spec, cfg);
  metricRules(g, ep, at, "metricRelabelings", cfg);
}

Gen gen(const Json& monitor, const MonitorOptions& o, const char* kind) {
  Gen g{monitor, o, kind, metaText(monitor, "namespace"), metaText(monitor, "name")};
  if (!monitor.is_object() || !field(monitor, "spec") || !monitor["spec"].is_object()) g.fail("spec", "must be an object");
  return g;
}

const Json& endpoints(const Gen& g, const char* key) {
  const Json* eps = field(g.monitor["spec"], key);
  if (eps && !eps->is_array()) g.fail(std::string("spec.") + key, "must be a list");
  static const Json kNone = Json::array();
  return eps ? *eps : kNone;
}

}  // namespace

Json relabelingToPrometheus(const Json& r) {
  Json out = Json::object();
  if (!r.is_object()) return out;
  for (auto [from, to] : {std::pair{"sourceLabels", "source_labels"}, {"separator", "separator"}, {"targetLabel", "target_label"},
                          {"regex", "regex"}, {"modulus", "modulus"}, {"replacement", "replacement"}, {"action", "action"}})
    if (const Json* v = field(r, from)) out[to] = *v;
  // the snake_case spellings are accepted as well (some generators write them)
  for (auto k : {"source_labels", "target_label"})
    if (const Json* v = field(r, k)) out[k] = *v;
  if (out.contains("action") && out["action"].is_string()) {
    out["action"] = asciiLower(out["action"].get<std::string>());
  }
  return out;
}

std::vector<Json> serviceMonitorScrapeConfigs(const Json& sm, const MonitorOptions& o) {
  Gen g = gen(sm, o, "ServiceMonitor");
  const Json& spec = sm["spec"];
  // The allocator's default is EndpointSlice (as upstream sets prometheus-operator's generator);
  // Endpoints reads the v1 Endpoints objects, with their meta label names.
  const std::string role = text(spec, "serviceDiscoveryRole");
  if (!role.empty() && role != "EndpointSlice" && role != "Endpoints")
    g.fail("spec.serviceDiscoveryRole", "must be Endpoints or EndpointSlice, not \"" + role + "\"");
  const std::string sdRole = role == "Endpoints" ? "endpoints" : "endpointslice";
  const std::string epMeta = role == "Endpoints" ? "__meta_kubernetes_endpoint_" : "__meta_kubernetes_endpointslice_";
  if (auto mech = text(spec, "selectorMechanism"); !mech.empty() && mech != "RelabelConfig")
    g.fail("spec.selectorMechanism", mech + " is not available yet in kubectl-otel's allocator; remove it to select by relabeling");
  std::vector<Json> out;
  const Json& eps = endpoints(g, "endpoints");
  for (std::size_t i = 0; i < eps.size(); ++i) {
    const Json& ep = eps[i];
    const std::string at = "spec.endpoints[" + std::to_string(i) + "]";
    Json cfg = {{"job_name", "serviceMonitor/" + g.ns + "/" + g.name + "/" + std::to_string(i)}};
    cfg["kubernetes_sd_configs"] = Json::array({k8sSd(spec, sdRole, g.ns)});
    common(g, ep, at, cfg);
    std::string port = text(ep, "port"), targetPort = text(ep, "targetPort");
    Json rules = Json::array({copyRule("job", "__tmp_prometheus_job_name")});
    selectorRules(field(spec, "selector"), "__meta_kubernetes_service_label_", "__meta_kubernetes_service_labelpresent_", rules);
    if (!port.empty()) rules.push_back(keepRule(epMeta + "port_name", port));
    else if (!targetPort.empty()) rules.push_back(targetPortRule(ep));
    const Json target = Json::array({epMeta + "address_target_kind", epMeta + "address_target_name"});
    rules.push_back(rule({{"source_labels", target}, {"separator", ";"}, {"regex", "Node;(.*)"}, {"replacement", "${1}"}, {"target_label", "node"}}));
    rules.push_back(rule({{"source_labels", target}, {"separator", ";"}, {"regex", "Pod;(.*)"}, {"replacement", "${1}"}, {"target_label", "pod"}}));
    rules.push_back(copyRule("__meta_kubernetes_namespace", "namespace"));
    rules.push_back(copyRule("__meta_kubernetes_service_name", "service"));
    rules.push_back(copyRule("__meta_kubernetes_pod_name", "pod"));
    rules.push_back(copyRule("__meta_kubernetes_pod_container_name", "container"));
    runningFilter(ep, rules);
    labelsFromMeta(spec, "targetLabels", "__meta_kubernetes_service_label_", rules);
    labelsFromMeta(spec, "podTargetLabels", "__meta_kubernetes_pod_label_", rules);
    rules.push_back(rule({{"source_labels", Json::array({"__meta_kubernetes_service_name"})}, {"target_label", "job"}, {"replacement", "${1}"}}));
    if (auto jl = text(spec, "jobLabel"); !jl.empty()) rules.push_back(fromMetaRule("__meta_kubernetes_service_label_", jl, "job"));
    if (!port.empty()) rules.push_back(rule({{"target_label", "endpoint"}, {"replacement", port}}));
    else if (!targetPort.empty()) rules.push_back(rule({{"target_label", "endpoint"}, {"replacement", targetPort}}));
    finishMonitorJob(g, spec, ep, at, rules, cfg);
    out.push_back(std::move(cfg));
  }
  return out;
}

std::vector<Json> podMonitorScrapeConfigs(const Json& pm, const MonitorOptions& o) {
  Gen g = gen(pm, o, "PodMonitor");
  const Json& spec = pm["spec"];
  if (auto mech = text(spec, "selectorMechanism"); !mech.empty() && mech != "RelabelConfig")
    g.fail("spec.selectorMechanism", mech + " is not available yet in kubectl-otel's allocator; remove it to select by relabeling");
  std::vector<Json> out;
  const Json& eps = endpoints(g, "podMetricsEndpoints");
  for (std::size_t i = 0; i < eps.size(); ++i) {
    const Json& ep = eps[i];
    const std::string at = "spec.podMetricsEndpoints[" + std::to_string(i) + "]";
    Json cfg = {{"job_name", "podMonitor/" + g.ns + "/" + g.name + "/" + std::to_string(i)}};
    cfg["kubernetes_sd_configs"] = Json::array({k8sSd(spec, "pod", g.ns)});
    common(g, ep, at, cfg);
    Json rules = Json::array({copyRule("job", "__tmp_prometheus_job_name")});
    runningFilter(ep, rules);
    selectorRules(field(spec, "selector"), "__meta_kubernetes_pod_label_", "__meta_kubernetes_pod_labelpresent_", rules);
    std::string port = text(ep, "port"), portNumber = text(ep, "portNumber"), targetPort = text(ep, "targetPort"), endpoint;
    if (!port.empty()) {
      rules.push_back(keepRule("__meta_kubernetes_pod_container_port_name", port));
      endpoint = port;
    } else if (!portNumber.empty()) {  // no endpoint label for a port number, as prometheus-operator
      rules.push_back(keepRule("__meta_kubernetes_pod_container_port_number", portNumber));
    } else if (!targetPort.empty()) {
      rules.push_back(targetPortRule(ep));
      endpoint = targetPort;
    }
    rules.push_back(copyRule("__meta_kubernetes_namespace", "namespace"));
    rules.push_back(copyRule("__meta_kubernetes_pod_container_name", "container"));
    rules.push_back(copyRule("__meta_kubernetes_pod_name", "pod"));
    labelsFromMeta(spec, "podTargetLabels", "__meta_kubernetes_pod_label_", rules);
    rules.push_back(rule({{"target_label", "job"}, {"replacement", g.ns + "/" + g.name}}));
    if (auto jl = text(spec, "jobLabel"); !jl.empty()) rules.push_back(fromMetaRule("__meta_kubernetes_pod_label_", jl, "job"));
    if (!endpoint.empty()) rules.push_back(rule({{"target_label", "endpoint"}, {"replacement", endpoint}}));
    finishMonitorJob(g, spec, ep, at, rules, cfg);
    out.push_back(std::move(cfg));
  }
  return out;
}

std::vector<Json> probeScrapeConfigs(const Json& probe, const MonitorOptions& o) {
  Gen g = gen(probe, o, "Probe");
  const Json& spec = probe["spec"];
  const std::string at = "spec";
  Json cfg = {{"job_name", "probe/" + g.ns + "/" + g.name}, {"honor_timestamps", true}};
  const Json* prober = field(spec, "prober");
  std::string url = prober ? text(*prober, "url") : "";
  if (url.empty()) g.fail("spec.prober.url", "is required");
  std::string path = prober ? text(*prober, "path") : "";
  cfg["metrics_path"] = path.empty() ? "/probe" : path;
  if (auto v = text(spec, "interval"); !v.empty()) cfg["scrape_interval"] = v;
  if (auto v = text(spec, "scrapeTimeout"); !v.empty()) cfg["scrape_timeout"] = v;
  if (auto v = prober ? text(*prober, "scheme") : ""; !v.empty()) cfg["scheme"] = v;
  Json params = Json::object();
  if (auto m = text(spec, "module"); !m.empty()) params["module"] = Json::array({m});
  if (const Json* ps = field(spec, "params"); ps && ps->is_array())
    for (const auto& p : *ps) {
      std::string name = text(p, "name");
      if (name.empty() || (name == "module" && params.contains("module"))) continue;
      params[name] = p.contains("values") ? p["values"] : Json::array();
    }
  if (!params.empty()) cfg["params"] = params;
  limits(spec, cfg);
  g.httpClient(spec, at, cfg);
  const Json* targets = field(spec, "targets");
  const Json* st = targets ? field(*targets, "staticConfig") : nullptr;
  const Json* ing = targets ? field(*targets, "ingress") : nullptr;  // staticConfig wins when both are given
  if (!st && !ing) g.fail("spec.targets", "at least one of .spec.targets.staticConfig and .spec.targets.ingress is required");
  Json rules = Json::array({copyRule("job", "__tmp_prometheus_job_name")});
  if (auto jn = text(spec, "jobName"); !jn.empty()) rules.push_back(rule({{"target_label", "job"}, {"replacement", jn}}));
  if (st) {
    Json labels = Json::object();
    if (const Json* l = field(*st, "labels"); l && l->is_object()) labels = *l;
    if (!labels.contains("namespace")) labels["namespace"] = g.ns;
    cfg["static_configs"] = Json::array({{{"targets", field(*st, "static") ? (*st)["static"] : Json::array()}, {"labels", labels}}});
    rules.push_back(rule({{"source_labels", Json::array({"__address__"})}, {"target_label", "__param_target"}}));
    rules.push_back(rule({{"source_labels", Json::array({"__param_target"})}, {"target_label", "instance"}}));
    rules.push_back(rule({{"target_label", "__address__"}, {"replacement", url}}));
    userRules(g, *st, "spec.targets.staticConfig", "relabelingConfigs", rules);
  } else {
    if (!ing->is_object()) g.fail("spec.targets.ingress", "must be an object");
    selectorRules(field(*ing, "selector"), "__meta_kubernetes_ingress_label_", "__meta_kubernetes_ingress_labelpresent_", rules);
    cfg["kubernetes_sd_configs"] = Json::array({k8sSd(*ing, "ingress", g.ns)});
    rules.push_back(rule({{"source_labels", Json::array({"__meta_kubernetes_ingress_scheme", "__address__", "__meta_kubernetes_ingress_path"})},
                          {"separator", ";"},
                          {"regex", "(.+);(.+);(.+)"},
                          {"target_label", "__param_target"},
                          {"replacement", "${1}://${2}${3}"},
                          {"action", "replace"}}));
    rules.push_back(copyRule("__meta_kubernetes_namespace", "namespace"));
    rules.push_back(copyRule("__meta_kubernetes_ingress_name", "ingress"));
    rules.push_back(rule({{"source_labels", Json::array({"__address__"})},
                          {"separator", ";"},
                          {"regex", "(.*)"},
                          {"target_label", "__tmp_ingress_address"},
                          {"replacement", "$1"},
                          {"action", "replace"}}));
    rules.push_back(rule({{"source_labels", Json::array({"__param_target"})}, {"target_label", "instance"}}));
    rules.push_back(rule({{"target_label", "__address__"}, {"replacement", url}}));
    userRules(g, *ing, "spec.targets.ingress", "relabelingConfigs", rules);
  }
  // sharding hashes the probed target, not the prober's address
  rules.push_back(rule({{"source_labels", Json::array({"__param_target", "__tmp_hash"})},
                        {"target_label", "__tmp_hash"},
                        {"regex", "(.+);"},
                        {"replacement", "$1"},
                        {"action", "replace"}}));
  rules.push_back(rule({{"source_labels", Json::array({"__tmp_hash"})}, {"target_label", "__tmp_hash"}, {"modulus", 1}, {"action", "hashmod"}}));
  rules.push_back(rule({{"source_labels", Json::array({"__tmp_hash", "__tmp_disable_sharding"})},
                        {"regex", "$(SHARD);|.+;.+"},
                        {"action", "keep"}}));
  cfg["relabel_configs"] = rules;
  metricRules(g, spec, at, "metricRelabelings", cfg);
  return {cfg};
}

std::vector<Json> scrapeConfigCrScrapeConfigs(const Json& sc, const MonitorOptions& o) {
  Gen g = gen(sc, o, "ScrapeConfig");
  const Json& spec = sc["spec"];
  const std::string at = "spec";
  Json cfg = {{"job_name", "scrapeConfig/" + g.ns + "/" + g.name}};
  Json rules = Json::array({copyRule("job", "__tmp_prometheus_job_name")});
  if (auto jn = text(spec, "jobName"); !jn.empty())
    rules.push_back(rule({{"target_label", "job"}, {"action", "replace"}, {"replacement", jn}}));
  if (const Json* v = field(spec, "honorTimestamps"); v && v->is_boolean()) cfg["honor_timestamps"] = *v;
  if (const Json* v = field(spec, "trackTimestampsStaleness"); v && v->is_boolean()) cfg["track_timestamps_staleness"] = *v;
  if (const Json* v = field(spec, "honorLabels"); v && v->is_boolean()) cfg["honor_labels"] = *v;
  if (auto v = text(spec, "metricsPath"); !v.empty()) cfg["metrics_path"] = v;
  if (const Json* p = field(spec, "params"); p && p->is_object()) cfg["params"] = *p;
  if (auto v = text(spec, "scrapeInterval"); !v.empty()) cfg["scrape_interval"] = v;
  if (auto v = text(spec, "scrapeTimeout"); !v.empty()) cfg["scrape_timeout"] = v;
  if (auto v = text(spec, "scheme"); !v.empty()) cfg["scheme"] = asciiLower(v);
  g.httpClient(spec, at, cfg);
  limits(spec, cfg);
  if (const Json* ss = field(spec, "staticConfigs"); ss && ss->is_array()) {
    Json out = Json::array();
    for (const auto& s : *ss)
      out.push_back({{"targets", field(s, "targets") ? s["targets"] : Json::array()},
                     {"labels", field(s, "labels") ? s["labels"] : Json::object()}});
    cfg["static_configs"] = out;
  }
  if (const Json* ks = field(spec, "kubernetesSDConfigs"); ks && ks->is_array()) {
    Json out = Json::array();
    for (std::size_t i = 0; i < ks->size(); ++i) {
      const Json& k = (*ks)[i];
      const std::string kat = "spec.kubernetesSDConfigs[" + std::to_string(i) + "]";
      if (field(k, "apiServer")) g.fail(kat + ".apiServer", "is not available yet in kubectl-otel's allocator (it discovers through its own connection)");
      Json sd = {{"role", asciiLower(text(k, "role"))}};
      if (const Json* ns = field(k, "namespaces")) {
        Json n = Json::object();
        if (const Json* names = field(*ns, "names"); names && names->is_array()) n["names"] = *names;
        if (const Json* own = field(*ns, "ownNamespace"); own && own->is_boolean()) n["own_namespace"] = *own;
        sd["namespaces"] = n;
      }
      if (const Json* sels = field(k, "selectors"); sels && sels->is_array()) {
        Json out2 = Json::array();
        for (const auto& sel : *sels) {
          Json one = {{"role", asciiLower(text(sel, "role"))}};
          if (auto l = text(sel, "label"); !l.empty()) one["label"] = l;
          if (auto f = text(sel, "field"); !f.empty()) one["field"] = f;
          out2.push_back(one);
        }
        sd["selectors"] = out2;
      }
      if (const Json* am = field(k, "attachMetadata"); am && am->is_object()) {
        Json a = Json::object();
        if (const Json* nd = field(*am, "node"); nd && nd->is_boolean()) a["node"] = *nd;
        if (const Json* nsm = field(*am, "namespace"); nsm && nsm->is_boolean()) a["namespace"] = *nsm;
        sd["attach_metadata"] = a;
      }
      out.push_back(sd);
    }
    cfg["kubernetes_sd_configs"] = out;
  }
  for (const char* other : {"fileSDConfigs", "httpSDConfigs", "consulSDConfigs", "dnsSDConfigs", "ec2SDConfigs", "azureSDConfigs",
                            "gceSDConfigs", "openstackSDConfigs", "digitalOceanSDConfigs", "kumaSDConfigs", "eurekaSDConfigs",
                            "dockerSDConfigs", "linodeSDConfigs", "hetznerSDConfigs", "nomadSDConfigs", "dockerSwarmSDConfigs",
                            "puppetDBSDConfigs", "lightSailSDConfigs", "ovhcloudSDConfigs", "scalewaySDConfigs", "ionosSDConfigs"})
    if (const Json* v = field(spec, other); v && v->is_array() && !v->empty())
      g.fail(std::string("spec.") + other, "is not available yet in kubectl-otel's allocator (static and Kubernetes SD are)");
  userRules(g, spec, at, "relabelings", rules);
  cfg["relabel_configs"] = rules;
  metricRules(g, spec, at, "metricRelabelings", cfg);
  return {cfg};
}

}  // namespace otel::prom
