#include "lib/targetallocator/live.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "lib/core/error.h"

namespace otel::targetallocator {

std::size_t LiveCollector::total() const {
  std::size_t n = 0;
  for (const auto& [job, ts] : targets) n += ts.size();
  return n;
}

LiveView parseLive(const std::string& allocator, const Json& jobs, const std::map<std::string, Json>& targets,
                   const Json& unassigned, const std::string& source, const Json& dropped) {
  LiveView v;
  v.allocator = allocator;
  if (!jobs.is_object()) throw Error("/jobs is not a JSON object; is this a target allocator?", source);
  for (const auto& [job, link] : jobs.items()) v.jobs.push_back(job);
  std::sort(v.jobs.begin(), v.jobs.end());
  std::map<std::string, LiveCollector> byName;
  for (const auto& [job, body] : targets) {
    if (!body.is_object()) throw Error("/jobs/" + job + "/targets is not a JSON object", source);
    for (const auto& [collector, entry] : body.items()) {
      auto& c = byName[collector];
      c.name = collector;
      auto& list = c.targets[job];
      if (entry.is_object() && entry.contains("targets") && entry["targets"].is_array())
        for (const auto& group : entry["targets"])
          if (group.is_object() && group.contains("targets") && group["targets"].is_array())
            for (const auto& t : group["targets"])
              if (t.is_string()) list.push_back(t.get<std::string>());
      std::sort(list.begin(), list.end());
    }
  }
  for (auto& [name, c] : byName) v.collectors.push_back(std::move(c));
  if (unassigned.is_object()) {
    std::vector<LiveUnassigned> u;
    for (const auto& [job, list] : unassigned.items())
      if (list.is_array())
        for (const auto& e : list)
          if (e.is_object()) u.push_back({job, e.value("target", ""), e.value("reason", "")});
    v.unassigned = std::move(u);
  }
  if (dropped.is_object()) {
    std::vector<LiveDropped> d;
    for (const auto& [job, entry] : dropped.items()) {
      // a list, or {"targets": [...], "_more": N} beyond the allocator's limit
      const Json& list = entry.is_object() && entry.contains("targets") ? entry["targets"] : entry;
      std::size_t n = 0;
      if (list.is_array())
        for (const auto& e : list)
          if (e.is_object()) {
            d.push_back({job, e.value("target", ""), e.value("reason", "")});
            ++n;
          }
      if (entry.is_object() && entry.contains("_more") && entry["_more"].is_number_unsigned())
        n += entry["_more"].get<std::size_t>();
      v.droppedPerJob[job] = n;
    }
    v.dropped = std::move(d);
  }
  return v;
}

LiveView filterLive(LiveView v, const std::string& job, const std::string& collector) {
  if (!collector.empty())
    std::erase_if(v.collectors, [&](const LiveCollector& c) { return c.name != collector; });
  if (!job.empty()) {
    std::erase_if(v.jobs, [&](const std::string& j) { return j != job; });
    for (auto& c : v.collectors) std::erase_if(c.targets, [&](const auto& kv) { return kv.first != job; });
    if (v.unassigned) std::erase_if(*v.unassigned, [&](const LiveUnassigned& u) { return u.job != job; });
    if (v.dropped) std::erase_if(*v.dropped, [&](const LiveDropped& d) { return d.job != job; });
    std::erase_if(v.droppedPerJob, [&](const auto& kv) { return kv.first != job; });
  }
  return v;
}

double liveSpread(const LiveView& v) {
  std::size_t total = 0, mx = 0;
  for (const auto& c : v.collectors) {
    total += c.total();
    mx = std::max(mx, c.total());
  }
  if (total == 0 || v.collectors.empty()) return 0;
  return static_cast<double>(mx) / (static_cast<double>(total) / static_cast<double>(v.collectors.size()));
}

namespace {

std::string pad(const std::string& s, std::size_t w) { return s.size() >= w ? s + "  " : s + std::string(w - s.size() + 2, ' '); }

std::string fixed(double d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", d);
  return b;
}

}  // namespace

std::string renderLive(const LiveView& v, bool wide) {
  std::size_t total = 0;
  for (const auto& c : v.collectors) total += c.total();
  std::string out = "Target allocator " + v.allocator + ": " + std::to_string(v.collectors.size()) + " collectors, " +
                    std::to_string(total) + " assigned targets in " + std::to_string(v.jobs.size()) + " jobs, spread (max/mean) " +
                    fixed(liveSpread(v)) + "\n\n";
  std::size_t w = std::string("COLLECTOR").size();
  for (const auto& c : v.collectors) w = std::max(w, c.name.size());
  if (v.collectors.empty()) {
    out += "No collectors: the allocator has no ready collector pod to assign to.\n";
  } else {
    out += pad("COLLECTOR", w) + "TARGETS  JOBS\n";
    for (const auto& c : v.collectors) {
      std::size_t jobs = 0;
      for (const auto& [j, ts] : c.targets) jobs += ts.empty() ? 0 : 1;
      out += pad(c.name, w) + pad(std::to_string(c.total()), 7) + std::to_string(jobs) + "\n";
    }
  }
  std::size_t jw = std::string("JOB").size();
  for (const auto& j : v.jobs) jw = std::max(jw, j.size());
  out += "\n" + pad("JOB", jw) + "TARGETS  COLLECTORS\n";
  for (const auto& j : v.jobs) {
    std::size_t n = 0, holders = 0;
    for (const auto& c : v.collectors)
      if (auto it = c.targets.find(j); it != c.targets.end() && !it->second.empty()) {
        n += it->second.size();
        ++holders;
      }
    out += pad(j, jw) + pad(std::to_string(n), 7) + std::to_string(holders) + "\n";
  }
  if (wide && !v.collectors.empty()) {
    out += "\n" + pad("COLLECTOR", w) + pad("JOB", jw) + "TARGET\n";
    for (const auto& c : v.collectors)
      for (const auto& [j, ts] : c.targets)
        for (const auto& t : ts) out += pad(c.name, w) + pad(j, jw) + t + "\n";
  }
  out += "\n";
  if (!v.unassigned) {
    out += "Unassigned targets: not reported by this allocator (upstream's has no /unassigned).\n";
  } else if (v.unassigned->empty()) {
    out += "Unassigned targets: none.\n";
  } else {
    out += "Unassigned targets: " + std::to_string(v.unassigned->size()) + "\n";
    for (const auto& u : *v.unassigned) out += "  " + u.job + " " + u.target + ": " + u.reason + "\n";
  }
  if (!v.dropped) {
    out += "Dropped by relabeling: not reported by this allocator (upstream's has no /dropped).\n";
  } else {
    std::size_t total = 0;
    for (const auto& [j, n] : v.droppedPerJob) total += n;
    if (total == 0) {
      out += "Dropped by relabeling: none.\n";
    } else {
      out += "Dropped by relabeling: " + std::to_string(total) + "\n";
      // per job, grouped by the rule (the reason up to its values), with one example
      for (const auto& [job, n] : v.droppedPerJob) {
        if (n == 0) continue;
        out += "  " + job + ": " + std::to_string(n) + "\n";
        std::map<std::string, std::pair<std::size_t, const LiveDropped*>> byRule;
        for (const auto& d : *v.dropped)
          if (d.job == job) {
            auto& e = byRule[d.reason.substr(0, d.reason.find(": "))];
            if (!e.second) e.second = &d;
            ++e.first;
          }
        for (const auto& [rule, e] : byRule)
          out += "    " + std::to_string(e.first) + " × " + rule + " (e.g. " + e.second->target + ": " + e.second->reason + ")\n";
      }
      if (wide)
        for (const auto& d : *v.dropped) out += "  " + d.job + " " + d.target + ": " + d.reason + "\n";
    }
  }
  return out;
}

Json liveJson(const LiveView& v) {
  Json out = Json::object();
  out["allocator"] = v.allocator;
  Json cs = Json::array();
  for (const auto& c : v.collectors) {
    Json jobs = Json::object();
    for (const auto& [j, ts] : c.targets) jobs[j] = ts;
    cs.push_back({{"name", c.name}, {"targets", c.total()}, {"jobs", jobs}});
  }
  out["collectors"] = cs;
  out["jobs"] = v.jobs;
  out["spread"] = liveSpread(v);
  if (v.unassigned) {
    Json u = Json::array();
    for (const auto& x : *v.unassigned) u.push_back({{"job", x.job}, {"target", x.target}, {"reason", x.reason}});
    out["unassigned"] = u;
  } else {
    out["unassigned"] = nullptr;
  }
  if (v.dropped) {
    Json d = Json::array();
    for (const auto& x : *v.dropped) d.push_back({{"job", x.job}, {"target", x.target}, {"reason", x.reason}});
    out["dropped"] = d;
    out["droppedPerJob"] = v.droppedPerJob;
  } else {
    out["dropped"] = nullptr;
  }
  return out;
}

}  // namespace otel::targetallocator
