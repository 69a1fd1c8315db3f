#include "lib/kube/discovery.h"

#include <algorithm>

#include "lib/core/error.h"
#include "lib/core/log.h"

namespace otel::kube {

ResourceId ApiResource::id() const { return ResourceId{apiVersion(), resource, namespaced, kind}; }

namespace {

std::vector<std::string> strings(const Json& obj, const char* key) {
  std::vector<std::string> out;
  if (obj.is_object() && obj.contains(key) && obj[key].is_array())
    for (auto& v : obj[key])
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

const char* kAcceptAggregated =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

}  // namespace

std::vector<ApiResource> parseAggregatedDiscovery(const Json& list) {
  std::vector<ApiResource> out;
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return out;
  for (auto& group : list["items"]) {
    std::string g = group.contains("metadata") ? group["metadata"].value("name", "") : "";
    if (!group.contains("versions") || !group["versions"].is_array()) continue;
    for (auto& v : group["versions"]) {  // the server lists the preferred version first
      std::string version = v.value("version", "");
      if (!v.contains("resources") || !v["resources"].is_array()) continue;
      for (auto& r : v["resources"]) {
        ApiResource a;
        a.group = g;
        a.version = version;
        a.resource = r.value("resource", "");
        a.singular = r.value("singularResource", "");
        if (r.contains("responseKind") && r["responseKind"].is_object()) a.kind = r["responseKind"].value("kind", "");
        a.namespaced = r.value("scope", "Namespaced") == "Namespaced";
        a.verbs = strings(r, "verbs");
        a.shortNames = strings(r, "shortNames");
        if (r.contains("subresources") && r["subresources"].is_array())
          for (auto& s : r["subresources"]) a.subresources.push_back(s.value("subresource", ""));
        out.push_back(std::move(a));
      }
    }
  }
  return out;
}

std::vector<ApiResource> parseResourceList(const Json& list) {
  std::vector<ApiResource> out;
  if (!list.is_object()) return out;
  std::string gv = list.value("groupVersion", "");
  std::string group, version = gv;
  if (auto s = gv.find('/'); s != std::string::npos) {
    group = gv.substr(0, s);
    version = gv.substr(s + 1);
  }
  if (!list.contains("resources") || !list["resources"].is_array()) return out;
  std::vector<std::pair<std::string, std::string>> subs;
  for (auto& r : list["resources"]) {
    std::string name = r.value("name", "");
    if (auto slash = name.find('/'); slash != std::string::npos) {
      subs.emplace_back(name.substr(0, slash), name.substr(slash + 1));
      continue;
    }
    ApiResource a;
    a.group = group;
    a.version = version;
    a.resource = name;
    a.singular = r.value("singularName", "");
    a.kind = r.value("kind", "");
    a.namespaced = r.value("namespaced", true);
    a.verbs = strings(r, "verbs");
    a.shortNames = strings(r, "shortNames");
    out.push_back(std::move(a));
  }
  for (auto& [parent, sub] : subs)
    for (auto& a : out)
      if (a.resource == parent) a.subresources.push_back(sub);
  return out;
}

std::vector<ApiResource> discover(Client& client) {
  std::vector<ApiResource> out;
  // Aggregated discovery: two requests for everything.
  bool aggregated = true;
  for (const char* root : {"/api", "/apis"}) {
    HttpResponse r = client.request({"GET", root, "", "", kAcceptAggregated});
    if (r.status != 200) throw apiErrorFromResponse(static_cast<int>(r.status), r.body, 0, std::string("GET ") + root);
    if (r.contentType.find("as=APIGroupDiscoveryList") == std::string::npos) {
      aggregated = false;
      break;
    }
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded()) throw otel::Error("invalid discovery document", std::string("GET ") + root);
    auto part = parseAggregatedDiscovery(j);
    out.insert(out.end(), part.begin(), part.end());
  }
  if (aggregated) return out;

