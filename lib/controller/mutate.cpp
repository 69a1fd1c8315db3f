#include "lib/controller/mutate.h"

#include "lib/api/common.h"
#include "lib/core/hash.h"

namespace otel::controller {

using api::at;
using api::str;

namespace {

bool isZero(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number()) return v == 0;
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return v.empty();
  return false;
}

bool sameNumber(const Json& a, const Json& b) {
  if (!a.is_number() || !b.is_number()) return false;
  if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
  return a == b;
}

const Json* field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool isWorkload(const std::string& kind) {
  return kind == "Deployment" || kind == "DaemonSet" || kind == "StatefulSet" || kind == "ReplicaSet";
}

// labels/annotations: stored ones kept, desired ones win.
void mergeMap(Json& target, const Json* desired) {
  if (!desired || !desired->is_object()) return;
  if (!target.is_object()) target = Json::object();
  for (auto it = desired->begin(); it != desired->end(); ++it) target[it.key()] = it.value();
}

// The node ports the server allocated, kept for ports that still exist (matched by name, else port).
void keepNodePorts(Json& ports, const Json* storedPorts) {
  if (!ports.is_array() || !storedPorts || !storedPorts->is_array()) return;
  for (auto& p : ports) {
    if (!p.is_object() || p.contains("nodePort")) continue;
    for (const auto& s : *storedPorts) {
      if (!s.is_object() || !s.contains("nodePort")) continue;
      bool same = p.contains("name") ? s.value("name", "") == p.value("name", "") : s.value("port", Json()) == p.value("port", Json());
      if (same) {
        p["nodePort"] = s["nodePort"];
        break;
      }
    }
  }
}

}  // namespace

bool containsDesired(const Json& stored, const Json& desired) {
  if (desired.is_object()) {
    if (!stored.is_object()) return isZero(desired);
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto s = stored.find(it.key());
      if (s == stored.end()) {
        if (!isZero(it.value())) return false;
        continue;
      }
      if (!containsDesired(*s, it.value())) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!stored.is_array()) return desired.empty() && stored.is_null();
    if (stored.size() != desired.size()) return false;
    for (std::size_t i = 0; i < desired.size(); ++i)
      if (!containsDesired(stored[i], desired[i])) return false;
    return true;
  }
  if (desired.is_number()) return sameNumber(stored, desired) || (stored.is_null() && isZero(desired));
  if (stored.is_null()) return isZero(desired);
  return stored == desired;
}

std::string desiredHash(const Json& desired) { return sha256Hex(desired.dump()).substr(0, 16); }

const char* verbName(Verb v) {
  switch (v) {
    case Verb::None: return "none";
    case Verb::Create: return "create";
    case Verb::Update: return "update";
    case Verb::Recreate: return "recreate";
  }
  return "none";
}

std::string immutableChange(const Json& stored, const Json& desired) {
  const std::string kind = str(desired, {"kind"});
  const Json& sspec = at(stored, {"spec"}) ? *at(stored, {"spec"}) : api::emptyObject();
  const Json& dspec = at(desired, {"spec"}) ? *at(desired, {"spec"}) : api::emptyObject();
  if (isWorkload(kind)) {
    const Json* ds = field(dspec, "selector");
    const Json* ss = field(sspec, "selector");
    if (ds && !(ss && containsDesired(*ss, *ds) && containsDesired(*ds, *ss))) return "spec.selector changed";
    // the selector must still select the new template (upstream deletes when a selector label left it)
    if (ss) {
      const Json* ml = at(*ss, {"matchLabels"});
      const Json* tl = at(dspec, {"template", "metadata", "labels"});
      if (ml && ml->is_object())
        for (auto it = ml->begin(); it != ml->end(); ++it)
          if (!tl || !tl->contains(it.key()) || (*tl)[it.key()] != it.value()) return "spec.selector no longer matches the template";
    }
    if (kind == "StatefulSet") {
      if (str(sspec, {"serviceName"}) != str(dspec, {"serviceName"})) return "spec.serviceName changed";
      if (str(sspec, {"podManagementPolicy"}, "OrderedReady") != str(dspec, {"podManagementPolicy"}, "OrderedReady"))
        return "spec.podManagementPolicy changed";
      const Json* dv = field(dspec, "volumeClaimTemplates");
      const Json* sv = field(sspec, "volumeClaimTemplates");
      bool dEmpty = !dv || isZero(*dv), sEmpty = !sv || isZero(*sv);
      if (dEmpty != sEmpty || (!dEmpty && !containsDesired(*sv, *dv))) return "spec.volumeClaimTemplates changed";
    }
  } else if (kind == "Service") {
    std::string want = str(dspec, {"clusterIP"});
    std::string have = str(sspec, {"clusterIP"});
    if (!want.empty() && want != have) return "spec.clusterIP changed";
    if (want.empty() && have == "None") return "spec.clusterIP changed";
  } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
    const Json* d = field(desired, "roleRef");
    const Json* s = field(stored, "roleRef");
    if (d && !(s && containsDesired(*s, *d))) return "roleRef changed";
  }
  return "";
}

