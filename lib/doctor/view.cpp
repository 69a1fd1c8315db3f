#include "lib/doctor/view.h"

#include <chrono>

#include "lib/core/error.h"
#include "lib/core/time.h"
#include "lib/doctor/match.h"

namespace otel::doctor {

namespace {


std::string keyOf(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string where(const YamlDocument& d) {
  return d.source + " (document " + std::to_string(d.index + 1) + (d.line > 0 ? ", line " + std::to_string(d.line) : "") +
         ")";
}

void checkObject(const YamlDocument& d, bool needName) {
  if (!d.value.is_object())
    throw Error("expected a Kubernetes object (a mapping with apiVersion and kind), got a " +
                    std::string(d.value.type_name()),
                where(d));
  for (const char* k : {"apiVersion", "kind"}) {
    auto it = d.value.find(k);
    if (it == d.value.end() || !it->is_string() || it->get<std::string>().empty())
      throw Error(std::string("object without ") + k + (metaOf(d.value, "name").empty() ? "" : " (metadata.name " +
                                                                                               metaOf(d.value, "name") + ")"),
                  where(d));
  }
  if (needName && metaOf(d.value, "name").empty())
    throw Error(d.value["kind"].get<std::string>() + " without metadata.name", where(d));
}

}  // namespace

ObjectRef ObjectRef::of(const Json& obj) {
  ObjectRef r;
  r.apiVersion = obj.value("apiVersion", "");
  r.kind = obj.value("kind", "");
  r.ns = metaOf(obj, "namespace");
  r.name = metaOf(obj, "name");
  return r;
}

std::string ObjectRef::display() const {
  if (kind.empty() && name.empty()) return "cluster";
  return kind + " " + (ns.empty() ? "" : ns + "/") + name;
}

Json ObjectRef::toJson() const {
  return Json{{"apiVersion", apiVersion}, {"kind", kind}, {"namespace", ns}, {"name", name}};
}

const std::set<std::string>& knownKinds() {
  static const std::set<std::string> kinds = {
      "Namespace", "CustomResourceDefinition", "OpenTelemetryCollector", "Instrumentation", "TargetAllocator",
      "OpAMPBridge", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Deployment", "DaemonSet",
      "StatefulSet", "ReplicaSet", "Pod", "Service", "EndpointSlice", "ServiceAccount", "Role", "ClusterRole",
      "RoleBinding", "ClusterRoleBinding", "ServiceMonitor", "PodMonitor", "ScrapeConfig", "Probe", "Event",
      "Secret", "ConfigMap"};
  return kinds;
}

bool ClusterView::add(Json obj) {
  std::string kind = obj.value("kind", "");
  if (kind == "PodLog" && obj.value("apiVersion", "") == kPodLogApiVersion) {
    PodLog l;
    l.ns = metaOf(obj, "namespace");
    if (l.ns.empty()) l.ns = "default";
    l.pod = metaOf(obj, "name");
    l.container = obj.value("container", "");
    if (obj.contains("lines") && obj["lines"].is_array())
      for (const auto& s : obj["lines"])
        if (s.is_string()) l.lines.push_back(s.get<std::string>());
    addLog(std::move(l));
    return true;
  }
  if (!knownKinds().count(kind)) return false;
  // Secrets: only what the checks read (public certificates), never the rest of the data.
  if (kind == "Secret" && obj.contains("data") && obj["data"].is_object()) {
    Json keep = Json::object();
    for (const char* k : {"tls.crt", "ca.crt"})
      if (obj["data"].contains(k)) keep[k] = obj["data"][k];
    obj["data"] = std::move(keep);
    obj.erase("stringData");
  }
  KindIndex& k = byKind_[kind];
  const std::string ns = metaOf(obj, "namespace"), key = keyOf(ns, metaOf(obj, "name"));
  if (auto dup = k.byKey.find(key); dup != k.byKey.end()) {
    k.objects[dup->second] = std::move(obj);  // the same object twice in a dump: the last one counts
    return true;
  }
  k.byKey.emplace(key, k.objects.size());
  k.byNs[ns].push_back(k.objects.size());
  k.objects.push_back(std::move(obj));
  ++count_;
  return true;
}

std::vector<const Json*> ClusterView::of(const std::string& kind, const std::string& ns) const {
  std::vector<const Json*> out;
  auto it = byKind_.find(kind);
  if (it == byKind_.end()) return out;
  const KindIndex& k = it->second;
  if (ns.empty()) {
    out.reserve(k.objects.size());
    for (const auto& o : k.objects) out.push_back(&o);
    return out;
  }
  auto n = k.byNs.find(ns);
  if (n == k.byNs.end()) return out;
  out.reserve(n->second.size());
  for (size_t i : n->second) out.push_back(&k.objects[i]);
  return out;
}

const Json* ClusterView::find(const std::string& kind, const std::string& ns, const std::string& name) const {
  auto it = byKind_.find(kind);
  if (it == byKind_.end()) return nullptr;
  auto o = it->second.byKey.find(keyOf(ns, name));
  return o == it->second.byKey.end() ? nullptr : &it->second.objects[o->second];
}

void ClusterView::reindex(KindIndex& k) {
  k.byKey.clear();
  k.byNs.clear();
  for (size_t i = 0; i < k.objects.size(); ++i) {
    const std::string ns = metaOf(k.objects[i], "namespace");
    k.byKey.emplace(keyOf(ns, metaOf(k.objects[i], "name")), i);
    k.byNs[ns].push_back(i);
  }
}

void ClusterView::replace(const Json& obj) {
  std::string kind = obj.value("kind", "");
  auto it = byKind_.find(kind);
  if (it != byKind_.end()) {
    auto o = it->second.byKey.find(keyOf(metaOf(obj, "namespace"), metaOf(obj, "name")));
    if (o != it->second.byKey.end()) {
      it->second.objects[o->second] = obj;
      return;
    }
  }
  add(obj);
}

bool ClusterView::remove(const ObjectRef& ref) {
  auto it = byKind_.find(ref.kind);
  if (it == byKind_.end()) return false;
  auto o = it->second.byKey.find(keyOf(ref.ns, ref.name));
  if (o == it->second.byKey.end()) return false;
  it->second.objects.erase(it->second.objects.begin() + static_cast<long>(o->second));
  --count_;
  reindex(it->second);
  return true;
}

bool ClusterView::hasCrd(const std::string& name, const std::string& version) const {
  const Json* crd = find("CustomResourceDefinition", "", name);
  if (!crd) return false;
  if (version.empty()) return true;
  if (auto s = crd->find("spec"); s != crd->end() && s->is_object() && s->contains("versions") && (*s)["versions"].is_array())
    for (const auto& v : (*s)["versions"])
      if (v.is_object() && v.value("name", "") == version && v.value("served", false)) return true;
  return false;
}

ClusterView viewFromDocuments(const std::vector<YamlDocument>& docs) {
  std::vector<YamlDocument> copy = docs;
  return viewFromDocuments(std::move(copy));
}

ClusterView viewFromDocuments(std::vector<YamlDocument>&& docs) {
  ClusterView view;
  for (auto& d : docs) {
    if (d.value.is_null()) continue;
    checkObject(d, false);
    const std::string kind = d.value["kind"].get<std::string>();
    const bool known = knownKinds().count(kind) || kind == "PodLog";
    if (!known) continue;  // an unknown kind is ignored
    checkObject(d, true);
    if (kind != "PodLog") view.markListed(kind);
    view.add(std::move(d.value));
  }
  // A dump that holds a CRD holds the objects of its kind (kubectl get crd,<kind> -A): none means none.
  for (const Json* crd : view.of("CustomResourceDefinition")) {
    auto s = crd->find("spec");
    if (s == crd->end() || !s->is_object()) continue;
    const std::string kind = (*s).contains("names") && (*s)["names"].is_object() ? (*s)["names"].value("kind", "") : "";
    if (knownKinds().count(kind)) view.markListed(kind);
  }
  return view;
}

void checkListDocuments(const std::vector<YamlDocument>& docs) {
  for (const auto& d : docs) {
    if (!d.value.is_object()) continue;
    const std::string kind = d.value.value("kind", "");
    if (kind.size() < 4 || kind.compare(kind.size() - 4, 4, "List") != 0) continue;
    auto it = d.value.find("items");
    if (it == d.value.end() || !it->is_array())
      throw Error(kind + " without items (a list must hold an items array; is the file cut short?)", where(d));
  }
}

std::vector<Json> desiredFromDocuments(const std::vector<YamlDocument>& docs) {
  std::vector<Json> out;
  for (const auto& d : docs) {
    if (d.value.is_null()) continue;
    checkObject(d, true);
    out.push_back(d.value);
  }
  return out;
}

std::int64_t parseTime(const std::string& s) {
  auto t = parseRfc3339(s);
  if (!t) return -1;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

}  // namespace otel::doctor
