#include "lib/api/opampbridge.h"

#include "lib/api/collector.h"

namespace otel::api {

bool isOpAMPBridge(const Json& obj) {
  return obj.is_object() && obj.value("kind", "") == kOpAMPBridgeKind &&
         obj.value("apiVersion", "").rfind("opentelemetry.io/", 0) == 0;
}

void defaultOpAMPBridge(Json& b) {
  if (!b.contains("spec") || !b["spec"].is_object()) b["spec"] = Json::object();
  Json& spec = b["spec"];
  if (str(spec, {"upgradeStrategy"}).empty()) spec["upgradeStrategy"] = "automatic";
  if (!spec.contains("replicas") || spec["replicas"].is_null()) spec["replicas"] = 1;
  if (!spec.contains("capabilities") || !spec["capabilities"].is_object()) spec["capabilities"] = Json::object();
  const Json& rs = spec["capabilities"].value("ReportsStatus", Json());
  if (!rs.is_boolean() || !rs.get<bool>()) spec["capabilities"]["ReportsStatus"] = true;
}

Diagnostics validateOpAMPBridge(const Json& b) {
  Diagnostics d;
  auto fail = [&](std::string msg) {
    d.errors.push_back(std::move(msg));
    return d;
  };
  const Json spec = b.value("spec", Json::object());
  std::string endpoint = str(spec, {"endpoint"});
  if (endpoint.find_first_not_of(" \t\r\n") == std::string::npos) return fail("the OpAMP server endpoint is not specified");
  if (boolean(spec, {"tls", "insecure"}) && boolean(spec, {"tls", "insecure_skip_verify"}))
    return fail("tls.insecure and tls.insecure_skip_verify cannot both be true");
  const Json* caps = at(spec, {"capabilities"});
  if (!caps || !caps->is_object() || caps->empty())
    return fail("the capabilities supported by OpAMP Bridge are not specified");
  if (const Json* ports = at(spec, {"ports"}); ports && ports->is_array())
    for (const auto& p : *ports) {
      std::string name = str(p, {"name"});
      long long num = integer(p, {"port"});
      auto ne = portNameErrors(name);
      auto nu = portNumErrors(num);
      if (!ne.empty() || !nu.empty())
        return fail("the OpAMPBridge Spec Ports configuration is incorrect, port name '" + name + "' errors: " +
                    goStringList(ne) + ", num '" + std::to_string(num) + "' errors: " + goStringList(nu));
    }
  if (integer(spec, {"replicas"}, 1) > 1) return fail("replica count must not be greater than 1");
  return d;
}

}  // namespace otel::api
