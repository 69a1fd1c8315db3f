#include "lib/api/targetallocator.h"

#include "lib/api/collector.h"

namespace otel::api {

bool isTargetAllocator(const Json& obj) {
  return obj.is_object() && obj.value("kind", "") == kTargetAllocatorKind &&
         obj.value("apiVersion", "").rfind("opentelemetry.io/", 0) == 0;
}

void defaultTargetAllocator(Json& ta) {
  if (!ta.contains("spec") || !ta["spec"].is_object()) return;
  Json& spec = ta["spec"];
  if (!spec.contains("allocationStrategy")) spec["allocationStrategy"] = "consistent-hashing";
  if (!spec.contains("filterStrategy")) spec["filterStrategy"] = "relabel-config";
  if (!spec.contains("collectorNotReadyGracePeriod")) spec["collectorNotReadyGracePeriod"] = "30s";
  if (!spec.contains("managementState")) spec["managementState"] = "managed";
  if (spec.contains("prometheusCR") && spec["prometheusCR"].is_object()) {
    Json& p = spec["prometheusCR"];
    if (!p.contains("scrapeInterval")) p["scrapeInterval"] = "30s";
    if (!p.contains("evaluationInterval")) p["evaluationInterval"] = "30s";
    for (const char* k : {"podMonitorNamespaceSelector", "serviceMonitorNamespaceSelector", "scrapeConfigNamespaceSelector",
                          "probeNamespaceSelector"})
      if (!p.contains(k)) p[k] = Json::object();
  }
}

Diagnostics validateTargetAllocator(const Json& ta) {
  Diagnostics d;
  const Json* pcr = at(ta, {"spec", "prometheusCR"});
  if (pcr && present(*pcr, {"allowNamespaces"}) && present(*pcr, {"denyNamespaces"})) {
    d.errors.push_back("allowNamespaces and denyNamespaces are mutually exclusive");
    return d;
  }
  std::string strategy = str(ta, {"spec", "allocationStrategy"}, "consistent-hashing");
  checkAllocationStrategy(strategy, str(ta, {"spec", "image"}), "spec.allocationStrategy", d);
  if (!d.ok()) return d;
  if (strategy == "least-weighted" && present(ta, {"spec", "podDisruptionBudget"}))
    d.errors.push_back("target allocator pdb has been configured but the allocation strategy isn't not compatible");
  return d;
}

bool isKnownAllocationStrategy(const std::string& s) {
  return s == "least-weighted" || s == "consistent-hashing" || s == "per-node" || s == "rendezvous";
}

void checkAllocationStrategy(const std::string& strategy, const std::string& image, const std::string& field,
                             Diagnostics& d) {
  if (strategy.empty()) return;
  if (!isKnownAllocationStrategy(strategy)) {
    d.errors.push_back(field + ": Unsupported value: \"" + strategy +
                       "\": supported values: \"least-weighted\", \"consistent-hashing\", \"per-node\", \"rendezvous\"");
    return;
  }
  if (strategy == "rendezvous" && !image.empty() && image.find("kubectl-otel") == std::string::npos)
    d.warnings.push_back(field + ": rendezvous is kubectl-otel's own strategy and the target allocator image " + image +
                         " may not support it (upstream's allocator exits on an unknown strategy); leave the image empty "
                         "to run kubectl-otel's allocator");
}

Json targetAllocatorFromCollector(const Json& col) {
  const Json* embedded = at(col, {"spec", "targetAllocator"});
  Json e = embedded ? *embedded : Json::object();
  Json meta = Json::object();
  meta["name"] = str(col, {"metadata", "name"});
  meta["namespace"] = str(col, {"metadata", "namespace"}, "default");
  if (const Json* l = at(col, {"metadata", "labels"}); l && l->is_object()) meta["labels"] = *l;
  if (const Json* a = at(col, {"metadata", "annotations"}); a && a->is_object()) meta["annotations"] = *a;
  Json spec = Json::object();
  // Fields copied from the embedded spec (upstream collector.TargetAllocator()).
  for (const char* k : {"replicas", "nodeSelector", "resources", "serviceAccount", "image", "affinity", "securityContext",
                        "podSecurityContext", "topologySpreadConstraints", "tolerations", "env", "podDisruptionBudget",
                        "allocationStrategy", "filterStrategy", "prometheusCR", "observability", "allowInsecureAuthSecrets",
                        "collectorNotReadyGracePeriod", "collectorTargetReloadInterval", "mtls"})
    if (e.contains(k) && !e[k].is_null()) spec[k] = e[k];
  std::string ms = str(col, {"spec", "managementState"});
  if (!ms.empty()) spec["managementState"] = ms;
  spec["upgradeStrategy"] = str(col, {"spec", "upgradeStrategy"}, "automatic");
  if (const Json* np = at(col, {"spec", "networkPolicy"}); np && np->is_object()) spec["networkPolicy"] = *np;
  Json ta = {{"apiVersion", kV1alpha1}, {"kind", kTargetAllocatorKind}, {"metadata", meta}, {"spec", spec}};
  return ta;
}

}  // namespace otel::api
