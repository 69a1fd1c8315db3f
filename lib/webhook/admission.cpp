#include "lib/webhook/admission.h"

#include <algorithm>
#include <map>

#include "lib/api/collector.h"
#include "lib/api/instrumentation.h"
#include "lib/api/opampbridge.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/inject/inject.h"
#include "lib/webhook/jsonpatch.h"

namespace otel::webhook {

namespace {

std::string strField(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json parseBody(std::string_view body, const char* what) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) throw BadRequest(std::string("the body is not JSON (expected a ") + what + ")");
  if (!j.is_object()) throw BadRequest(std::string("the body is not a JSON object (expected a ") + what + ")");
  return j;
}

}  // namespace

AdmissionRequest parseAdmissionReview(std::string_view body) {
  Json j = parseBody(body, "AdmissionReview");
  AdmissionRequest r;
  r.reviewApiVersion = strField(j, "apiVersion");
  if (r.reviewApiVersion != "admission.k8s.io/v1")
    throw BadRequest("unsupported AdmissionReview apiVersion \"" + r.reviewApiVersion + "\" (admission.k8s.io/v1 is served)");
  if (strField(j, "kind") != "AdmissionReview") throw BadRequest("kind must be AdmissionReview, got \"" + strField(j, "kind") + "\"");
  auto it = j.find("request");
  if (it == j.end() || !it->is_object()) throw BadRequest("AdmissionReview has no request");
  Json& q = *it;  // not const: the object and oldObject are moved out
  r.uid = strField(q, "uid");
  if (r.uid.empty()) throw BadRequest("AdmissionReview request has no uid");
  auto sub = [&](const char* key) -> const Json& {
    auto f = q.find(key);
    return f != q.end() && f->is_object() ? *f : api::emptyObject();
  };
  r.kind = strField(sub("kind"), "kind");
  r.group = strField(sub("resource"), "group");
  r.version = strField(sub("resource"), "version");
  r.resource = strField(sub("resource"), "resource");
  r.subResource = strField(q, "subResource");
  r.ns = strField(q, "namespace");
  r.name = strField(q, "name");
  r.operation = strField(q, "operation");
  if (r.operation != "CREATE" && r.operation != "UPDATE" && r.operation != "DELETE" && r.operation != "CONNECT")
    throw BadRequest("AdmissionReview request has an unknown operation \"" + r.operation + "\"");
  const Json& ui = sub("userInfo");
  r.username = strField(ui, "username");
  if (auto g = ui.find("groups"); g != ui.end() && g->is_array())
    for (const auto& x : *g)
      if (x.is_string()) r.groups.push_back(x.get<std::string>());
  if (auto d = q.find("dryRun"); d != q.end() && d->is_boolean()) r.dryRun = d->get<bool>();
  for (const char* key : {"object", "oldObject"}) {
    auto f = q.find(key);
    if (f == q.end() || f->is_null()) continue;
    if (!f->is_object()) throw BadRequest(std::string("AdmissionReview request.") + key + " is not an object");
    (std::string(key) == "object" ? r.object : r.oldObject) = std::move(*f);  // j is ours: no deep copy
  }
  if ((r.operation == "CREATE" || r.operation == "UPDATE") && r.object.is_null())
    throw BadRequest("AdmissionReview request for " + r.operation + " has no object");
  if ((r.operation == "UPDATE" || r.operation == "DELETE") && r.oldObject.is_null() && r.operation == "UPDATE")
    throw BadRequest("AdmissionReview request for UPDATE has no oldObject");
  return r;
}

AdmissionResponse allow(std::vector<std::string> warnings) {
  AdmissionResponse r;
  r.warnings = std::move(warnings);
  return r;
}

AdmissionResponse deny(const std::string& message, std::vector<std::string> warnings) {
  AdmissionResponse r;
  r.allowed = false;
  r.code = 403;
  r.reason = "Forbidden";
  r.message = message;
  r.warnings = std::move(warnings);
  return r;
}

AdmissionResponse errored(int code, const std::string& message) {
  AdmissionResponse r;
  r.allowed = false;
  r.code = code;
  r.message = message;
  return r;
}

