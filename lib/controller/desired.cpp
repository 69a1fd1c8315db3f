#include "lib/controller/desired.h"

#include <algorithm>

#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/api/targetallocator.h"
#include "lib/core/error.h"
#include "lib/manifests/render.h"

namespace otel::controller {

using api::str;

Json effectiveCollector(const Json& stored) {
  // The stored object is what the API server kept; admitting it again is what the webhook did (or
  // would have done when it was not running): conversion, CRD and webhook defaults, validation.
  Json in = stored;
  if (in.contains("status")) in.erase("status");
  return manifests::admitCollector(in, "cluster");
}

CollectorDesired desiredForCollector(const Json& stored, const Json* standaloneTa, const manifests::Options& opts) {
  CollectorDesired d;
  Json in = stored;
  if (in.contains("status")) in.erase("status");
  d.effective = manifests::admitCollector(in, "cluster", &d.warnings);
  const Json& cr = d.effective;
  const std::string ns = str(cr, {"metadata", "namespace"}, "default");
  const std::string name = str(cr, {"metadata", "name"});
  Json generated;
  const Json* ta = standaloneTa;
  if (!ta && api::boolean(cr, {"spec", "targetAllocator", "enabled"}) && str(cr, {"spec", "mode"}) != api::kModeSidecar) {
    generated = api::targetAllocatorFromCollector(cr);
    if (!str(cr, {"metadata", "uid"}).empty())
      generated["metadata"]["ownerReferences"] =
          Json::array({{{"apiVersion", api::kV1beta1}, {"kind", api::kCollectorKind}, {"name", name},
                        {"uid", str(cr, {"metadata", "uid"})}, {"controller", true}, {"blockOwnerDeletion", true}}});
    api::defaultTargetAllocator(generated);
    ta = &generated;
  }
  try {
    d.objects = manifests::buildCollector(cr, ta, opts);
  } catch (const Error& e) {
    throw Error(e.what(), e.where(), e.hint());
  }
  if (!generated.is_null()) d.objects.push_back(generated);
  for (const auto& o : d.objects)
    if (!api::has(o, {"metadata", "namespace"})) d.needsFinalizer = true;
  return d;
}

std::vector<Json> desiredForTargetAllocator(const Json& ta, const Json* collector, const manifests::Options& opts) {
  Json t = ta;
  if (t.contains("status")) t.erase("status");
  api::defaultTargetAllocator(t);
  return manifests::buildTargetAllocator(t, collector, opts);
}

std::string objectKey(const Json& obj) {
  return str(obj, {"kind"}) + "/" + str(obj, {"metadata", "namespace"}) + "/" + str(obj, {"metadata", "name"});
}

const Json* controllerRef(const Json& obj) {
  const Json* refs = api::at(obj, {"metadata"});
  if (!refs || !refs->contains("ownerReferences") || !(*refs)["ownerReferences"].is_array()) return nullptr;
  for (const auto& r : (*refs)["ownerReferences"])
    if (r.is_object() && r.value("controller", false)) return &r;
  return nullptr;
}

std::vector<std::string> configMapsToPrune(const std::vector<Json>& owned, const std::string& current,
                                           long long configVersions) {
  std::vector<const Json*> others;
  for (const auto& cm : owned)
    if (str(cm, {"metadata", "name"}) != current) others.push_back(&cm);
  auto rv = [](const Json* o) {
    std::string s = str(*o, {"metadata", "resourceVersion"});
    return std::make_pair(s.size(), s);  // numeric order for decimal resourceVersions
  };
  std::sort(others.begin(), others.end(), [&](const Json* a, const Json* b) {
    std::string ta = str(*a, {"metadata", "creationTimestamp"}), tb = str(*b, {"metadata", "creationTimestamp"});
    if (ta != tb) return ta > tb;
    return rv(a) > rv(b);
  });
  std::size_t keepOthers = static_cast<std::size_t>(std::max(configVersions, 1LL));  // + current
  std::vector<std::string> out;
  for (std::size_t i = keepOthers; i < others.size(); ++i) out.push_back(str(*others[i], {"metadata", "name"}));
  return out;
}

}  // namespace otel::controller
