#include "lib/inject/inject.h"

#include "lib/api/common.h"

#include "lib/inject/select.h"

#include <algorithm>
#include <map>

#include "lib/inject/env.h"
#include "lib/inject/sidecar.h"
#include "lib/inject/undo.h"

namespace otel::inject {
namespace {

using api::InstrumentationView;

constexpr const char* kVolumePrefix = "opentelemetry-auto-instrumentation";
constexpr const char* kGoSidecarName = "opentelemetry-auto-instrumentation";
constexpr const char* kApacheClone = "otel-agent-source-container-clone";
constexpr const char* kApacheAttach = "otel-agent-attach-apache";
constexpr const char* kNginxAttach = "otel-agent-attach-nginx";
constexpr const char* kWebAgentDir = "/opt/opentelemetry-webserver/agent";
constexpr const char* kWebConfDir = "/opt/opentelemetry-webserver/source-conf";
constexpr const char* kPodNameVar = "OTEL_RESOURCE_ATTRIBUTES_POD_NAME";
constexpr const char* kPodUidVar = "OTEL_RESOURCE_ATTRIBUTES_POD_UID";
constexpr const char* kNodeNameVar = "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME";
constexpr const char* kResourceAttrsVar = "OTEL_RESOURCE_ATTRIBUTES";

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const Json& podAnnotations(const Json& pod) {
  static const Json kEmpty = Json::object();
  if (pod.contains("metadata") && pod["metadata"].is_object() && pod["metadata"].contains("annotations") &&
      pod["metadata"]["annotations"].is_object())
    return pod["metadata"]["annotations"];
  return kEmpty;
}
std::string podAnnotation(const Json& pod, const std::string& key) { return api::str(podAnnotations(pod), {key}); }
std::string podLabel(const Json& pod, const std::string& key) { return api::str(pod, {"metadata", "labels", key}); }

Json& list(Json& pod, const char* key) {
  Json& spec = pod["spec"];
  if (!spec.is_object()) spec = Json::object();
  Json& l = spec[key];
  if (!l.is_array()) l = Json::array();
  return l;
}
bool hasList(const Json& pod, const char* key) {
  return pod.contains("spec") && pod["spec"].is_object() && pod["spec"].contains(key) && pod["spec"][key].is_array();
}
int indexByName(const Json& arr, const std::string& name) { return indexOfEnv(arr, name); }

// Removes empty lists we created so an untouched field stays absent.
void dropEmpty(Json& pod, const char* key) {
  if (pod.contains("spec") && pod["spec"].contains(key) && pod["spec"][key].is_array() && pod["spec"][key].empty())
    pod["spec"].erase(key);
}

std::string langTitle(Language l) {
  switch (l) {
    case Language::Java: return "Java";
    case Language::NodeJS: return "NodeJS";
    case Language::Python: return "Python";
    case Language::DotNet: return ".NET";
    case Language::Go: return "Go";
    case Language::ApacheHttpd: return "Apache HTTPD";
    case Language::Nginx: return "Nginx";
    case Language::Sdk: return "SDK";
  }
  return "";
}

// A container reference that survives list insertions: list key + name.
struct Target {
  bool init = false;
  std::string name;
};
Json* findTarget(Json& pod, const Target& t) {
  const char* key = t.init ? "initContainers" : "containers";
  if (!hasList(pod, key)) return nullptr;
  Json& l = pod["spec"][key];
  int i = indexByName(l, t.name);
  return i < 0 ? nullptr : &l[static_cast<size_t>(i)];
}

// ---- volumes and init containers ------------------------------------------------------------------

Json instrVolume(const InstrumentationView& inst, Language l, const std::string& name) {
  if (const Json* vct = inst.volumeClaimTemplate(l))
    return Json{{"name", name}, {"ephemeral", Json{{"volumeClaimTemplate", *vct}}}};
  std::string size = inst.volumeLimitSize(l);
  return Json{{"name", name}, {"emptyDir", Json{{"sizeLimit", size.empty() ? "200Mi" : size}}}};
}

bool hasInitContainer(const Json& pod, const std::string& name) {
  return hasList(pod, "initContainers") && indexByName(pod["spec"]["initContainers"], name) >= 0;
}

// Upstream insertInitContainer: before the target when the target is an init container, else appended.
void insertInitContainer(Json& pod, Json c, const Target& first) {
  Json& inits = list(pod, "initContainers");
  if (first.init) {
    int i = indexByName(inits, first.name);
    if (i >= 0) {
      inits.insert(inits.begin() + i, std::move(c));
      return;
    }
  }
  inits.push_back(std::move(c));
}

Json makeInitContainer(const std::string& name, const std::string& image, const Json& command, const Json* resources,
                       const Json& mounts, const std::string& pullPolicy) {
  Json c = Json::object();
  c["name"] = name;
  c["image"] = image;
  c["command"] = command;
  if (resources) c["resources"] = *resources;
  c["volumeMounts"] = mounts;
  if (!pullPolicy.empty()) c["imagePullPolicy"] = pullPolicy;
  return c;
}

void setInitSecurityContext(Json& pod, const InstrumentationView& inst, Language l, const Json* appSc,
                            const std::string& name) {
  const Json* sc = inst.initContainerSecurityContext();
  if (!sc) {
    const Json& sec = inst.language(l);
    if (sec.contains("securityContext") && sec["securityContext"].is_object() && l != Language::Go)
      sc = &sec["securityContext"];
  }
  if (!sc) sc = appSc;
  if (!hasList(pod, "initContainers")) return;
  for (auto& c : pod["spec"]["initContainers"])
    if (api::str(c, {"name"}) == name) {
      if (sc)
        c["securityContext"] = *sc;
      else
        c.erase("securityContext");
    }
}

// ---- resource attributes, service name and version ------------------------------------------------

std::string parseImageVersion(const std::string& image) {
  std::string ref = image, digest, tag;
  if (auto at = ref.find('@'); at != std::string::npos) {
    digest = ref.substr(at + 1);
    ref = ref.substr(0, at);
  }
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) tag = ref.substr(colon + 1);
  if (!digest.empty()) return tag.empty() ? digest : tag + "@" + digest;
  return tag;
}

std::string chooseLabelOrAnnotation(const Json& pod, bool useLabels, const std::string& attr,
                                    const std::vector<std::string>& labelKeys) {
  if (std::string v = podAnnotation(pod, kResourceAnnotationPrefix + attr); !v.empty()) return v;
  if (useLabels)
    for (const auto& k : labelKeys)
      if (std::string v = podLabel(pod, k); !v.empty()) return v;
  return "";
}

using ResourceMap = std::map<std::string, std::string>;  // sorted, as upstream sorts the keys

ResourceMap createResourceMap(const InstrumentationView& inst, const PodContext& ctx, const Json& pod,
                              const Json& container) {
  std::map<std::string, bool> existing;
  if (container.contains("env")) {
    int idx = indexOfEnv(container["env"], kResourceAttrsVar);
    if (idx >= 0) {
      std::string v = api::str(container["env"][static_cast<size_t>(idx)], {"value"});
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string kv = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto b = kv.find_first_not_of(" \t"), e = kv.find_last_not_of(" \t");
        kv = b == std::string::npos ? "" : kv.substr(b, e - b + 1);
        if (std::count(kv.begin(), kv.end(), '=') == 1) existing[kv.substr(0, kv.find('='))] = true;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
  ResourceMap res;
  for (const auto& [k, v] : inst.resourceAttributes())
    if (!existing[k]) res[k] = v;
  const bool uid = inst.addK8sUIDAttributes();
  std::string cname = api::str(container, {"name"});
  std::vector<std::pair<std::string, std::string>> k8s = {
      {"k8s.namespace.name", ctx.ns},
      {"k8s.container.name", cname},
      {"k8s.pod.name", ctx.podName},
      {"k8s.pod.uid", ctx.podUid},
      {"k8s.node.name", ctx.nodeName},
  };
  std::string sid = podAnnotation(pod, std::string(kResourceAnnotationPrefix) + "service.instance.id");
  if (sid.empty() && !ctx.ns.empty() && !cname.empty()) sid = ctx.ns + ".$(" + kPodNameVar + ")." + cname;
  k8s.emplace_back("service.instance.id", sid);
  k8s.emplace_back("k8s.replicaset.name", ctx.replicaSet);
  k8s.emplace_back("k8s.deployment.name", ctx.deployment);
  k8s.emplace_back("k8s.statefulset.name", ctx.statefulSet);
  k8s.emplace_back("k8s.daemonset.name", ctx.daemonSet);
  k8s.emplace_back("k8s.job.name", ctx.job);
  k8s.emplace_back("k8s.cronjob.name", ctx.cronJob);
  if (uid) {
    k8s.emplace_back("k8s.replicaset.uid", ctx.replicaSetUid);
    k8s.emplace_back("k8s.deployment.uid", ctx.deploymentUid);
    k8s.emplace_back("k8s.statefulset.uid", ctx.statefulSetUid);
    k8s.emplace_back("k8s.daemonset.uid", ctx.daemonSetUid);
    k8s.emplace_back("k8s.job.uid", ctx.jobUid);
    k8s.emplace_back("k8s.cronjob.uid", ctx.cronJobUid);
  }
  for (const auto& [k, v] : k8s)
    if (!existing[k] && !v.empty()) res[k] = v;
  const Json& ann = podAnnotations(pod);
  const std::string prefix = kResourceAnnotationPrefix;
  for (auto it = ann.begin(); it != ann.end(); ++it) {
    if (it.key().rfind(prefix, 0) != 0 || !it->is_string()) continue;
    std::string key = it.key().substr(prefix.size());
    if (!existing[key] && key != "service.name") res[key] = it->get<std::string>();
  }
  std::string sns = chooseLabelOrAnnotation(pod, inst.useLabelsForResourceAttributes(), "service.namespace", {});
  if (sns.empty()) sns = ctx.ns;
  if (!sns.empty() && !existing["service.namespace"]) res["service.namespace"] = sns;
  return res;
}

std::string chooseServiceName(const Json& pod, bool useLabels, ResourceMap& res, const Json& container) {
  if (std::string n = chooseLabelOrAnnotation(pod, useLabels, "service.name",
                                              {"app.kubernetes.io/instance", "app.kubernetes.io/name"});
      !n.empty())
    return n;
  for (const char* k : {"k8s.deployment.name", "k8s.replicaset.name", "k8s.statefulset.name", "k8s.daemonset.name",
                        "k8s.cronjob.name", "k8s.job.name", "k8s.pod.name"})
    if (auto it = res.find(k); it != res.end() && !it->second.empty()) return it->second;
  return api::str(container, {"name"});
}

std::string chooseServiceVersion(const Json& pod, bool useLabels, const Json& container) {
  if (std::string v = chooseLabelOrAnnotation(pod, useLabels, "service.version", {"app.kubernetes.io/version"});
      !v.empty())
    return v;
  return parseImageVersion(api::str(container, {"image"}));
}

// ---- exporter -------------------------------------------------------------------------------------

std::string truncateName(std::string s) {
  if (s.size() > 63) s.resize(63);
  while (!s.empty() && !std::isalnum(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

void addVolumeOnce(Json& pod, const Json& volume) {
  Json& vols = list(pod, "volumes");
  if (indexByName(vols, api::str(volume, {"name"})) < 0) vols.push_back(volume);
}

void configureExporter(const InstrumentationView& inst, Json& pod, const Target& target) {
  std::string endpoint = inst.endpoint();
  if (!endpoint.empty()) {
    Json* c = findTarget(pod, target);
    appendIfNotSet(containerEnv(*c), Json::array({Json{{"name", "OTEL_EXPORTER_OTLP_ENDPOINT"}, {"value", endpoint}}}));
  }
  const Json* tls = inst.tls();
  if (!tls) return;
  std::string secret = api::str(*tls, {"secretName"}), cm = api::str(*tls, {"configMapName"});
  std::string secretVol = truncateName("otel-auto-secret-" + secret);
  std::string secretPath = "/otel-auto-instrumentation-secret-" + secret;
  std::string cmVol = truncateName("otel-auto-configmap-" + cm);
  std::string cmPath = "/otel-auto-instrumentation-configmap-" + cm;
  auto add = [&](const char* var, const std::string& file, const std::string& dir) {
    if (file.empty()) return;
    std::string v = file[0] == '/' ? file : dir + "/" + file;
    Json* c = findTarget(pod, target);
    appendIfNotSet(containerEnv(*c), Json::array({Json{{"name", var}, {"value", v}}}));
  };
  add("OTEL_EXPORTER_OTLP_CERTIFICATE", api::str(*tls, {"ca_file"}), cm.empty() ? secretPath : cmPath);
  add("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", api::str(*tls, {"cert_file"}), secretPath);
  add("OTEL_EXPORTER_OTLP_CLIENT_KEY", api::str(*tls, {"key_file"}), secretPath);
  auto mount = [&](const std::string& vol, const std::string& path, Json volume) {
    addVolumeOnce(pod, volume);
    Json* c = findTarget(pod, target);
    Json& mounts = (*c)["volumeMounts"];
    if (!mounts.is_array()) mounts = Json::array();
    if (indexByName(mounts, vol) < 0) mounts.push_back(Json{{"name", vol}, {"mountPath", path}, {"readOnly", true}});
  };
  if (!secret.empty()) mount(secretVol, secretPath, Json{{"name", secretVol}, {"secret", Json{{"secretName", secret}}}});
  if (!cm.empty()) mount(cmVol, cmPath, Json{{"name", cmVol}, {"configMap", Json{{"name", cm}}}});
}

// ---- common env -----------------------------------------------------------------------------------

void injectCommonEnvVar(const InstrumentationView& inst, Json& container) {
  Json& env = containerEnv(container);
  if (indexOfEnv(env, "OTEL_POD_IP") < 0) {
    Json e = Json::array();
    appendEnvFieldRef(e, "OTEL_POD_IP", "status.podIP", false);
    env.insert(env.begin(), e[0]);
  }
  if (indexOfEnv(env, "OTEL_NODE_IP") < 0) {
    Json e = Json::array();
    appendEnvFieldRef(e, "OTEL_NODE_IP", "status.hostIP", false);
    env.insert(env.begin(), e[0]);
  }
  appendIfNotSet(env, inst.env());
}

// upstream injectCommonSDKConfig: `agent` receives the env, `app` is the container producing telemetry.
void injectCommonSDKConfig(const InstrumentationView& inst, const PodContext& ctx, Json& pod, const Target& agent,
                           const Target& app) {
  const bool useLabels = inst.useLabelsForResourceAttributes();
  Json appCopy = *findTarget(pod, app);
  ResourceMap res = createResourceMap(inst, ctx, pod, appCopy);
  {
    Json& env = containerEnv(*findTarget(pod, agent));
    if (indexOfEnv(env, "OTEL_SERVICE_NAME") < 0) appendEnv(env, "OTEL_SERVICE_NAME", chooseServiceName(pod, useLabels, res, appCopy));
  }
  configureExporter(inst, pod, agent);
  Json& env = containerEnv(*findTarget(pod, agent));
  appendEnvFieldRef(env, kPodNameVar, "metadata.name", true);
  res["k8s.pod.name"] = std::string("$(") + kPodNameVar + ")";
  if (inst.addK8sUIDAttributes() && res["k8s.pod.uid"].empty()) {
    appendEnvFieldRef(env, kPodUidVar, "metadata.uid", true);
    res["k8s.pod.uid"] = std::string("$(") + kPodUidVar + ")";
  }
  int idx = indexOfEnv(env, kResourceAttrsVar);
  if (idx < 0 || api::str(env[static_cast<size_t>(idx)], {"value"}).find("service.version") == std::string::npos) {
    std::string v = chooseServiceVersion(pod, useLabels, appCopy);
    if (!v.empty()) res["service.version"] = v;
  }
  if (res["k8s.node.name"].empty()) {
    appendEnvFieldRef(env, kNodeNameVar, "spec.nodeName", true);
    res["k8s.node.name"] = std::string("$(") + kNodeNameVar + ")";
  }
  std::string resStr;
  for (const auto& [k, v] : res) {
    if (v.empty() && k != "k8s.pod.name") continue;
    resStr += (resStr.empty() ? "" : ",") + k + "=" + v;
  }
  idx = indexOfEnv(env, kResourceAttrsVar);
  if (idx < 0) {
    appendEnv(env, kResourceAttrsVar, resStr);
  } else {
    Json& e = env[static_cast<size_t>(idx)];
    std::string cur = api::str(e, {"value"});
    if (cur.empty() || cur.back() != ',') resStr = "," + resStr;
    e["value"] = cur + resStr;
  }
  auto props = inst.propagators();
  if (indexOfEnv(env, "OTEL_PROPAGATORS") < 0 && !props.empty()) {
    std::string s;
    for (const auto& p : props) s += (s.empty() ? "" : ",") + p;
    appendEnv(env, "OTEL_PROPAGATORS", s);
  }
  if (indexOfEnv(env, "OTEL_TRACES_SAMPLER") < 0 && !inst.samplerType().empty() &&
      indexOfEnv(env, "OTEL_TRACES_SAMPLER_ARG") < 0) {
    appendEnv(env, "OTEL_TRACES_SAMPLER", inst.samplerType());
    if (!inst.samplerArgument().empty()) appendEnv(env, "OTEL_TRACES_SAMPLER_ARG", inst.samplerArgument());
  }
  moveEnvToEnd(env, kResourceAttrsVar);
}

// "" when the env var is absent or a plain value; upstream's message when it uses valueFrom.
std::string validateContainerEnv(const Json& container, std::initializer_list<const char*> names) {
  if (!container.contains("env")) return "";
  for (const char* n : names) {
    int i = indexOfEnv(container["env"], n);
    if (i >= 0 && container["env"][static_cast<size_t>(i)].contains("valueFrom"))
      return std::string("the container defines env var value via ValueFrom, envVar: ") + n;
  }
  return "";
}

void setOrAppend(Json& env, const std::string& name, const std::string& value) {
  int i = indexOfEnv(env, name);
  if (i < 0)
    appendEnv(env, name, value);
  else
    env[static_cast<size_t>(i)] = Json{{"name", name}, {"value", value}};
}

void addMount(Json& container, const std::string& name, const std::string& path) {
  Json& m = container["volumeMounts"];
  if (!m.is_array()) m = Json::array();
  m.push_back(Json{{"name", name}, {"mountPath", path}});
}

// ---- per-language ---------------------------------------------------------------------------------

struct LangRequest {
  Language lang;
  const Json* inst = nullptr;  // defaulted Instrumentation
  std::vector<std::string> containers;
};

struct Injector {
  const PodContext& ctx;
  const Options& opts;
  Json& pod;
  Result& result;

  std::vector<Target> targets(const LangRequest& req) {
    std::vector<std::string> names = req.containers;
    if (names.empty() && hasList(pod, "containers") && !pod["spec"]["containers"].empty())
      names.push_back(api::str(pod["spec"]["containers"][0], {"name"}));
    std::vector<std::pair<int, Target>> inits;
    std::vector<Target> regular;
    for (const auto& n : names) {
      if (hasList(pod, "initContainers")) {
        int i = indexByName(pod["spec"]["initContainers"], n);
        if (i >= 0) {
          inits.push_back({i, Target{true, n}});
          continue;
        }
      }
      if (hasList(pod, "containers") && indexByName(pod["spec"]["containers"], n) >= 0) regular.push_back(Target{false, n});
    }
    std::stable_sort(inits.begin(), inits.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<Target> out;
    for (auto& [i, t] : inits) out.push_back(t);
    out.insert(out.end(), regular.begin(), regular.end());
    return out;
  }

  void skip(Language l, const Target& t, const std::string& reason) {
    result.skips.push_back("skipping " + langTitle(l) + " injection into container " + t.name + ": " + reason);
  }
  void done(Language l, const Target& t) {
    result.actions.push_back("injected " + api::languageName(l) + " into " + (t.init ? "init container " : "container ") + t.name);
  }

  void simpleLanguage(const LangRequest& req) {
    InstrumentationView inst(*req.inst);
    const Language l = req.lang;
    auto ts = targets(req);
    if (ts.empty()) return;
    const std::string lname = api::languageName(l);
    const std::string volName = std::string(kVolumePrefix) + "-" + lname;
    const std::string initName = volName;
    const std::string mountBase = "/otel-auto-instrumentation-" + lname;
    std::string platform, runtime;
    if (l == Language::Python) platform = effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), kPythonPlatformAnnotation);
    if (l == Language::DotNet) runtime = effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), kDotNetRuntimeAnnotation);
    int injected = 0;
    for (const auto& t : ts) {
      Json& c = *findTarget(pod, t);
      std::string err;
      switch (l) {
        case Language::Java: err = validateContainerEnv(c, {"JAVA_TOOL_OPTIONS"}); break;
        case Language::NodeJS: err = validateContainerEnv(c, {"NODE_OPTIONS"}); break;
        case Language::Python:
          err = validateContainerEnv(c, {"PYTHONPATH"});
          if (err.empty() && !platform.empty() && platform != "glibc" && platform != "musl")
            err = "provided instrumentation.opentelemetry.io/otel-python-platform annotation value '" + platform +
                  "' is not supported";
          break;
        case Language::DotNet:
          err = validateContainerEnv(c, {"DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "DOTNET_SHARED_STORE"});
          if (err.empty() && c.contains("env") && indexOfEnv(c["env"], "OTEL_DOTNET_AUTO_HOME") >= 0)
            err = "OTEL_DOTNET_AUTO_HOME environment variable is already set in the container";
          if (err.empty() && indexOfEnv(inst.languageEnv(l), "OTEL_DOTNET_AUTO_HOME") >= 0)
            err = "OTEL_DOTNET_AUTO_HOME environment variable is already set in the .NET instrumentation spec";
          if (err.empty() && !runtime.empty() && runtime != "linux-x64" && runtime != "linux-musl-x64")
            err = "provided instrumentation.opentelemetry.io/dotnet-runtime annotation value '" + runtime +
                  "' is not supported";
          break;
        default: break;
      }
      if (!err.empty()) {
        skip(l, t, err);
        continue;
      }
      Json& env = containerEnv(c);
      appendIfNotSet(env, inst.languageEnv(l));
      if (l == Language::Python) {
        const std::string prefix = "/otel-auto-instrumentation-python/opentelemetry/instrumentation/auto_instrumentation";
        int i = indexOfEnv(env, "PYTHONPATH");
        if (i < 0)
          appendEnv(env, "PYTHONPATH", prefix + ":/otel-auto-instrumentation-python");
        else
          env[static_cast<size_t>(i)]["value"] =
              prefix + ":" + api::str(env[static_cast<size_t>(i)], {"value"}) + ":/otel-auto-instrumentation-python";
      }
      addMount(c, volName, l == Language::Java ? mountBase + "-" + t.name : mountBase);
      injectCommonEnvVar(inst, c);
      Json& env2 = containerEnv(c);
      switch (l) {
        case Language::Java: {
          std::string mp = mountBase + "-" + t.name;
          std::string arg = " -javaagent:" + mp + "/javaagent.jar";
          const Json& sec = inst.language(l);
          if (sec.contains("extensions") && sec["extensions"].is_array() && !sec["extensions"].empty())
            arg += " -Dotel.javaagent.extensions=" + mp + "/extensions";
          int i = indexOfEnv(env2, "JAVA_TOOL_OPTIONS");
          if (i < 0)
            appendEnv(env2, "JAVA_TOOL_OPTIONS", arg);
          else if (!env2[static_cast<size_t>(i)].contains("valueFrom"))
            setOrAppend(env2, "JAVA_TOOL_OPTIONS", api::str(env2[static_cast<size_t>(i)], {"value"}) + arg);
          break;
        }
        case Language::NodeJS: {
          const std::string arg = " --require /otel-auto-instrumentation-nodejs/autoinstrumentation.js";
          int i = indexOfEnv(env2, "NODE_OPTIONS");
          if (i < 0)
            appendEnv(env2, "NODE_OPTIONS", arg);
          else if (!env2[static_cast<size_t>(i)].contains("valueFrom"))
            setOrAppend(env2, "NODE_OPTIONS", api::str(env2[static_cast<size_t>(i)], {"value"}) + arg);
          if (indexOfEnv(env2, "OTEL_METRICS_EXPORTER") < 0) appendEnv(env2, "OTEL_METRICS_EXPORTER", "otlp");
          break;
        }
        case Language::Python:
          appendIfNotSet(env2, Json::array({Json{{"name", "OTEL_EXPORTER_OTLP_PROTOCOL"}, {"value", "http/protobuf"}},
                                            Json{{"name", "OTEL_TRACES_EXPORTER"}, {"value", "otlp"}},
                                            Json{{"name", "OTEL_METRICS_EXPORTER"}, {"value", "otlp"}},
                                            Json{{"name", "OTEL_LOGS_EXPORTER"}, {"value", "otlp"}}}));
          break;
        case Language::DotNet: {
          const std::string home = "/otel-auto-instrumentation-dotnet";
          std::string profiler = home + (runtime == "linux-musl-x64" ? "/linux-musl" : "/linux") +
                                 "/OpenTelemetry.AutoInstrumentation.Native.so";
          auto set = [&](const char* n, const std::string& v, bool concat) {
            int i = indexOfEnv(env2, n);
            if (i < 0)
              appendEnv(env2, n, v);
            else if (concat)
              env2[static_cast<size_t>(i)]["value"] = api::str(env2[static_cast<size_t>(i)], {"value"}) + ":" + v;
          };
          set("CORECLR_ENABLE_PROFILING", "1", false);
          set("CORECLR_PROFILER", "{918728DD-259F-4A6A-AC2B-B85E1B658318}", false);
          set("CORECLR_PROFILER_PATH", profiler, false);
          set("DOTNET_STARTUP_HOOKS", home + "/net/OpenTelemetry.AutoInstrumentation.StartupHook.dll", true);
          set("DOTNET_ADDITIONAL_DEPS", home + "/AdditionalDeps", true);
          set("OTEL_DOTNET_AUTO_HOME", home, false);
          set("DOTNET_SHARED_STORE", home + "/store", true);
          break;
        }
        default: break;
      }
      injectCommonSDKConfig(inst, ctx, pod, t, t);
      done(l, t);
      ++injected;
    }
    // Pod level: volume and init container(s) once, before the first target init container. (Upstream
    // adds them even when every container was skipped; we do not add an agent nobody uses.)
    if (injected > 0 && !hasInitContainer(pod, initName)) {
      list(pod, "volumes").push_back(instrVolume(inst, l, volName));
      Json mounts = Json::array({Json{{"name", volName}, {"mountPath", mountBase}}});
      Json cmd;
      switch (l) {
        case Language::Java: cmd = Json::array({"cp", "/javaagent.jar", mountBase + "/javaagent.jar"}); break;
        case Language::Python:
          cmd = Json::array({"cp", "-r", platform == "musl" ? "/autoinstrumentation-musl/." : "/autoinstrumentation/.", mountBase});
          break;
        default: cmd = Json::array({"cp", "-r", "/autoinstrumentation/.", mountBase}); break;
      }
      insertInitContainer(pod, makeInitContainer(initName, inst.image(l), cmd, inst.resources(l), mounts, inst.imagePullPolicy()),
                          ts.front());
      if (l == Language::Java) {
        const Json& sec = inst.language(l);
        if (sec.contains("extensions") && sec["extensions"].is_array()) {
          int i = 0;
          for (const auto& ext : sec["extensions"]) {
            Json c = makeInitContainer(std::string(kVolumePrefix) + "-extension-" + std::to_string(i++), api::str(ext, {"image"}),
                                       Json::array({"cp", "-r", api::str(ext, {"dir"}) + "/.", mountBase + "/extensions"}),
                                       inst.resources(l), mounts, "");
            insertInitContainer(pod, c, ts.front());
          }
        }
      }
      Json* first = findTarget(pod, ts.front());
      const Json* appSc = first && first->contains("securityContext") ? &(*first)["securityContext"] : nullptr;
      Json scCopy = appSc ? *appSc : Json();
      setInitSecurityContext(pod, inst, l, appSc ? &scCopy : nullptr, initName);
    }
  }

  void goLanguage(const LangRequest& req) {
    InstrumentationView inst(*req.inst);
    std::string name = req.containers.empty() && hasList(pod, "containers") && !pod["spec"]["containers"].empty()
                           ? api::str(pod["spec"]["containers"][0], {"name"})
                           : (req.containers.empty() ? "" : req.containers.front());
    Target app{false, name};
    if (hasInitContainer(pod, name)) {
      skip(Language::Go, Target{true, name}, "is init container");
      return;
    }
    if (!findTarget(pod, app)) return;
    Json original = pod;
    if (pod["spec"].contains("shareProcessNamespace") && pod["spec"]["shareProcessNamespace"].is_boolean() &&
        !pod["spec"]["shareProcessNamespace"].get<bool>()) {
      skip(Language::Go, app, "shared process namespace has been explicitly disabled");
      return;
    }
    std::string goNames = podAnnotation(pod, containerNamesAnnotation(Language::Go));
    if (!opts.containers.empty() && std::find(opts.languages.begin(), opts.languages.end(), Language::Go) != opts.languages.end()) {
      goNames.clear();
      for (const auto& c : opts.containers) goNames += (goNames.empty() ? "" : ",") + c;
    }
    if (std::count(goNames.begin(), goNames.end(), ',') > 0) {
      skip(Language::Go, app, "go instrumentation cannot be injected into a pod, multiple containers configured");
      return;
    }
    pod["spec"]["shareProcessNamespace"] = true;
    const Json& sec = inst.language(Language::Go);
    Json agent = Json::object();
    agent["name"] = kGoSidecarName;
    agent["image"] = inst.image(Language::Go);
    Json env = Json::array();
    std::string exe = opts.goTargetExe.empty() ? podAnnotation(pod, kGoTargetExeAnnotation) : opts.goTargetExe;
    if (!exe.empty() || podAnnotations(pod).contains(kGoTargetExeAnnotation)) appendEnv(env, "OTEL_GO_AUTO_TARGET_EXE", exe);
    appendIfNotSet(env, inst.languageEnv(Language::Go));
    agent["env"] = env;
    if (const Json* r = inst.resources(Language::Go)) agent["resources"] = *r;
    agent["volumeMounts"] = Json::array({Json{{"name", "kernel-debug"}, {"mountPath", "/sys/kernel/debug"}}});
    if (!inst.imagePullPolicy().empty()) agent["imagePullPolicy"] = inst.imagePullPolicy();
    agent["securityContext"] = sec.contains("securityContext") && sec["securityContext"].is_object()
                                   ? sec["securityContext"]
                                   : Json{{"runAsUser", 0}, {"privileged", true}};
    list(pod, "containers").push_back(agent);
    list(pod, "volumes").push_back(Json{{"name", "kernel-debug"}, {"hostPath", Json{{"path", "/sys/kernel/debug"}}}});
    Target sidecar{false, kGoSidecarName};
    injectCommonEnvVar(inst, *findTarget(pod, sidecar));
    injectCommonSDKConfig(inst, ctx, pod, sidecar, app);
    if (indexOfEnv((*findTarget(pod, sidecar))["env"], "OTEL_GO_AUTO_TARGET_EXE") < 0) {
      pod = original;
      skip(Language::Go, app, "OTEL_GO_AUTO_TARGET_EXE not set");
      return;
    }
    done(Language::Go, app);
  }

  std::string webResourceConfig(const InstrumentationView& inst, Language l, const Json& container, ResourceMap& res) {
    std::string endpoint = inst.endpoint();
    if (endpoint.empty()) endpoint = "http://localhost:4317/";
    std::string serviceName = chooseServiceName(pod, inst.useLabelsForResourceAttributes(), res, container);
    std::string sns = api::str(pod, {"metadata", "namespace"});
    if (sns.empty()) sns = res.count("k8s.namespace.name") ? res["k8s.namespace.name"] : "";
    if (sns.empty()) sns = l == Language::Nginx ? "nginx" : "apache-httpd";
    const Json& sec = inst.language(l);
    std::map<std::string, std::string> attrs;
    std::string prefix = l == Language::Nginx ? "NginxModule" : "ApacheModule";
    attrs[prefix + "Enabled"] = "ON";
    attrs[prefix + "OtelSpanExporter"] = "otlp";
    attrs[prefix + "OtelExporterEndpoint"] = endpoint;
    attrs[prefix + "ServiceName"] = serviceName;
    attrs[prefix + "ServiceNamespace"] = sns;
    attrs[prefix + "ServiceInstanceId"] = "<<SID-PLACEHOLDER>>";
    attrs[prefix + "ResolveBackends"] = l == Language::Nginx ? "ON" : " ON";
    attrs[prefix + "TraceAsError"] = l == Language::Nginx ? "ON" : " ON";
    if (sec.contains("attrs") && sec["attrs"].is_array())
      for (const auto& a : sec["attrs"]) attrs[api::str(a, {"name"})] = api::str(a, {"value"});
    std::string out;
    if (l == Language::ApacheHttpd) {
      const std::string d = kWebAgentDir;
      std::string suffix = api::str(sec, {"version"}) == "2.2" ? "22" : "";
      out = "\n#Load the Otel Webserver SDK\n";
      for (const char* lib : {"common", "resources", "trace", "otlp_recordable", "exporter_ostream_span", "exporter_otlp_grpc"})
        out += "LoadFile " + d + "/sdk_lib/lib/libopentelemetry_" + lib + ".so\n";
      out += "#Load the Otel ApacheModule SDK\nLoadFile " + d + "/sdk_lib/lib/libopentelemetry_webserver_sdk.so\n";
      out += "#Load the Apache Module. In this example for Apache 2.4\n#LoadModule otel_apache_module " + d +
             "/WebServerModule/Apache/libmod_apache_otel.so\n";
      out += "#Load the Apache Module. In this example for Apache 2.2\n#LoadModule otel_apache_module " + d +
             "/WebServerModule/Apache/libmod_apache_otel22.so\n";
      out += "LoadModule otel_apache_module " + d + "/WebServerModule/Apache/libmod_apache_otel" + suffix + ".so\n#Attributes\n";
      for (auto& [k, v] : attrs) out += k + " " + v + "\n";
    } else {
      for (auto& [k, v] : attrs) out += k + " " + v + ";\n";
    }
    return out;
  }

  void webServer(const LangRequest& req) {
    InstrumentationView inst(*req.inst);
    const Language l = req.lang;
    const bool nginx = l == Language::Nginx;
    const Json& sec = inst.language(l);
    for (const auto& t : targets(req)) {
      if (t.init) {
        skip(l, t, "is init container");
        continue;
      }
      Json appCopy = *findTarget(pod, t);
      ResourceMap res = createResourceMap(inst, ctx, pod, appCopy);
      {
        Json& c = *findTarget(pod, t);
        appendIfNotSet(containerEnv(c), inst.languageEnv(l));
      }
      const std::string confVol = nginx ? "otel-nginx-conf-dir" : "otel-apache-conf-dir";
      const std::string agentVol = nginx ? "otel-nginx-agent" : "otel-apache-agent";
      std::string confDir, confFile;
      if (nginx) {
        std::string f = api::str(sec, {"configFile"});
        if (f.empty()) f = "/etc/nginx/nginx.conf";
        auto slash = f.rfind('/');
        confDir = slash == std::string::npos ? "." : (slash == 0 ? "/" : f.substr(0, slash));
        confFile = f.substr(slash == std::string::npos ? 0 : slash + 1);
      } else {
        confDir = api::str(sec, {"configPath"});
        if (confDir.empty()) confDir = "/usr/local/apache2/conf";
        if (confDir.size() > 1 && confDir.back() == '/') confDir.pop_back();
      }
      if (!hasInitContainer(pod, kApacheClone)) {
        Json confVolume = {{"name", confVol}, {"emptyDir", Json::object()}};
        if (!nginx) {
          std::string size = inst.volumeLimitSize(l);
          confVolume["emptyDir"] = Json{{"sizeLimit", size.empty() ? "200Mi" : size}};
        }
        list(pod, "volumes").push_back(confVolume);
        Json& c = *findTarget(pod, t);
        Json clone = Json::object();
        clone["name"] = kApacheClone;
        clone["image"] = c.contains("image") ? c["image"] : Json("");
        if (nginx) {
          clone["command"] = Json::array({"/bin/sh", "-c"});
          clone["args"] = Json::array({"cp -r " + confDir + "/* " + kWebConfDir + " && export NGINX_VERSION=\"$( { nginx -v ; } 2>&1 )\" && echo ${NGINX_VERSION##*/} > " +
                                       kWebConfDir + "/version.txt"});
        } else {
          clone["command"] = Json::array({"cp", "-r", confDir + "/.", kWebConfDir});
        }
        if (c.contains("envFrom")) clone["envFrom"] = c["envFrom"];
        if (c.contains("env") && !c["env"].empty()) clone["env"] = c["env"];
        if (const Json* r = inst.resources(l)) clone["resources"] = *r;
        Json mounts = c.contains("volumeMounts") && c["volumeMounts"].is_array() ? c["volumeMounts"] : Json::array();
        mounts.push_back(Json{{"name", confVol}, {"mountPath", kWebConfDir}});
        clone["volumeMounts"] = mounts;
        if (c.contains("imagePullPolicy")) clone["imagePullPolicy"] = c["imagePullPolicy"];
        const Json* sc = nginx && sec.contains("securityContext") ? &sec["securityContext"]
                                                                  : (c.contains("securityContext") ? &c["securityContext"] : nullptr);
        if (sc) clone["securityContext"] = *sc;
        list(pod, "initContainers").push_back(clone);
        Json& c2 = *findTarget(pod, t);
        if (c2.contains("volumeMounts") && c2["volumeMounts"].is_array()) {
          Json& vm = c2["volumeMounts"];
          for (size_t i = 0; i < vm.size(); ++i)
            if (api::str(vm[i], {"mountPath"}).find(confDir) != std::string::npos) {
              vm.erase(i);
              break;
            }
        }
        addMount(c2, agentVol, kWebAgentDir);
        addMount(c2, confVol, confDir);
      }
      const std::string attach = nginx ? kNginxAttach : kApacheAttach;
      if (!hasInitContainer(pod, attach)) {
        Json agentVolume = nginx ? Json{{"name", agentVol}, {"emptyDir", Json::object()}} : instrVolume(inst, l, agentVol);
        list(pod, "volumes").push_back(agentVolume);
        Json a = Json::object();
        a["name"] = attach;
        a["image"] = inst.image(l);
        a["command"] = Json::array({"/bin/sh", "-c"});
        const std::string d = kWebAgentDir, cd = kWebConfDir;
        Json env = Json::array();
        if (nginx) {
          a["args"] = Json::array({"echo -e $OTEL_NGINX_I13N_SCRIPT > " + d + "/nginx_instrumentation.sh && chmod +x " + d +
                                   "/nginx_instrumentation.sh && cat " + d + "/nginx_instrumentation.sh && " + d +
                                   "/nginx_instrumentation.sh \"" + d + "\" \"" + cd + "\" \"" + confFile +
                                   "\" \"<<SID-PLACEHOLDER>>\""});
          appendEnv(env, "OTEL_NGINX_AGENT_CONF", webResourceConfig(inst, l, appCopy, res));
          appendEnv(env, "OTEL_NGINX_I13N_SCRIPT", nginxScript());
          appendEnvFieldRef(env, "OTEL_NGINX_SERVICE_INSTANCE_ID", "metadata.name", false);
        } else {
          a["args"] = Json::array(
              {"cp -r /opt/opentelemetry/* " + d + " && export agentLogDir=$(echo \"" + d +
               "/logs\" | sed 's,/,\\\\/,g') && cat " + d + "/conf/opentelemetry_sdk_log4cxx.xml.template | sed 's/__agent_log_dir__/'${agentLogDir}'/g'  > " +
               d + "/conf/opentelemetry_sdk_log4cxx.xml &&echo \"$OTEL_APACHE_AGENT_CONF\" > " + cd +
               "/opentemetry_agent.conf && sed -i 's/<<SID-PLACEHOLDER>>/'${APACHE_SERVICE_INSTANCE_ID}'/g' " + cd +
               "/opentemetry_agent.conf && echo -e '\nInclude " + confDir + "/opentemetry_agent.conf' >> " + cd + "/httpd.conf"});
          // The attach container also gets the language and common env, then the pod and node IPs
          // (upstream e2e multi-instrumentation assert).
          appendIfNotSet(env, inst.languageEnv(l));
          appendIfNotSet(env, inst.env());
          if (indexOfEnv(env, "OTEL_POD_IP") < 0) appendEnvFieldRef(env, "OTEL_POD_IP", "status.podIP", false);
          if (indexOfEnv(env, "OTEL_NODE_IP") < 0) appendEnvFieldRef(env, "OTEL_NODE_IP", "status.hostIP", false);
          appendEnv(env, "OTEL_APACHE_AGENT_CONF", webResourceConfig(inst, l, appCopy, res));
          appendEnvFieldRef(env, "APACHE_SERVICE_INSTANCE_ID", "metadata.name", false);
        }
        a["env"] = env;
        if (const Json* r = inst.resources(l)) a["resources"] = *r;
        a["volumeMounts"] = Json::array({Json{{"name", agentVol}, {"mountPath", d}}, Json{{"name", confVol}, {"mountPath", cd}}});
        if (!inst.imagePullPolicy().empty()) a["imagePullPolicy"] = inst.imagePullPolicy();
        Json& c = *findTarget(pod, t);
        const Json* sc = sec.contains("securityContext") ? &sec["securityContext"]
                                                         : (c.contains("securityContext") ? &c["securityContext"] : nullptr);
        if (sc) a["securityContext"] = *sc;
        list(pod, "initContainers").push_back(a);
        if (nginx) {
          Json& env2 = containerEnv(*findTarget(pod, t));
          int i = indexOfEnv(env2, "LD_LIBRARY_PATH");
          if (i >= 0)
            env2[static_cast<size_t>(i)]["value"] = api::str(env2[static_cast<size_t>(i)], {"value"}) + ":" + d + "/sdk_lib/lib";
          else
            appendEnv(env2, "LD_LIBRARY_PATH", d + "/sdk_lib/lib");
        }
      }
      injectCommonEnvVar(inst, *findTarget(pod, t));
      injectCommonSDKConfig(inst, ctx, pod, t, t);
      if (!nginx && !sec.contains("securityContext")) {
        // upstream re-applies the resolved security context to both init containers
        Json& c = *findTarget(pod, t);
        Json sc = c.contains("securityContext") ? c["securityContext"] : Json();
        for (auto& ic : pod["spec"]["initContainers"])
          if (api::str(ic, {"name"}) == kApacheAttach || api::str(ic, {"name"}) == kApacheClone) {
            if (sc.is_null())
              ic.erase("securityContext");
            else
              ic["securityContext"] = sc;
          }
      }
      done(l, t);
    }
  }

  static std::string nginxScript() {
    return "\nNGINX_AGENT_DIR_FULL=$1\t\\n\nNGINX_AGENT_CONF_DIR_FULL=$2 \\n\nNGINX_CONFIG_FILE=$3 \\n\n"
           "NGINX_SID_PLACEHOLDER=$4 \\n\nNGINX_SID_VALUE=$5 \\n\necho \"Input Parameters: $@\" \\n\nset -x \\n\n\\n\n"
           "cp -r /opt/opentelemetry/* ${NGINX_AGENT_DIR_FULL} \\n\n\\n\n"
           "NGINX_VERSION=$(cat ${NGINX_AGENT_CONF_DIR_FULL}/version.txt) \\n\n"
           "NGINX_AGENT_LOG_DIR=$(echo \"${NGINX_AGENT_DIR_FULL}/logs\" | sed 's,/,\\\\/,g') \\n\n\\n\n"
           "cat ${NGINX_AGENT_DIR_FULL}/conf/opentelemetry_sdk_log4cxx.xml.template | sed 's,__agent_log_dir__,'${NGINX_AGENT_LOG_DIR}',g'  > ${NGINX_AGENT_DIR_FULL}/conf/opentelemetry_sdk_log4cxx.xml \\n\n"
           "echo -e $OTEL_NGINX_AGENT_CONF > ${NGINX_AGENT_CONF_DIR_FULL}/opentelemetry_agent.conf \\n\n"
           "sed -i \"s,${NGINX_SID_PLACEHOLDER},${OTEL_NGINX_SERVICE_INSTANCE_ID},g\" ${NGINX_AGENT_CONF_DIR_FULL}/opentelemetry_agent.conf \\n\n"
           "sed -i \"1s,^,load_module ${NGINX_AGENT_DIR_FULL}/WebServerModule/Nginx/${NGINX_VERSION}/ngx_http_opentelemetry_module.so;\\\\n,g\" ${NGINX_AGENT_CONF_DIR_FULL}/${NGINX_CONFIG_FILE} \\n\n"
           "sed -i \"1s,^,env OTEL_RESOURCE_ATTRIBUTES;\\\\n,g\" ${NGINX_AGENT_CONF_DIR_FULL}/${NGINX_CONFIG_FILE} \\n\n"
           "mv ${NGINX_AGENT_CONF_DIR_FULL}/opentelemetry_agent.conf  ${NGINX_AGENT_CONF_DIR_FULL}/conf.d \\n\n\t\t";
  }

  void sdk(const LangRequest& req) {
    InstrumentationView inst(*req.inst);
    for (const auto& t : targets(req)) {
      injectCommonEnvVar(inst, *findTarget(pod, t));
      injectCommonSDKConfig(inst, ctx, pod, t, t);
      done(Language::Sdk, t);
    }
  }
};

bool validAnnotationName(const std::string& v) {
  // ^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ without std::regex (libstdc++'s
  // recurses per character: a long annotation value overflowed the stack)
  auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  auto part = [&](const std::string& p, bool dots) {
    if (p.empty() || !alnum(p.front()) || !alnum(p.back())) return false;
    return std::all_of(p.begin(), p.end(), [&](char ch) { return alnum(ch) || ch == '-' || (dots && ch == '.'); });
  };
  auto slash = v.find('/');
  if (slash == std::string::npos) return part(v, true);
  return part(v.substr(0, slash), false) && part(v.substr(slash + 1), true);
}


std::string containersAnnotationError(const std::string& v) {
  const bool valid = std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == ',';
  });
  if (v.empty() || valid) return "";
  return "not valid characters included in the instrumentation container annotation " + v;
}

// Selects the Instrumentation for an annotation value; nullptr + error when it cannot.
const Json* selectInstrumentation(const std::string& value, const PodContext& ctx, const std::vector<Json>& defaulted,
                                  std::string& error) {
  return selectByAnnotation(value, ctx.ns, defaulted, {"Instrumentation", "instrumentations.opentelemetry.io", nullptr, ""},
                            error);
}

bool hasContainerNamed(const Json& pod, const char* list, const std::string& name) {
  return hasList(pod, list) && indexByName(pod["spec"][list], name) >= 0;
}

// The sidecar half of the webhook. Returns false on a selection error (recorded in result.errors).
bool applySidecar(Json& pod, const PodContext& ctx, const Catalog& catalog, const Options& opts, Result& result) {
  std::string value = opts.sidecar ? (opts.collector.empty() ? "true" : opts.collector)
                                   : effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), kSidecarAnnotation);
  if (value.empty()) return true;
  if (opts.sidecar && iequals(effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), kSidecarAnnotation), "false")) {
    result.skips.push_back(std::string("sidecar: ") + kSidecarAnnotation + " is \"false\"");
    return true;
  }
  const bool present = hasContainerNamed(pod, "containers", kSidecarContainerName) ||
                       hasContainerNamed(pod, "initContainers", kSidecarContainerName);
  if (iequals(value, "false")) {
    if (!present) return true;
    for (const char* key : {"containers", "initContainers"}) {
      if (!hasList(pod, key)) continue;
      Json& l = pod["spec"][key];
      int i = indexByName(l, kSidecarContainerName);
      if (i >= 0) l.erase(static_cast<size_t>(i));
    }
    if (pod.contains("metadata") && pod["metadata"].contains("labels") && pod["metadata"]["labels"].is_object())
      pod["metadata"]["labels"].erase(kSidecarInjectedLabel);
    result.actions.push_back("removed sidecar otc-container (sidecar.opentelemetry.io/inject is false)");
    return true;
  }
  if (present) {
    result.skips.push_back("sidecar: skipping injection, otc-container already present");
    return true;
  }
  if (!opts.sidecar && !validAnnotationName(value) && !iequals(value, "true")) {
    result.errors.push_back("invalid value \"" + value + "\" for annotation " + kSidecarAnnotation +
                            ": want true, false, <name> or <namespace>/<name>");
    return false;
  }
  std::string error;
  const Json* collector = selectCollector(value, ctx, catalog, error);
  if (!collector) {
    const bool soft = error.rfind("no OpenTelemetry", 0) == 0 || error.rfind("multiple OpenTelemetry", 0) == 0 ||
                      error.rfind("the OpenTelemetry Collector's mode", 0) == 0;
    if (soft && !opts.strict) {
      result.skips.push_back("sidecar: " + error);
      return true;
    }
    result.errors.push_back("sidecar: " + error);
    return false;
  }
  Json c = sidecarContainer(*collector, ctx, opts.collectorImage, opts.nativeSidecar);
  if (opts.nativeSidecar)
    list(pod, "initContainers").push_back(c);
  else
    list(pod, "containers").push_back(c);
  Json vols = sidecarVolumes(*collector);
  for (const auto& v : vols) addVolumeOnce(pod, v);
  std::string cns = api::str(*collector, {"metadata", "namespace"});
  if (cns.empty()) cns = ctx.ns;
  std::string cname = api::str(*collector, {"metadata", "name"});
  Json& meta = pod["metadata"];
  if (!meta.is_object()) meta = Json::object();
  Json& labels = meta["labels"];
  if (!labels.is_object()) labels = Json::object();
  labels[kSidecarInjectedLabel] = cns + "." + cname;
  result.actions.push_back(std::string("injected sidecar ") + cns + "/" + cname +
                           (opts.nativeSidecar ? " (native, initContainers)" : ""));
  return true;
}

}  // namespace

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

