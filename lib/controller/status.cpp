#include "lib/controller/status.h"

#include <chrono>
#include <ctime>
#include <map>

#include "lib/api/common.h"

namespace otel::controller {

using api::at;
using api::integer;
using api::str;

std::string selectorString(const Json& labels) {
  if (!labels.is_object()) return "";
  std::map<std::string, std::string> sorted;
  for (auto it = labels.begin(); it != labels.end(); ++it)
    sorted[it.key()] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += ",";
    out += k + "=" + v;
  }
  return out;
}

Json collectorStatus(const Json& collector, const Json* workload, const std::string& error,
                     const std::string& collectorVersion, const std::string& now) {
  const Json* old = at(collector, {"status"});
  Json st = old && old->is_object() ? *old : Json::object();
  if (str(st, {"version"}).empty()) st["version"] = collectorVersion;
  long long generation = integer(collector, {"metadata", "generation"}, 0);
  if (error.empty()) {
    std::string mode = str(collector, {"spec", "mode"}, "deployment");
    Json scale = Json::object();
    if (mode == "sidecar") {
      scale["replicas"] = 0;
      scale["selector"] = "";
    } else if (workload && workload->is_object()) {
      const Json* labels = at(*workload, {"spec", "template", "metadata", "labels"});
      scale["selector"] = labels ? selectorString(*labels) : "";
      long long replicas = 0, ready = 0;
      if (mode == "daemonset") {
        replicas = integer(*workload, {"status", "desiredNumberScheduled"});
        ready = integer(*workload, {"status", "numberReady"});
      } else {
        replicas = integer(*workload, {"status", "replicas"});
        ready = integer(*workload, {"status", "readyReplicas"});
      }
      scale["replicas"] = replicas;
      scale["statusReplicas"] = std::to_string(ready) + "/" + std::to_string(replicas);
      const Json* containers = at(*workload, {"spec", "template", "spec"});
      if (containers && containers->contains("containers") && (*containers)["containers"].is_array() &&
          !(*containers)["containers"].empty())
        st["image"] = str((*containers)["containers"][0], {"image"});
    }
    if (!scale.empty()) st["scale"] = scale;
  }
  if (generation > 0) st["observedGeneration"] = generation;
  Json cond = {{"type", "Ready"},
               {"status", error.empty() ? "True" : "False"},
               {"observedGeneration", generation},
               {"lastTransitionTime", now},
               {"reason", error.empty() ? "Reconciled" : "ReconcileError"},
               {"message", error.empty() ? "Successfully reconciled" : error}};
  Json conditions = Json::array();
  bool placed = false;
  if (st.contains("conditions") && st["conditions"].is_array()) {
    for (const auto& c : st["conditions"]) {
      if (c.is_object() && c.value("type", "") == "Ready") {
        if (c.value("status", "") == cond["status"] && c.contains("lastTransitionTime"))
          cond["lastTransitionTime"] = c["lastTransitionTime"];
        conditions.push_back(cond);
        placed = true;
      } else {
        conditions.push_back(c);
      }
    }
  }
  if (!placed) conditions.push_back(cond);
  st["conditions"] = conditions;
  return st;
}

Json targetAllocatorStatus(const Json& ta, const Json* deployment, const std::string& version) {
  const Json* old = at(ta, {"status"});
  Json st = old && old->is_object() ? *old : Json::object();
  if (str(st, {"version"}).empty()) st["version"] = version;
  if (deployment) {
    const Json* spec = at(*deployment, {"spec", "template", "spec"});
    if (spec && spec->contains("containers") && (*spec)["containers"].is_array() && !(*spec)["containers"].empty())
      st["image"] = str((*spec)["containers"][0], {"image"});
  }
  return st;
}

std::string nowRfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace otel::controller
