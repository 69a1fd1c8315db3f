#include "lib/webhook/registration.h"

namespace otel::webhook {

namespace {

// The clientConfigs of an object, by name: each webhook of a webhook configuration, or "conversion".
template <typename F>
void eachClientConfig(Json& object, F&& fn) {
  const std::string kind = object.value("kind", "");
  if (kind == "CustomResourceDefinition") {
    if (!object.contains("spec") || !object["spec"].is_object()) return;
    Json& spec = object["spec"];
    if (!spec.contains("conversion") || !spec["conversion"].is_object()) return;
    Json& conv = spec["conversion"];
    if (conv.value("strategy", "") != "Webhook" || !conv.contains("webhook") || !conv["webhook"].is_object()) return;
    fn(std::string("conversion"), conv["webhook"]["clientConfig"]);
    return;
  }
  if (!object.contains("webhooks") || !object["webhooks"].is_array()) return;
  for (auto& w : object["webhooks"])
    if (w.is_object()) fn(w.value("name", ""), w["clientConfig"]);
}

std::string pathOf(const Json& clientConfig, const std::string& name) {
  if (clientConfig.is_object() && clientConfig.contains("service") && clientConfig["service"].is_object() &&
      clientConfig["service"].contains("path") && clientConfig["service"]["path"].is_string())
    return clientConfig["service"]["path"].get<std::string>();
  if (clientConfig.is_object() && clientConfig.contains("url") && clientConfig["url"].is_string()) {
    // an URL already: keep its path (https://host:port/path)
    const std::string url = clientConfig["url"].get<std::string>();
    auto scheme = url.find("://");
    auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }
  return name == "conversion" ? "/convert" : "/";
}

Json* annotations(Json& object, bool create) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) {
    if (!create) return nullptr;
    object["metadata"] = Json::object();
  }
  Json& m = object["metadata"];
  if (!m.contains("annotations") || !m["annotations"].is_object()) {
    if (!create) return nullptr;
    m["annotations"] = Json::object();
  }
  return &m["annotations"];
}

}  // namespace

bool registerByUrl(Json& object, const std::string& baseUrl, const std::string& caBundle) {
  Json originals = Json::object();
  bool any = false;
  Json before = object;
  eachClientConfig(object, [&](const std::string& name, Json& cc) {
    any = true;
    originals[name] = cc;
    const std::string path = pathOf(cc, name);
    cc = Json{{"url", baseUrl + path}, {"caBundle", caBundle}};
  });
  if (!any) return false;
  Json* a = annotations(object, true);
  if (!a->contains(kRestoreAnnotation)) (*a)[kRestoreAnnotation] = originals.dump();
  return object != before;
}

bool restoreRegistration(Json& object) {
  Json* a = annotations(object, false);
  if (!a || !a->contains(kRestoreAnnotation) || !(*a)[kRestoreAnnotation].is_string()) return false;
  Json originals = Json::parse((*a)[kRestoreAnnotation].get<std::string>(), nullptr, false);
  a->erase(kRestoreAnnotation);
  if (a->empty()) object["metadata"].erase("annotations");
  if (originals.is_object())
    eachClientConfig(object, [&](const std::string& name, Json& cc) {
      if (originals.contains(name)) cc = originals[name];
    });
  return true;
}

}  // namespace otel::webhook
