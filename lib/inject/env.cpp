#include "lib/inject/env.h"

namespace otel::inject {

int indexOfEnv(const Json& env, const std::string& name) {
  if (!env.is_array()) return -1;
  for (size_t i = 0; i < env.size(); ++i) {
    const Json& e = env[i];
    if (e.is_object() && e.contains("name") && e["name"].is_string() && e["name"].get<std::string>() == name)
      return static_cast<int>(i);
  }
  return -1;
}

void appendIfNotSet(Json& env, const Json& add) {
  if (!add.is_array()) return;
  for (const auto& e : add) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) continue;
    if (indexOfEnv(env, e["name"].get<std::string>()) < 0) env.push_back(e);
  }
}

void appendEnv(Json& env, const std::string& name, const std::string& value) {
  env.push_back(Json{{"name", name}, {"value", value}});
}

void appendEnvFieldRef(Json& env, const std::string& name, const std::string& fieldPath, bool apiVersion) {
  Json ref = Json::object();
  if (apiVersion) ref["apiVersion"] = "v1";
  ref["fieldPath"] = fieldPath;
  env.push_back(Json{{"name", name}, {"valueFrom", Json{{"fieldRef", ref}}}});
}

void moveEnvToEnd(Json& env, const std::string& name) {
  int idx = indexOfEnv(env, name);
  if (idx < 0) return;
  Json e = env[static_cast<size_t>(idx)];
  env.erase(static_cast<size_t>(idx));
  env.push_back(std::move(e));
}

Json& containerEnv(Json& container) {
  Json& env = container["env"];
  if (!env.is_array()) env = Json::array();
  return env;
}

}  // namespace otel::inject