std::string renderAdmissionReview(const AdmissionRequest& req, const AdmissionResponse& resp) {
  Json response{{"uid", req.uid}, {"allowed", resp.allowed}};
  if (resp.code != 0 || !resp.message.empty()) {
    Json status{{"metadata", Json::object()}};
    if (resp.code != 0) status["code"] = resp.code;
    if (!resp.reason.empty()) status["reason"] = resp.reason;
    if (!resp.message.empty()) status["message"] = resp.message;
    response["status"] = status;
  }
  // The patch's base64 (the largest part of a pod answer) is spliced in as is: its alphabet never needs
  // JSON escaping, and the serializer's escaping loop over it was a tenth of the pod webhook's CPU.
  // Same bytes as dumping the whole object (fields in this order, compact).
  std::string out = Json{{"apiVersion", req.reviewApiVersion}, {"kind", "AdmissionReview"}, {"response", response}}.dump();
  out.resize(out.size() - 2);  // reopen response: drop its "}" and the review's "}"
  if (resp.patch.is_array() && !resp.patch.empty()) {
    out += ",\"patchType\":\"JSONPatch\",\"patch\":\"";
    out += base64Encode(resp.patch.dump());
    out += '"';
  }
  if (!resp.warnings.empty()) out += ",\"warnings\":" + Json(resp.warnings).dump();
  out += "}}";
  return out;
}

// ------------------------------------------------------------------------------- custom resources

namespace {

struct Route {
  const char* path;
  const char* handler;
};
const Route kRoutes[] = {
    {"/mutate-opentelemetry-io-v1beta1-opentelemetrycollector", "mutate-collector"},
    {"/validate-opentelemetry-io-v1beta1-opentelemetrycollector", "validate-collector"},
    {"/mutate-opentelemetry-io-v1alpha1-instrumentation", "mutate-instrumentation"},
    {"/validate-opentelemetry-io-v1alpha1-instrumentation", "validate-instrumentation"},
    {"/mutate-opentelemetry-io-v1alpha1-opampbridge", "mutate-opampbridge"},
    {"/validate-opentelemetry-io-v1alpha1-opampbridge", "validate-opampbridge"},
    {"/mutate-opentelemetry-io-v1alpha1-targetallocator", "mutate-targetallocator"},
    {"/validate-opentelemetry-io-v1alpha1-targetallocator", "validate-targetallocator"},
    {"/mutate-opentelemetry-io-v1beta1-targetallocator", "mutate-targetallocator"},
    {"/validate-opentelemetry-io-v1beta1-targetallocator", "validate-targetallocator"},
};

// What the webhook expects at each handler: kind and the apiVersions it can read.
struct Expect {
  const char* kind;
  std::vector<std::string> versions;
};
Expect expectFor(const std::string& what) {
  if (what == "collector") return {api::kCollectorKind, {api::kV1beta1}};
  if (what == "instrumentation") return {api::kInstrumentationKind, {api::kInstrumentationApiVersion}};
  if (what == "opampbridge") return {"OpAMPBridge", {api::kV1alpha1}};
  return {"TargetAllocator", {api::kV1alpha1}};
}

std::string modeChangeHint(const Json& obj, const std::string& ns) {
  std::string name = api::str(obj, {"metadata", "name"});
  return "\nthe mode of a collector cannot change in place: delete it and create it again with the new mode, e.g. "
         "`kubectl delete opentelemetrycollector " + name + " -n " + ns + "` then `kubectl apply -f <manifest>`";
}

api::Diagnostics rbacReview(const Json& obj, const AdmissionRequest& req, const CrOptions& opts) {
  if (!opts.reviewer) return {};
  if (!manifests::rbacNeeds(obj).any()) return {};
  manifests::RbacReviewOptions ro;
  ro.operatorCreatesRbac = opts.operatorCreatesRbac;
  ro.monitoringResources = opts.monitoringResources;
  ro.requester = req.username;
  ro.requesterGroups = req.groups;
  ro.requesterSelf = false;
  Json o = obj;
  if (api::str(o, {"metadata", "namespace"}).empty()) o["metadata"]["namespace"] = req.ns.empty() ? "default" : req.ns;
  return manifests::reviewRbac(o, ro, opts.reviewer);
}

AdmissionResponse fromDiagnostics(std::vector<std::string> errors, std::vector<std::string> warnings) {
  if (!errors.empty()) return deny(errors.front(), std::move(warnings));
  return allow(std::move(warnings));
}

}  // namespace

