#include "lib/targetallocator/collectors.h"

#include <algorithm>

#include "lib/core/time.h"

namespace otel::targetallocator {

namespace {

std::string stringAt(const Json& obj, const char* a, const char* b) {
  auto ia = obj.find(a);
  if (ia == obj.end() || !ia->is_object()) return "";
  auto ib = ia->find(b);
  return ib != ia->end() && ib->is_string() ? ib->get<std::string>() : "";
}

// now - t > grace; a missing or malformed time counts as beyond the grace period.
bool beyond(const std::string& t, std::chrono::milliseconds grace, std::chrono::system_clock::time_point now) {
  auto tp = parseRfc3339(t);
  return !tp || now - *tp > grace;
}

}  // namespace

bool collectorPodUsable(const Json& pod, std::chrono::milliseconds grace, std::chrono::system_clock::time_point now) {
  if (!pod.is_object() || stringAt(pod, "spec", "nodeName").empty()) return false;
  if (grace.count() <= 0) return true;
  if (stringAt(pod, "status", "phase") != "Running" && beyond(stringAt(pod, "status", "startTime"), grace, now))
    return false;
  std::string readyStatus, readySince;
  if (auto st = pod.find("status"); st != pod.end() && st->is_object())
    if (auto conds = st->find("conditions"); conds != st->end() && conds->is_array())
      for (const auto& c : *conds)
        if (c.is_object() && c.value("type", "") == "Ready") {
          readyStatus = c.value("status", "");
          readySince = c.value("lastTransitionTime", "");
        }
  if (readyStatus != "True" && beyond(readySince, grace, now)) return false;
  return true;
}

std::vector<allocation::Collector> usableCollectors(const std::vector<Json>& pods, std::chrono::milliseconds grace,
                                                    std::chrono::system_clock::time_point now) {
  std::vector<allocation::Collector> out;
  for (const auto& p : pods)
    if (collectorPodUsable(p, grace, now)) out.push_back({stringAt(p, "metadata", "name"), stringAt(p, "spec", "nodeName")});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

bool sameCollectors(const std::vector<allocation::Collector>& a, const std::vector<allocation::Collector>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.name == y.name && x.node == y.node; });
}

void trimCollectorPod(Json& pod) {
  if (!pod.is_object()) return;
  Json out = Json::object();
  if (auto m = pod.find("metadata"); m != pod.end() && m->is_object()) {
    Json meta = Json::object();
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp"})
      if (m->contains(k)) meta[k] = (*m)[k];
    out["metadata"] = std::move(meta);
  }
  if (auto n = stringAt(pod, "spec", "nodeName"); !n.empty()) out["spec"] = {{"nodeName", n}};
  if (auto st = pod.find("status"); st != pod.end() && st->is_object()) {
    Json status = Json::object();
    for (const char* k : {"phase", "startTime"})
      if (st->contains(k)) status[k] = (*st)[k];
    if (auto conds = st->find("conditions"); conds != st->end() && conds->is_array())
      for (const auto& c : *conds)
        if (c.is_object() && c.value("type", "") == "Ready") status["conditions"] = Json::array({c});
    out["status"] = std::move(status);
  }
  pod = std::move(out);
}

}  // namespace otel::targetallocator