bool asksForInjection(const std::string& key) {
  return key.starts_with(kSidecarAnnotationPrefix) || key.starts_with("instrumentation.opentelemetry.io/inject-");
}

bool readByInjection(const std::string& key) {
  return key.starts_with(kSidecarAnnotationPrefix) || key.starts_with(kInstrumentationAnnotationPrefix);
}

std::string injectAnnotation(Language l) { return kInstrumentationAnnotationPrefix + ("inject-" + api::languageName(l)); }

std::string containerNamesAnnotation(Language l) {
  if (l == Language::Nginx) return "instrumentation.opentelemetry.io/inject-nginx-container-names";
  return "instrumentation.opentelemetry.io/" + api::languageName(l) + "-container-names";
}

std::string effectiveAnnotation(const Json& nsAnnotations, const Json& podAnns, const std::string& key) {
  std::string pod = api::str(podAnns, {key});
  std::string ns = api::str(nsAnnotations, {key});
  if (ns.empty()) return pod;
  if (pod.empty()) return ns;
  if (!iequals(pod, "true")) return pod;
  if (iequals(ns, "false")) return pod;
  return ns;
}

bool isAutoInstrumentationInjected(const Json& pod) {
  if (hasList(pod, "initContainers"))
    for (const auto& c : pod["spec"]["initContainers"]) {
      std::string n = api::str(c, {"name"});
      for (const char* known : {"opentelemetry-auto-instrumentation-dotnet", "opentelemetry-auto-instrumentation-java",
                                "opentelemetry-auto-instrumentation-nodejs", "opentelemetry-auto-instrumentation-python",
                                kApacheAttach, kApacheClone})
        if (n == known) return true;
    }
  if (hasList(pod, "containers"))
    for (const auto& c : pod["spec"]["containers"]) {
      std::string n = api::str(c, {"name"});
      if (n == kGoSidecarName) return true;
      if (n != kSidecarContainerName && c.contains("env") && indexOfEnv(c["env"], kNodeNameVar) >= 0) return true;
    }
  return false;
}