std::string handlerFor(const std::string& path) {
  for (const auto& r : kRoutes)
    if (path == r.path) return r.handler;
  return "";
}

std::vector<std::string> crPaths() {
  std::vector<std::string> out;
  for (const auto& r : kRoutes) out.push_back(r.path);
  return out;
}

AdmissionResponse admitCustomResource(const std::string& handler, const AdmissionRequest& req, const CrOptions& opts) {
  const bool mutate = handler.rfind("mutate-", 0) == 0;
  const std::string what = handler.substr(handler.find('-') + 1);
  const Expect ex = expectFor(what);
  const Json& subject = req.operation == "DELETE" ? req.oldObject : req.object;
  if (req.operation == "DELETE" && subject.is_null()) return allow();
  if (req.operation != "CREATE" && req.operation != "UPDATE" && req.operation != "DELETE") return allow();
  const std::string kind = api::str(subject, {"kind"});
  const std::string av = api::str(subject, {"apiVersion"});
  if (kind != ex.kind || std::find(ex.versions.begin(), ex.versions.end(), av) == ex.versions.end())
    return errored(400, std::string("this webhook takes ") + ex.kind + " " + ex.versions.front() + ", got " +
                            (kind.empty() ? std::string("an object without kind") : kind) + " " + av);
  const Json* old = req.operation == "UPDATE" && req.oldObject.is_object() ? &req.oldObject : nullptr;
  try {
    if (mutate) {
      if (req.operation == "DELETE") return allow();
      Json obj = req.object;
      std::vector<std::string> warnings;
      if (what == "collector") {
        try {
          collectorconfig::defaultCollector(obj, old);
        } catch (const Error& e) {
          return deny(std::string("the OpenTelemetry config is incorrect. The port numbers are invalid: ") + e.what());
        }
      } else if (what == "instrumentation") {
        api::defaultInstrumentation(obj);
      } else if (what == "opampbridge") {
        api::defaultOpAMPBridge(obj);
      } else {
        api::defaultTargetAllocator(obj);
      }
      AdmissionResponse r = allow(std::move(warnings));
      r.patch = jsonPatch(req.object, obj);
      return r;
    }
    // validation
    std::vector<std::string> errors, warnings;
    if (what == "collector") {
      auto d = collectorconfig::validateCollector(subject, old, opts.admission);
      errors = d.errors;
      warnings = d.warnings;
      if (errors.empty() && req.operation != "DELETE") {
        auto rb = rbacReview(subject, req, opts);
        errors = rb.errors;
        warnings.insert(warnings.end(), rb.warnings.begin(), rb.warnings.end());
      }
      if (!errors.empty() && old && errors.front().find("which does not support modification") != std::string::npos)
        errors.front() += modeChangeHint(subject, req.ns.empty() ? api::str(subject, {"metadata", "namespace"}, "default") : req.ns);
    } else if (what == "instrumentation") {
      auto d = api::validateInstrumentation(subject);
      errors = d.errors;
      warnings = d.warnings;
    } else if (what == "opampbridge") {
      auto d = api::validateOpAMPBridge(subject);
      errors = d.errors;
      warnings = d.warnings;
    } else {
      auto d = api::validateTargetAllocator(subject);
      errors = d.errors;
      warnings = d.warnings;
      if (errors.empty() && req.operation != "DELETE") {
        auto rb = rbacReview(subject, req, opts);
        errors = rb.errors;
        warnings.insert(warnings.end(), rb.warnings.begin(), rb.warnings.end());
      }
    }
    if (req.operation == "DELETE") return allow(std::move(warnings));
    return fromDiagnostics(std::move(errors), std::move(warnings));
  } catch (const Error& e) {
    return errored(400, e.what());
  } catch (const std::exception& e) {
    return errored(500, std::string("internal error: ") + e.what());
  }
}