  // Legacy: /api -> versions, /apis -> groups, then one document per group version.
  out.clear();
  Json api = client.requestJson({"GET", "/api", "", "", "application/json"});
  for (auto& v : strings(api, "versions")) {
    auto part = parseResourceList(client.requestJson({"GET", "/api/" + v, "", "", "application/json"}));
    out.insert(out.end(), part.begin(), part.end());
  }
  Json apis = client.requestJson({"GET", "/apis", "", "", "application/json"});
  if (apis.contains("groups") && apis["groups"].is_array())
    for (auto& g : apis["groups"]) {
      std::string preferred = g.contains("preferredVersion") ? g["preferredVersion"].value("groupVersion", "") : "";
      std::vector<std::string> gvs;
      if (!preferred.empty()) gvs.push_back(preferred);
      if (g.contains("versions") && g["versions"].is_array())
        for (auto& v : g["versions"]) {
          std::string gv = v.value("groupVersion", "");
          if (!gv.empty() && gv != preferred) gvs.push_back(gv);
        }
      for (auto& gv : gvs) {
        HttpResponse r = client.request({"GET", "/apis/" + gv, "", "", "application/json"});
        if (r.status == 404 || r.status == 503) continue;  // a group that went away mid-walk
        if (r.status != 200) throw apiErrorFromResponse(static_cast<int>(r.status), r.body, 0, "GET /apis/" + gv);
        Json j = Json::parse(r.body, nullptr, false);
        if (j.is_discarded()) continue;
        auto part = parseResourceList(j);
        out.insert(out.end(), part.begin(), part.end());
      }
    }
  return out;
}

void RestMapper::ensureLocked(bool force) {
  if (loaded_ && !force) return;
  resources_ = discover(client_);
  loaded_ = true;
  ++refreshes_;
}

ResourceId RestMapper::resourceFor(const std::string& apiVersion, const std::string& kind) {
  std::string group, version = apiVersion;
  if (auto s = apiVersion.find('/'); s != std::string::npos) {
    group = apiVersion.substr(0, s);
    version = apiVersion.substr(s + 1);
  }
  std::lock_guard lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = !loaded_;
    ensureLocked(attempt == 1);
    for (auto& r : resources_)
      if (r.group == group && r.version == version && r.kind == kind) return r.id();
    if (fresh) break;  // just loaded: a second walk would not find more
  }
  throw otel::Error("no matches for kind \"" + kind + "\" in version \"" + apiVersion + "\"", "",
                    "is the CRD installed? (kubectl api-resources)");
}

std::optional<ApiResource> RestMapper::find(const std::string& input) {
  std::string name = input, group;
  if (auto dot = input.find('.'); dot != std::string::npos) {
    name = input.substr(0, dot);
    group = input.substr(dot + 1);
  }
  auto lowerS = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::lock_guard lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = !loaded_;
    ensureLocked(attempt == 1);
    for (auto& r : resources_) {
      if (!group.empty() && r.group != group) continue;
      bool match = r.resource == name || r.singular == lowerS(name) || lowerS(r.kind) == lowerS(name) ||
                   std::find(r.shortNames.begin(), r.shortNames.end(), name) != r.shortNames.end();
      if (match) return r;  // first = preferred version of the group
    }
    if (fresh) break;
  }
  return std::nullopt;
}

bool RestMapper::serves(const std::string& apiVersion) {
  std::lock_guard lock(mu_);
  ensureLocked(false);
  for (auto& r : resources_)
    if (r.apiVersion() == apiVersion) return true;
  return false;
}

std::vector<ApiResource> RestMapper::resources() {
  std::lock_guard lock(mu_);
  ensureLocked(false);
  return resources_;
}

void RestMapper::invalidate() {
  std::lock_guard lock(mu_);
  loaded_ = false;
}

int RestMapper::refreshes() const {
  std::lock_guard lock(mu_);
  return refreshes_;
}

}  // namespace otel::kube