Result injectPod(const Json& input, const PodContext& ctx, const Catalog& catalog, const Options& opts) {
  Result result;
  Json pod = input;
  if (!pod.is_object()) {
    result.errors.push_back("pod template is not an object");
    result.pod = input;
    return result;
  }
  const bool hadInit = hasList(pod, "initContainers");
  const bool hadVolumes = hasList(pod, "volumes");

  if (!applySidecar(pod, ctx, catalog, opts, result)) {
    result.pod = input;
    return result;
  }

  // Instrumentation: which languages are requested, and by which Instrumentation.
  std::vector<Json> defaulted;
  for (const auto& i : catalog.instrumentations) {
    Json d = i;
    api::defaultInstrumentation(d);
    defaulted.push_back(std::move(d));
  }
  std::vector<LangRequest> requests;
  bool ok = true;
  for (Language l : api::kAllLanguages) {
    std::string value;
    if (!opts.languages.empty()) {
      if (std::find(opts.languages.begin(), opts.languages.end(), l) != opts.languages.end()) {
        value = opts.instrumentation.empty() ? "true" : opts.instrumentation;
        // An explicit opt-out on the template or namespace wins over the command line.
        if (iequals(effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), injectAnnotation(l)), "false")) {
          result.skips.push_back(api::languageName(l) + ": " + injectAnnotation(l) + " is \"false\"");
          continue;
        }
      }
    } else {
      value = effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), injectAnnotation(l));
    }
    if (value.empty() || iequals(value, "false")) continue;
    if (!iequals(value, "true") && !validAnnotationName(value)) {
      result.errors.push_back("invalid value \"" + value + "\" for annotation " + injectAnnotation(l) +
                              ": want true, false, <name> or <namespace>/<name>");
      ok = false;
      break;
    }
    std::string error;
    const Json* inst = selectInstrumentation(value, ctx, defaulted, error);
    if (!inst) {
      result.errors.push_back(api::languageName(l) + ": " + error);
      ok = false;
      break;
    }
    if (!opts.enabled.count(l)) {
      result.skips.push_back("support for " + langTitle(l) + " auto instrumentation is not enabled");
      continue;
    }
    requests.push_back(LangRequest{l, inst, {}});
  }
  if (!ok) {
    result.pod = input;
    return result;
  }

  if (!requests.empty()) {
    if (isAutoInstrumentationInjected(pod)) {
      result.skips.push_back("skipping pod instrumentation - already instrumented");
      requests.clear();
    }
  }
  if (!requests.empty()) {
    // Container lists: the common list for every language, then each language's own list appended.
    std::string common;
    if (!opts.containers.empty()) {
      for (const auto& c : opts.containers) common += (common.empty() ? "" : ",") + c;
    } else {
      common = effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), kContainerNamesAnnotation);
    }
    std::string err = containersAnnotationError(common);
    for (auto& r : requests) {
      if (!err.empty()) break;
      if (!common.empty()) r.containers = splitCommas(common);
      if (opts.languages.empty() || opts.containers.empty()) {
        std::string own = effectiveAnnotation(ctx.nsAnnotations, podAnnotations(pod), containerNamesAnnotation(r.lang));
        err = containersAnnotationError(own);
        if (!own.empty() && err.empty())
          for (auto& n : splitCommas(own)) r.containers.push_back(n);
      }
    }
    if (!err.empty()) {
      result.errors.push_back(err);
      result.pod = input;
      return result;
    }
    // upstream areInstrumentedContainersCorrect
    std::map<std::string, int> counts;
    int with = 0, without = 0;
    for (const auto& r : requests) {
      (r.containers.empty() ? without : with)++;
      for (const auto& n : r.containers) counts[n]++;
    }
    std::vector<std::string> dups;
    for (auto& [n, k] : counts)
      if (!n.empty() && k > 1) dups.push_back(n);
    std::string problem;
    if (!dups.empty()) {
      problem = "duplicated container names detected: [";
      for (size_t i = 0; i < dups.size(); ++i) problem += (i ? " " : "") + dups[i];
      problem += "]";
    } else if ((without > 0 && with > 0) || without > 1) {
      problem = "incorrect instrumentation configuration - please provide container names for all instrumentations";
    }
    if (!problem.empty()) {
      result.skips.push_back("skipping instrumentation injection: " + problem);
      requests.clear();
    }
  }
  if (!requests.empty() && (!hasList(pod, "containers") || pod["spec"]["containers"].empty())) requests.clear();

  Injector injector{ctx, opts, pod, result};
  // upstream sdkInjector.inject order: java, nodejs, python, dotnet, go, apache-httpd, nginx, sdk.
  for (const auto& r : requests) {
    switch (r.lang) {
      case Language::Go: injector.goLanguage(r); break;
      case Language::ApacheHttpd:
      case Language::Nginx: injector.webServer(r); break;
      case Language::Sdk: injector.sdk(r); break;
      default: injector.simpleLanguage(r); break;
    }
  }
  if (!hadInit) dropEmpty(pod, "initContainers");
  if (!hadVolumes) dropEmpty(pod, "volumes");

  result.changed = pod != input;
  if (result.changed && opts.record) {
    Json withPlaceholder = pod;
    withPlaceholder["metadata"]["annotations"][kUndoAnnotation] = "";
    Json undo = makeUndo(input, withPlaceholder);
    pod["metadata"]["annotations"][kUndoAnnotation] = undo.dump();
  }
  result.pod = std::move(pod);
  return result;
}