// ------------------------------------------------------------------------------------------ pods

namespace {

void fillOwners(inject::PodContext& ctx, const Json& pod, const PodLookups& lk) {
  const Json* refs = api::at(pod, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return;
  for (const auto& o : *refs) {
    if (!o.is_object()) continue;
    std::string kind = strField(o, "kind"), name = strField(o, "name"), uid = strField(o, "uid");
    std::string k = kind;
    for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (k == "replicaset") {
      ctx.replicaSet = name;
      ctx.replicaSetUid = uid;
      if (lk.owner)
        if (auto rs = lk.owner("ReplicaSet", ctx.ns, name); rs)
          if (const Json* up = api::at(*rs, {"metadata", "ownerReferences"}); up && up->is_array())
            for (const auto& u : *up)
              if (u.is_object() && strField(u, "kind") == "Deployment") {
                ctx.deployment = strField(u, "name");
                ctx.deploymentUid = strField(u, "uid");
              }
    } else if (k == "deployment") {
      ctx.deployment = name;
      ctx.deploymentUid = uid;
    } else if (k == "statefulset") {
      ctx.statefulSet = name;
      ctx.statefulSetUid = uid;
    } else if (k == "daemonset") {
      ctx.daemonSet = name;
      ctx.daemonSetUid = uid;
    } else if (k == "job") {
      ctx.job = name;
      ctx.jobUid = uid;
      if (lk.owner)
        if (auto job = lk.owner("Job", ctx.ns, name); job)
          if (const Json* up = api::at(*job, {"metadata", "ownerReferences"}); up && up->is_array())
            for (const auto& u : *up)
              if (u.is_object() && strField(u, "kind") == "CronJob") {
                ctx.cronJob = strField(u, "name");
                ctx.cronJobUid = strField(u, "uid");
              }
    } else if (k == "cronjob") {
      ctx.cronJob = name;
      ctx.cronJobUid = uid;
    }
  }
}

}  // namespace

AdmissionResponse mutatePod(const AdmissionRequest& req, const PodLookups& lk, const inject::Options& base, PodOutcome* out) {
  PodOutcome local;
  PodOutcome& o = out ? *out : local;
  auto failOpen = [&](const std::string& why) {
    o.failedOpen = true;
    o.error = why;
    AdmissionResponse r;  // allowed, the pod unchanged, the error in the status (upstream's Errored + Allowed)
    r.code = 500;
    r.message = why;
    return r;
  };
  if (req.operation != "CREATE") return allow();
  if (req.kind != "Pod" || api::str(req.object, {"kind"}, "Pod") != "Pod")
    return errored(400, "this webhook takes Pods, got " + (req.kind.empty() ? std::string("no kind") : req.kind));
  if (!req.object.contains("spec") || !req.object["spec"].is_object()) return errored(400, "the Pod has no spec");
  try {
    inject::PodContext ctx;
    ctx.ns = !req.ns.empty() ? req.ns : api::str(req.object, {"metadata", "namespace"}, "default");
    ctx.nsAnnotations = lk.namespaceAnnotations ? lk.namespaceAnnotations(ctx.ns) : Json::object();
    if (!ctx.nsAnnotations.is_object()) ctx.nsAnnotations = Json::object();
    ctx.podName = api::str(req.object, {"metadata", "name"});
    ctx.podUid = api::str(req.object, {"metadata", "uid"});
    ctx.nodeName = api::str(req.object, {"spec", "nodeName"});
    // nothing asked for: no owner lookups, no catalog
    const Json podAnn = api::at(req.object, {"metadata", "annotations"}) && req.object["metadata"]["annotations"].is_object()
                            ? req.object["metadata"]["annotations"]
                            : Json::object();
    auto mentions = [&](const Json& ann) {
      for (auto it = ann.begin(); it != ann.end(); ++it)
        if (inject::asksForInjection(it.key())) return true;
      return false;
    };
    if (!mentions(podAnn) && !mentions(ctx.nsAnnotations)) return allow();
    fillOwners(ctx, req.object, lk);
    CatalogScope scope;
    scope.ns = ctx.ns;
    for (const Json* ann : std::initializer_list<const Json*>{&podAnn, &ctx.nsAnnotations})
      for (auto it = ann->begin(); it != ann->end(); ++it)
        if (inject::asksForInjection(it.key()) && it->is_string() && it->get_ref<const std::string&>().find('/') != std::string::npos)
          scope.named.insert(it->get<std::string>());
    inject::Catalog catalog = lk.catalog ? lk.catalog(scope) : inject::Catalog{};
    inject::Options opts = base;
    opts.languages.clear();
    opts.sidecar = false;
    opts.strict = false;
    opts.record = false;
    Json pod = req.object;
    if (!pod.contains("metadata") || !pod["metadata"].is_object()) pod["metadata"] = Json::object();
    auto res = inject::injectPod(pod, ctx, catalog, opts);
    o.actions = res.actions;
    o.skips = res.skips;
    if (!res.errors.empty()) {
      // selection problems (no / several / non-sidecar collector ...) are logged and the pod admitted as is
      o.error = res.errors.front();
      return allow();
    }
    if (!res.changed) return allow();
    o.mutated = true;
    AdmissionResponse r = allow();
    r.patch = jsonPatch(req.object, res.pod);
    return r;
  } catch (const std::exception& e) {
    return failOpen(e.what());
  }
}

// ------------------------------------------------------------------------------------ conversion

std::string convertReview(std::string_view body) {
  Json j = parseBody(body, "ConversionReview");
  const std::string av = strField(j, "apiVersion");
  if (av != "apiextensions.k8s.io/v1")
    throw BadRequest("unsupported ConversionReview apiVersion \"" + av + "\" (apiextensions.k8s.io/v1 is served)");
  if (strField(j, "kind") != "ConversionReview") throw BadRequest("kind must be ConversionReview, got \"" + strField(j, "kind") + "\"");
  auto it = j.find("request");
  if (it == j.end() || !it->is_object()) throw BadRequest("ConversionReview has no request");
  const Json& q = *it;
  const std::string uid = strField(q, "uid");
  if (uid.empty()) throw BadRequest("ConversionReview request has no uid");
  const std::string desired = strField(q, "desiredAPIVersion");
  auto objs = q.find("objects");
  if (objs == q.end() || !objs->is_array()) throw BadRequest("ConversionReview request has no objects array");
  Json response{{"uid", uid}};
  auto failure = [&](const std::string& msg) {
    response["convertedObjects"] = Json::array();
    response["result"] = Json{{"metadata", Json::object()}, {"status", "Failure"}, {"message", msg}};
  };
  if (desired != api::kV1alpha1 && desired != api::kV1beta1) {
    failure("cannot convert to \"" + desired + "\": opentelemetry.io/v1alpha1 and opentelemetry.io/v1beta1 are served");
  } else {
    Json converted = Json::array();
    std::string problem;
    size_t i = 0;
    for (const auto& o : *objs) {
      std::string where = "object " + std::to_string(i++);
      if (!o.is_object()) {
        problem = where + " is not an object";
        break;
      }
      const std::string kind = strField(o, "kind");
      if (kind != api::kCollectorKind) {
        problem = where + ": unsupported kind \"" + kind + "\" (OpenTelemetryCollector is converted)";
        break;
      }
      const std::string from = strField(o, "apiVersion");
      if (from != api::kV1alpha1 && from != api::kV1beta1) {
        problem = where + ": unsupported apiVersion \"" + from + "\"";
        break;
      }
      try {
        converted.push_back(from == desired ? o : api::convertCollector(o, desired));
      } catch (const std::exception& e) {
        problem = where + " (" + api::str(o, {"metadata", "namespace"}) + "/" + api::str(o, {"metadata", "name"}) + "): " + e.what();
        break;
      }
    }
    if (!problem.empty()) {
      failure(problem);
    } else {
      response["convertedObjects"] = std::move(converted);
      response["result"] = Json{{"metadata", Json::object()}, {"status", "Success"}};
    }
  }
  Json out{{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "ConversionReview"}, {"response", response}};
  return out.dump();
}

}  // namespace otel::webhook