Change planChange(const Json* stored, const Json& desiredIn) {
  Json desired = desiredIn;
  api::ensure(desired, {"metadata", "annotations"})[kDesiredHashAnnotation] = desiredHash(desiredIn);
  if (!stored || stored->is_null()) return {Verb::Create, std::move(desired), "missing"};
  // first: a stored selector with extra labels contains the desired one, yet must be recreated
  if (std::string why = immutableChange(*stored, desired); !why.empty()) return {Verb::Recreate, std::move(desired), why};
  if (containsDesired(*stored, desired)) return {};
  Json out = *stored;
  Json& meta = out["metadata"];
  const Json& dmeta = desired["metadata"];
  mergeMap(meta["labels"], field(dmeta, "labels"));
  mergeMap(meta["annotations"], field(dmeta, "annotations"));
  if (const Json* refs = field(dmeta, "ownerReferences")) meta["ownerReferences"] = *refs;
  const std::string kind = str(desired, {"kind"});
  for (auto it = desired.begin(); it != desired.end(); ++it) {
    const std::string& k = it.key();
    if (k == "metadata" || k == "apiVersion" || k == "kind" || k == "status") continue;
    Json next = it.value();
    const Json* old = field(*stored, k.c_str());
    if (k == "spec" && old && old->is_object() && next.is_object()) {
      if (kind == "Service") {
        for (const char* f : {"clusterIP", "clusterIPs", "healthCheckNodePort", "ipFamilies", "ipFamilyPolicy"})
          if (!next.contains(f) && old->contains(f)) next[f] = (*old)[f];
        if (next.contains("ports")) keepNodePorts(next["ports"], field(*old, "ports"));
      }
      if (isWorkload(kind) || kind == "Job") {
        // pod template labels/annotations others added survive (kubectl rollout restart's restartedAt)
        const Json* om = at(*old, {"template", "metadata"});
        Json* nm = next.contains("template") && next["template"].is_object() ? &next["template"] : nullptr;
        if (om && nm) {
          Json merged = *om;
          Json& tm = (*nm)["metadata"];
          if (!tm.is_object()) tm = Json::object();
          for (const char* m : {"labels", "annotations"}) {
            Json keep = merged.contains(m) && merged[m].is_object() ? merged[m] : Json::object();
            // annotations the operator stamped and no longer wants go (upstream's prometheus.io/* rule)
            if (std::string(m) == "annotations" && keep.contains("operator.opentelemetry.io/prometheus-annotations-added") &&
                !(tm.contains(m) && tm[m].contains("operator.opentelemetry.io/prometheus-annotations-added"))) {
              for (const char* p : {"prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path",
                                    "operator.opentelemetry.io/prometheus-annotations-added"})
                keep.erase(p);
            }
            mergeMap(keep, field(tm, m));
            if (!keep.empty()) tm[m] = keep;
          }
        }
      }
    }
    out[k] = std::move(next);
  }
  return {Verb::Update, std::move(out), containsDesired(*stored, desiredIn) ? "desired changed" : "differs"};
}

}  // namespace otel::controller