Result annotatePod(const Json& input, const Options& opts) {
  Result result;
  Json pod = input;
  if (!pod.is_object()) {
    result.errors.push_back("pod template is not an object");
    result.pod = input;
    return result;
  }
  std::vector<std::pair<std::string, std::string>> wanted;
  for (Language l : opts.languages) {
    wanted.emplace_back(injectAnnotation(l), opts.instrumentation.empty() ? "true" : opts.instrumentation);
    if (l == Language::Go && !opts.goTargetExe.empty()) wanted.emplace_back(kGoTargetExeAnnotation, opts.goTargetExe);
  }
  if (!opts.containers.empty()) {
    std::string names;
    for (const auto& c : opts.containers) names += (names.empty() ? "" : ",") + c;
    wanted.emplace_back(kContainerNamesAnnotation, names);
  }
  if (opts.sidecar) wanted.emplace_back(kSidecarAnnotation, opts.collector.empty() ? "true" : opts.collector);
  for (const auto& [k, v] : wanted) {
    if (podAnnotation(pod, k) == v) continue;
    if (iequals(podAnnotation(pod, k), "false")) {  // an explicit opt-out on the template wins
      result.skips.push_back(k + " is \"false\"");
      continue;
    }
    Json& meta = pod["metadata"];
    if (!meta.is_object()) meta = Json::object();
    Json& ann = meta["annotations"];
    if (!ann.is_object()) ann = Json::object();
    ann[k] = v;
    result.actions.push_back("annotated " + k + "=" + v);
  }
  result.changed = pod != input;
  if (!result.changed && result.skips.empty()) result.skips.push_back("already annotated");
  if (result.changed && opts.record) {
    Json withPlaceholder = pod;
    withPlaceholder["metadata"]["annotations"][kUndoAnnotation] = "";
    pod["metadata"]["annotations"][kUndoAnnotation] = makeUndo(input, withPlaceholder).dump();
  }
  result.pod = std::move(pod);
  return result;
}

