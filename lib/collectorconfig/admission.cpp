#include "lib/collectorconfig/admission.h"

#include <algorithm>
#include <map>
#include <set>

#include "lib/api/collector.h"
#include "lib/collectorconfig/config.h"
#include "lib/collectorconfig/ta_rewrite.h"
#include "lib/core/error.h"

namespace otel::collectorconfig {

std::vector<std::string> defaultCollector(Json& collector, const Json* old) {
  api::defaultCollectorSpec(collector, old);
  Json& spec = collector["spec"];
  if (!spec.contains("config") || !spec["config"].is_object()) return {};
  return applyConfigDefaults(spec["config"]);
}

namespace {

std::string mtlsError(const Json& ta, bool certManager) {
  const Json* mtls = api::at(ta, {"mtls"});
  if (!mtls || !api::boolean(*mtls, {"enabled"})) return {};
  bool useCM = api::boolean(*mtls, {"useCertManager"}, true);
  if (useCM) {
    if (!certManager)
      return "mTLS is enabled with useCertManager but cert-manager is not available; install cert-manager and restart the "
             "operator, or set useCertManager to false";
    return {};
  }
  if (!api::present(*mtls, {"tls", "serverCertificate"}) || !api::present(*mtls, {"tls", "clientCertificate"}))
    return "mTLS is enabled with useCertManager set to false; tls.serverCertificate and tls.clientCertificate must both be set";
  const Json* ca = api::at(*mtls, {"tls", "certificateAuthorityCertificate"});
  if (!ca || ca->is_null()) return "mTLS is enabled with useCertManager set to false; tls.certificateAuthorityCertificate must be set";
  bool s = api::present(*ca, {"secret"}), c = api::present(*ca, {"configMap"});
  if (s == c) return "tls.certificateAuthorityCertificate must set exactly one of secret or configMap";
  return {};
}

}  // namespace

std::vector<std::string> fipsDisabledInUse(const Json& config, const std::vector<std::string>& disabled) {
  std::vector<std::string> out;
  if (disabled.empty()) return out;
  auto typeOf = [](const std::string& id) { return id.substr(0, id.find('/')); };
  auto isDisabled = [&](const char* kind, const std::string& type) {
    return std::find(disabled.begin(), disabled.end(), std::string(kind) + "." + type) != disabled.end();
  };
  // The components in use: referenced by a pipeline (receivers, exporters, processors) or by
  // service.extensions, sorted by id (upstream walks a Go map; we pick deterministically).
  std::map<std::string, std::set<std::string>> used;
  if (const Json* pipelines = api::at(config, {"service", "pipelines"}); pipelines && pipelines->is_object())
    for (const auto& [name, p] : pipelines->items()) {
      (void)name;
      for (const char* kind : {"receivers", "exporters", "processors"})
        if (p.is_object() && p.contains(kind) && p[kind].is_array())
          for (const auto& id : p[kind])
            if (id.is_string()) used[kind].insert(id.get<std::string>());
    }
  if (const Json* ext = api::at(config, {"service", "extensions"}); ext && ext->is_array())
    for (const auto& id : *ext)
      if (id.is_string()) used["extensions"].insert(id.get<std::string>());
  for (auto [kinds, kind] : {std::pair{"receivers", "receiver"}, std::pair{"exporters", "exporter"},
                             std::pair{"processors", "processor"}, std::pair{"extensions", "extension"}})
    for (const auto& id : used[kinds])
      if (isDisabled(kind, typeOf(id))) {
        out.push_back(typeOf(id));
        break;
      }
  return out;
}

api::Diagnostics validateCollector(const Json& collector, const Json* old, const AdmissionOptions& opts) {
  api::Diagnostics d;
  const Json* cfgp = api::at(collector, {"spec", "config"});
  const Json config = cfgp ? *cfgp : Json::object();
  auto nulls = nullObjects(config);
  if (!nulls.empty()) {
    std::string list;
    for (size_t i = 0; i < nulls.size(); ++i) list += (i ? ", " : "") + nulls[i];
    d.warnings.push_back("Collector config spec.config has null objects: " + list +
                         ". For compatibility with other tooling, such as kustomize and kubectl edit, it is recommended to "
                         "use empty objects e.g. batch: {}.");
  }
  api::Diagnostics spec = api::validateCollectorSpec(collector, old);
  d.merge(spec);
  if (!d.ok()) return d;
  if (auto fips = fipsDisabledInUse(config, opts.fipsDisabledComponents); !fips.empty()) {
    d.errors.push_back("the collector configuration contains not FIPS compliant components: " + api::goStringList(fips) +
                       ". Please remove it from the config");
    return d;
  }
  if (api::boolean(collector, {"spec", "targetAllocator", "enabled"})) {
    bool cr = api::boolean(collector, {"spec", "targetAllocator", "prometheusCR", "enabled"});
    d.merge(validateTargetAllocatorConfig(config, cr));
    if (!d.ok()) return d;
    std::string e = mtlsError(*api::at(collector, {"spec", "targetAllocator"}), opts.certManagerAvailable);
    if (!e.empty()) {
      d.errors.push_back(e);
      return d;
    }
  }
  std::vector<Json> ports;
  try {
    ports = allPorts(config);
  } catch (const Error& e) {
    d.errors.push_back(std::string("the OpenTelemetry config is incorrect. The port numbers are invalid: ") + e.what());
    return d;
  }
  for (const auto& p : ports) {
    std::string name = p.value("name", "");
    std::string trunc = name.size() > 15 ? name.substr(0, 15) : name;
    while (!trunc.empty() && !std::isalnum(static_cast<unsigned char>(trunc.back()))) trunc.pop_back();
    if (trunc != name)
      d.warnings.push_back("the OpenTelemetry config port name '" + name +
                           "' exceeds the maximum length of 15 characters and has been truncated to '" + trunc + "'");
    long long num = p.value("port", 0LL);
    auto ne = api::portNameErrors(trunc);
    auto nu = api::portNumErrors(num);
    if (!ne.empty() || !nu.empty()) {
      d.errors.push_back("the OpenTelemetry config is incorrect. The port name '" + name + "' errors: " + api::goStringList(ne) +
                         ", num '" + std::to_string(num) + "' errors: " + api::goStringList(nu));
      return d;
    }
  }
  return d;
}

}  // namespace otel::collectorconfig
