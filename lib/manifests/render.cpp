#include "lib/manifests/render.h"

#include <map>

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/instrumentation.h"
#include "lib/api/opampbridge.h"
#include "lib/api/targetallocator.h"
#include "lib/collectorconfig/admission.h"
#include "lib/core/error.h"
#include "lib/core/hash.h"

namespace otel::manifests {

using api::str;

std::string docWhere(const YamlDocument& d) {
  return d.source + ": document " + std::to_string(d.index + 1);
}

namespace {

std::string fieldHint(const std::string& msg) {
  // Name the field an upstream message concerns, for the one-line error.
  if (msg.rfind("spec.", 0) == 0 && msg.find(':') != std::string::npos) {
    std::string f = msg.substr(0, msg.find(':'));
    if (f.find(' ') == std::string::npos) return f;  // "spec.x.y: Unsupported value ..." (API server form)
  }
  if (msg.find("mode") != std::string::npos && msg.find("modification") != std::string::npos) return "spec.mode";
  if (msg.find("attribute '") != std::string::npos) {
    auto b = msg.find("attribute '") + 11;
    return "spec." + msg.substr(b, msg.find('\'', b) - b);
  }
  if (msg.find("Prometheus configuration") != std::string::npos) return "spec.config.receivers";
  if (msg.find("FIPS") != std::string::npos) return "spec.config";
  if (msg.find("target allocation") != std::string::npos) return "spec.targetAllocator";
  if (msg.find("mTLS") != std::string::npos || msg.find("certificateAuthority") != std::string::npos)
    return "spec.targetAllocator.mtls";
  if (msg.find("Spec Ports") != std::string::npos) return "spec.ports";
  if (msg.find("config is incorrect") != std::string::npos) return "spec.config";
  if (msg.find("autoscale") != std::string::npos || msg.find("maxReplica") != std::string::npos) return "spec.autoscaler";
  if (msg.find("Ingress") != std::string::npos) return "spec.ingress";
  if (msg.find("spec.mode") != std::string::npos) return "spec.mode";
  if (msg.find("Namespaces") != std::string::npos) return "spec.prometheusCR";
  return "spec";
}

// The field an Instrumentation message concerns ("spec.sampler.argument ..." names it).
std::string instrumentationField(const std::string& e) {
  return e.rfind("spec.", 0) == 0 ? e.substr(0, e.find_first_of(" :")) : std::string("spec");
}

std::string opampBridgeField(const std::string& e) {
  if (e.find("endpoint") != std::string::npos) return "spec.endpoint";
  if (e.find("tls.") != std::string::npos) return "spec.tls";
  if (e.find("capabilities") != std::string::npos) return "spec.capabilities";
  if (e.find("Ports") != std::string::npos) return "spec.ports";
  return "spec.replicas";
}

// A CR as its webhook stores it (defaulted, then validated): TargetAllocators, Instrumentations and OpAMP
// bridges. Errors name document, object and field; warnings are collected.
template <class Defaulter, class Validator>
Json admitAsStored(Json obj, const std::string& where, Defaulter defaulter, Validator validate,
                   std::string (*fieldOf)(const std::string&), std::vector<std::string>& warnings) {
  std::string objWhere = where + ": " + str(obj, {"kind"}) + " " + str(obj, {"metadata", "namespace"}) + "/" +
                         str(obj, {"metadata", "name"});
  if (str(obj, {"metadata", "name"}).empty()) throw Error("metadata.name is required", objWhere);
  defaulter(obj);
  auto v = validate(obj);
  if (!v.errors.empty()) throw Error(v.errors.front(), objWhere + ": " + fieldOf(v.errors.front()));
  for (const auto& w : v.warnings) warnings.push_back(objWhere + ": " + w);
  return obj;
}

}  // namespace

Json admitCollector(const Json& in, const std::string& where, std::vector<std::string>* warnings, const Json* old,
                    const collectorconfig::AdmissionOptions& admission) {
  std::string name = str(in, {"metadata", "name"});
  std::string objWhere = where + ": OpenTelemetryCollector " + str(in, {"metadata", "namespace"}, "default") + "/" + name;
  if (name.empty()) throw Error("metadata.name is required", objWhere, "set metadata.name");
  if (!in.contains("spec") || !in["spec"].is_object())
    throw Error("spec is required", objWhere + ": spec", "an OpenTelemetryCollector needs spec.config");
  std::string apiVersion = str(in, {"apiVersion"});
  if (apiVersion != api::kV1beta1 && apiVersion != api::kV1alpha1)
    throw Error("unsupported apiVersion \"" + apiVersion + "\"", objWhere + ": apiVersion",
                "use opentelemetry.io/v1beta1 or opentelemetry.io/v1alpha1");
  if (apiVersion == api::kV1beta1) {
    const Json& spec = in["spec"];
    if (!spec.contains("config") || !spec["config"].is_object())
      throw Error(spec.contains("config") ? "must be an object (v1beta1 config is structured YAML, not a string)"
                                          : "Required value",
                  objWhere + ": spec.config");
  }
  std::string mode = str(in, {"spec", "mode"});
  if (!mode.empty() && !api::isValidMode(mode))
    throw Error("Unsupported value: \"" + mode + "\": supported values: \"daemonset\", \"deployment\", \"sidecar\", \"statefulset\"",
                objWhere + ": spec.mode");
  Json cr = api::toV1beta1(in);
  api::applyCollectorCrdDefaults(cr);
  Json oldBeta;
  if (old) oldBeta = api::toV1beta1(*old);
  try {
    collectorconfig::defaultCollector(cr, old ? &oldBeta : nullptr);
  } catch (const Error& e) {
    throw Error(std::string("the OpenTelemetry config is incorrect. The port numbers are invalid: ") + e.what(),
                objWhere + ": spec.config");
  }
  auto d = collectorconfig::validateCollector(cr, old ? &oldBeta : nullptr, admission);
  if (warnings)
    for (const auto& w : d.warnings) warnings->push_back(objWhere + ": " + w);
  if (!d.ok()) throw Error(d.errors.front(), objWhere + ": " + fieldHint(d.errors.front()));
  return cr;
}

RenderResult render(const std::vector<YamlDocument>& docs, const RenderOptions& opts) {
  RenderResult res;
  struct Item {
    Json cr;
    std::string where;
  };
  std::vector<Item> collectors;
  std::vector<Item> tas;
  std::vector<Json> stored;  // Instrumentations and OpAMP bridges: validated, printed as the webhook stores them
  for (const auto& d : docs) {
    if (d.value.is_null()) continue;
    Json obj = d.value;
    std::string where = docWhere(d);
    if (!obj.is_object()) throw Error("not a Kubernetes object", where);
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
    if (str(obj, {"metadata", "namespace"}).empty()) obj["metadata"]["namespace"] = opts.defaultNamespace;
    if (opts.assignUids && str(obj, {"metadata", "uid"}).empty()) {
      obj["metadata"]["uid"] = sha256Hex(str(obj, {"kind"}) + "/" + str(obj, {"metadata", "namespace"}) + "/" +
                                         str(obj, {"metadata", "name"}))
                                   .substr(0, 32);
    }
    if (api::isCollector(obj)) {
      collectors.push_back({admitCollector(obj, where, &res.warnings, nullptr,
                                           {opts.build.certManager, opts.fipsDisabledComponents}), where});
    } else if (api::isTargetAllocator(obj) && str(obj, {"apiVersion"}) == "opentelemetry.io/v1alpha1") {
      tas.push_back({admitAsStored(std::move(obj), where, api::defaultTargetAllocator, api::validateTargetAllocator,
                                   fieldHint, res.warnings),
                     where});
    } else if (str(obj, {"kind"}) == api::kInstrumentationKind && str(obj, {"apiVersion"}) == api::kInstrumentationApiVersion) {
      stored.push_back(admitAsStored(std::move(obj), where, api::defaultInstrumentation, api::validateInstrumentation,
                                     instrumentationField, res.warnings));
    } else if (api::isOpAMPBridge(obj) && str(obj, {"apiVersion"}) == "opentelemetry.io/v1alpha1") {
      stored.push_back(admitAsStored(std::move(obj), where, api::defaultOpAMPBridge, api::validateOpAMPBridge,
                                     opampBridgeField, res.warnings));
    } else if (str(obj, {"apiVersion"}).rfind("opentelemetry.io/", 0) == 0) {
      // ours, but a kind or version the CRDs do not serve: the API server would refuse it
      throw Error("unsupported kind \"" + str(obj, {"kind"}) + "\" in apiVersion \"" + str(obj, {"apiVersion"}) + "\"",
                  where + ": " + str(obj, {"kind"}, "object") + " " + str(obj, {"metadata", "name"}) + ": apiVersion",
                  "served: OpenTelemetryCollector opentelemetry.io/v1beta1 and v1alpha1; Instrumentation, TargetAllocator "
                  "and OpAMPBridge opentelemetry.io/v1alpha1");
    } else {
      res.warnings.push_back(where + ": " + str(obj, {"kind"}, "object") + " " + str(obj, {"metadata", "name"}) +
                             " skipped: kubectl otel create takes OpenTelemetryCollector, TargetAllocator, Instrumentation "
                             "and OpAMPBridge objects (use kubectl apply for the rest)");
    }
  }
  // standalone TAs by namespace/name
  std::map<std::string, size_t> taIndex;
  for (size_t i = 0; i < tas.size(); ++i)
    taIndex[str(tas[i].cr, {"metadata", "namespace"}) + "/" + str(tas[i].cr, {"metadata", "name"})] = i;
  std::map<size_t, const Json*> taCollector;
  for (const auto& c : collectors) {
    const Json& cr = c.cr;
    if (str(cr, {"spec", "managementState"}) == "unmanaged") {
      // the controller leaves unmanaged collectors (and what exists for them) alone
      res.warnings.push_back(c.where + ": OpenTelemetryCollector " + str(cr, {"metadata", "namespace"}) + "/" +
                             str(cr, {"metadata", "name"}) + " is unmanaged: the controller creates and changes nothing for it");
      if (opts.includeCustomResources) res.objects.push_back(cr);
      continue;
    }
    std::string ns = str(cr, {"metadata", "namespace"});
    std::string link = str(cr, {"metadata", "labels", api::kTargetAllocatorLabel});
    const Json* ta = nullptr;
    Json generated;
    bool hasGenerated = false;
    if (!link.empty() && taIndex.count(ns + "/" + link)) {
      size_t i = taIndex[ns + "/" + link];
      ta = &tas[i].cr;
      taCollector[i] = &cr;
    } else if (api::boolean(cr, {"spec", "targetAllocator", "enabled"}) && str(cr, {"spec", "mode"}) != api::kModeSidecar) {
      generated = api::targetAllocatorFromCollector(cr);
      if (!str(cr, {"metadata", "uid"}).empty()) {
        generated["metadata"]["ownerReferences"] =
            Json::array({{{"apiVersion", api::kV1beta1}, {"kind", api::kCollectorKind}, {"name", str(cr, {"metadata", "name"})},
                          {"uid", str(cr, {"metadata", "uid"})}, {"controller", true}, {"blockOwnerDeletion", true}}});
        if (opts.assignUids)
          generated["metadata"]["uid"] = sha256Hex("TargetAllocator/" + ns + "/" + str(cr, {"metadata", "name"})).substr(0, 32);
      }
      api::defaultTargetAllocator(generated);
      ta = &generated;
      hasGenerated = true;
    }
    std::vector<Json> objs;
    try {
      objs = buildCollector(cr, ta, opts.build);
    } catch (const Error& e) {
      throw Error(e.what(), c.where + ": " + e.where(), e.hint());
    }
    if (opts.includeCustomResources) res.objects.push_back(cr);
    res.objects.insert(res.objects.end(), objs.begin(), objs.end());
    if (hasGenerated) {
      if (opts.includeCustomResources) res.objects.push_back(generated);
      auto t = buildTargetAllocator(generated, &cr, opts.build);
      res.objects.insert(res.objects.end(), t.begin(), t.end());
    }
  }
  for (size_t i = 0; i < tas.size(); ++i) {
    if (opts.includeCustomResources) res.objects.push_back(tas[i].cr);
    const Json* col = taCollector.count(i) ? taCollector[i] : nullptr;
    auto t = buildTargetAllocator(tas[i].cr, col, opts.build);
    res.objects.insert(res.objects.end(), t.begin(), t.end());
  }
  // An Instrumentation creates nothing by itself (the webhook reads it when pods are created); an OpAMP
  // bridge's own objects are not rendered yet.
  if (opts.includeCustomResources) res.objects.insert(res.objects.end(), stored.begin(), stored.end());
  return res;
}

}  // namespace otel::manifests