Result uninjectPod(const Json& input) {
  Result result;
  Json pod = input;
  int guard = 0;
  while (guard++ < 64) {
    std::string rec = podAnnotation(pod, kUndoAnnotation);
    if (rec.empty()) break;
    Json undo = Json::parse(rec, nullptr, false);
    if (undo.is_discarded() || !undo.is_array()) {
      result.errors.push_back(std::string("annotation ") + kUndoAnnotation + " is not a valid undo record");
      result.pod = input;
      return result;
    }
    applyUndo(pod, undo);
    if (podAnnotation(pod, kUndoAnnotation) == rec) {  // the record did not remove itself
      pod["metadata"]["annotations"].erase(kUndoAnnotation);
    }
  }
  result.changed = pod != input;
  if (result.changed)
    result.actions.push_back("removed everything kubectl-otel injected");
  else
    result.skips.push_back("nothing to remove: not injected by kubectl-otel");
  result.pod = std::move(pod);
  return result;
}

void addInlineInstrumentation(Catalog& catalog, Options& opts, const std::string& ns, const std::string& endpoint,
                              const std::vector<std::string>& propagators, const std::string& sampler) {
  if (endpoint.empty()) return;
  catalog.instrumentations.push_back(api::inlineInstrumentation("kubectl-otel-inline", ns, endpoint, propagators, sampler));
  if (!opts.languages.empty() && opts.instrumentation.empty()) opts.instrumentation = ns + "/kubectl-otel-inline";
}

}  // namespace otel::inject
