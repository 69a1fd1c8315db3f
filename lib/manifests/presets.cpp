#include "lib/manifests/presets.h"

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/instrumentation.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"

#include <algorithm>
#include <array>

namespace otel::manifests {

namespace {

Json presetConfig(const std::string& preset, const std::string& endpoint, bool ta) {
  Json cfg = Json::object();
  cfg["receivers"] = {{"otlp", {{"protocols", {{"grpc", Json::object()}, {"http", Json::object()}}}}}};
  Json processors = {{"memory_limiter", {{"check_interval", "1s"}, {"limit_percentage", 75}, {"spike_limit_percentage", 15}}},
                     {"batch", Json::object()}};
  if (preset == "agent") processors["k8sattributes"] = Json::object();
  cfg["processors"] = processors;
  std::string exporter = endpoint.empty() ? "debug" : "otlp_grpc";
  if (endpoint.empty())
    cfg["exporters"] = {{"debug", Json::object()}};
  else
    cfg["exporters"] = {{"otlp_grpc", {{"endpoint", endpoint}}}};
  Json procList = preset == "agent" ? Json::array({"memory_limiter", "k8sattributes", "batch"}) : Json::array({"memory_limiter", "batch"});
  Json pipelines = Json::object();
  for (const char* signal : {"traces", "metrics", "logs"})
    pipelines[signal] = {{"receivers", Json::array({"otlp"})}, {"processors", procList}, {"exporters", Json::array({exporter})}};
  if (ta) {
    cfg["receivers"]["prometheus"] = {
        {"config", {{"scrape_configs", Json::array({{{"job_name", "otel-collector"},
                                                      {"scrape_interval", "30s"},
                                                      {"static_configs", Json::array({{{"targets", Json::array({"0.0.0.0:8888"})}}})}}})}}}};
    pipelines["metrics"]["receivers"].push_back("prometheus");
  }
  cfg["service"] = {{"pipelines", pipelines}};
  return cfg;
}

}  // namespace

Json collectorFromParams(const CollectorParams& p) {
  if (p.name.empty()) throw Error("a collector name is required", "NAME", "kubectl otel create collector NAME ...");
  if (!p.preset.empty() && p.config) throw Error("use either --config or --preset, not both", "--config");
  std::string preset = p.preset;
  if (preset.empty() && !p.config) preset = "gateway";
  if (!preset.empty() && preset != "gateway" && preset != "agent" && preset != "sidecar")
    throw Error("unknown preset \"" + preset + "\"", "--preset", "use gateway, agent or sidecar");
  std::string mode = p.mode;
  if (mode.empty()) {
    if (preset == "agent") mode = api::kModeDaemonSet;
    else if (preset == "sidecar") mode = api::kModeSidecar;
    else if (p.targetAllocator) mode = p.strategy == "per-node" ? api::kModeDaemonSet : api::kModeStatefulSet;
    else mode = api::kModeDeployment;
  }
  if (!api::isValidMode(mode))
    throw Error("unknown mode \"" + mode + "\"", "--mode", "use deployment, daemonset, statefulset or sidecar");
  if (!p.strategy.empty() && !api::isKnownAllocationStrategy(p.strategy))
    throw Error("unknown allocation strategy \"" + p.strategy + "\"", "--strategy",
                "use consistent-hashing, least-weighted, per-node or rendezvous");
  if (!p.strategy.empty() && !p.targetAllocator) throw Error("--strategy needs --target-allocator", "--strategy");
  if (p.prometheusCR && !p.targetAllocator) throw Error("--prometheus-cr needs --target-allocator", "--prometheus-cr");
  if (p.replicas && *p.replicas < 0) throw Error("must not be negative", "--replicas");
  Json cr = Json::object();
  cr["apiVersion"] = api::kV1beta1;
  cr["kind"] = api::kCollectorKind;
  cr["metadata"] = {{"name", p.name}};
  if (!p.ns.empty()) cr["metadata"]["namespace"] = p.ns;
  Json spec = Json::object();
  spec["mode"] = mode;
  if (p.replicas) spec["replicas"] = *p.replicas;
  if (!p.image.empty()) spec["image"] = p.image;
  if (p.targetAllocator) {
    Json ta = {{"enabled", true}};
    std::string strategy = p.strategy;
    if (strategy.empty() && mode == api::kModeDaemonSet) strategy = "per-node";
    if (!strategy.empty()) ta["allocationStrategy"] = strategy;
    if (p.prometheusCR)
      ta["prometheusCR"] = {{"enabled", true}, {"serviceMonitorSelector", Json::object()}, {"podMonitorSelector", Json::object()}};
    spec["targetAllocator"] = ta;
  }
  spec["config"] = p.config ? *p.config : presetConfig(preset, p.exporterEndpoint, p.targetAllocator);
  if (p.config && !p.exporterEndpoint.empty())
    throw Error("--exporter-endpoint only applies to --preset configs", "--exporter-endpoint");
  cr["spec"] = spec;
  return cr;
}

Json instrumentationFromParams(const InstrumentationParams& p) {
  if (p.name.empty())
    throw Error("an Instrumentation name is required", "NAME", "kubectl otel create instrumentation NAME --endpoint URL");
  static constexpr std::array<const char*, 8> kPropagators = {"tracecontext", "baggage", "b3",      "b3multi",
                                                               "jaeger",       "xray",    "ottrace", "none"};
  static constexpr std::array<const char*, 8> kSamplers = {"always_on",          "always_off",
                                                           "traceidratio",       "parentbased_always_on",
                                                           "parentbased_always_off", "parentbased_traceidratio",
                                                           "jaeger_remote",      "xray"};
  auto listOf = [](const auto& values) {
    std::string s;
    for (const char* v : values) s += (s.empty() ? "" : ", ") + std::string(v);
    return s;
  };
  auto known = [](const auto& values, const std::string& v) {
    return std::find_if(values.begin(), values.end(), [&](const char* x) { return v == x; }) != values.end();
  };
  Json cr = {{"apiVersion", api::kInstrumentationApiVersion}, {"kind", api::kInstrumentationKind}};
  cr["metadata"] = Json{{"name", p.name}};
  if (!p.ns.empty()) cr["metadata"]["namespace"] = p.ns;
  Json spec = Json::object();
  if (!p.endpoint.empty()) {
    if (p.endpoint.rfind("http://", 0) != 0 && p.endpoint.rfind("https://", 0) != 0)
      throw Error("endpoint \"" + p.endpoint + "\" needs a scheme", "--endpoint",
                  "for example --endpoint http://otel-collector:4318");
    spec["exporter"] = Json{{"endpoint", p.endpoint}};
  }
  Json props = Json::array();
  for (const auto& prop : p.propagators.empty() ? std::vector<std::string>{"tracecontext", "baggage"} : p.propagators) {
    if (!known(kPropagators, prop))
      throw Error("unknown propagator \"" + prop + "\"", "--propagators", "use " + listOf(kPropagators));
    props.push_back(prop);
  }
  spec["propagators"] = props;
  std::string sampler = p.sampler.empty() ? "parentbased_traceidratio=1" : p.sampler;
  auto eq = sampler.find('=');
  std::string type = sampler.substr(0, eq);
  if (!known(kSamplers, type))
    throw Error("unknown sampler type \"" + type + "\"", "--sampler", "use " + listOf(kSamplers) + " (TYPE or TYPE=ARGUMENT)");
  Json s = Json{{"type", type}};
  if (eq != std::string::npos) s["argument"] = sampler.substr(eq + 1);
  spec["sampler"] = s;
  for (const auto& [lang, image] : p.images) {
    auto l = api::parseLanguage(lang);
    if (!l || *l == api::Language::Sdk)
      throw Error("unknown language \"" + lang + "\"", "--" + lang + "-image",
                  "images are set for java, nodejs, python, dotnet, go, apache-httpd and nginx");
    if (image.empty()) throw Error("the image must not be empty", "--" + lang + "-image");
    spec[api::languageSpecKey(*l)] = Json{{"image", image}};
  }
  cr["spec"] = spec;
  auto d = api::validateInstrumentation(cr);
  if (!d.errors.empty()) throw Error(d.errors.front(), d.errors.front().rfind("spec.sampler", 0) == 0 ? "--sampler" : "flags");
  return cr;
}

}  // namespace otel::manifests
