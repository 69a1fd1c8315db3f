#include "lib/allocation/simulate.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "lib/core/error.h"

namespace otel::allocation {

namespace {

Distribution distribution(const Allocator& a) {
  Distribution d;
  auto loads = a.loads();
  for (std::size_t i = 0; i < loads.size(); ++i) d.counts.emplace_back(a.collectors()[i].name, loads[i]);
  d.unassigned = a.unassignedCount();
  if (!loads.empty() && a.targetCount() > 0) {
    double mean = static_cast<double>(a.targetCount()) / static_cast<double>(loads.size());
    d.spread = static_cast<double>(*std::max_element(loads.begin(), loads.end())) / mean;
  }
  return d;
}

std::unordered_map<std::uint64_t, int> assignmentOf(const Allocator& a) {
  std::unordered_map<std::uint64_t, int> m;
  m.reserve(a.targetCount());
  a.forEach([&](const prom::Target& t, int c) { m[t.hash] = c; });
  return m;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}
std::string lpad(std::string s, std::size_t w) {
  if (s.size() < w) s.insert(0, w - s.size(), ' ');
  return s;
}

}  // namespace

std::vector<Collector> parseCollectorSpec(const std::string& spec) {
  std::vector<Collector> out;
  bool numeric = !spec.empty() && std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (numeric) {
    long n = std::stol(spec);
    if (n < 1 || n > 100000) throw Error("--collectors " + spec + ": want a count from 1 to 100000 or a list a,b,c");
    for (long i = 0; i < n; ++i) out.push_back({"collector-" + std::to_string(i), "collector-" + std::to_string(i)});
    return out;
  }
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    std::string name = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) throw Error("--collectors \"" + spec + "\": empty collector name");
    if (!seen.insert(name).second) throw Error("--collectors \"" + spec + "\": duplicate collector " + name);
    out.push_back({name, name});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<prom::Target> generateTargets(std::size_t n, std::uint32_t job, const std::string& jobName) {
  std::vector<prom::Target> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    prom::Target t;
    t.job = job;
    prom::Labels l;
    l.set(prom::kAddressLabel, "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
                                   std::to_string(i % 256) + ":9100");
    l.set("group", std::to_string(i / 5));
    t.labels = prom::PackedLabels(l);
    l.set(prom::kJobLabel, jobName);
    t.hash = prom::targetHash(l, jobName);
    out.push_back(std::move(t));
  }
  return out;
}

SimulationResult simulate(const SimulationInput& in) {
  SimulationResult r;
  r.targets = in.targets.size();
  r.jobs = in.jobNames.size();
  for (const auto& c : in.collectors) r.collectorsBefore.push_back(c.name);
  std::vector<Collector> after = in.collectors;
  for (const auto& name : in.removeCollectors) {
    auto it = std::find_if(after.begin(), after.end(), [&](const Collector& c) { return c.name == name; });
    if (it == after.end()) throw Error("--remove-collector " + name + ": no such collector");
    after.erase(it);
  }
  for (const auto& name : in.addCollectors) {
    if (std::any_of(after.begin(), after.end(), [&](const Collector& c) { return c.name == name; }))
      throw Error("--add-collector " + name + ": collector already exists");
    after.push_back({name, name});
  }
  r.churn = !in.addCollectors.empty() || !in.removeCollectors.empty();
  for (const auto& c : after) r.collectorsAfter.push_back(c.name);
  std::sort(r.collectorsBefore.begin(), r.collectorsBefore.end());
  std::sort(r.collectorsAfter.begin(), r.collectorsAfter.end());

  const auto& strategies = in.strategies.empty() ? allStrategies() : in.strategies;
  for (Strategy s : strategies) {
    StrategyResult sr;
    sr.strategy = s;
    Allocator a(s, in.fallback);
    a.setCollectors(in.collectors);
    a.setTargets(in.targets);
    sr.before = distribution(a);
    if (r.churn) {
      auto beforeMap = assignmentOf(a);
      std::vector<std::string> beforeNames;
      for (const auto& c : a.collectors()) beforeNames.push_back(c.name);
      a.setCollectors(after);
      sr.after = distribution(a);
      std::size_t assignedBefore = 0, onRemoved = 0;
      std::set<std::string> removed(in.removeCollectors.begin(), in.removeCollectors.end());
      a.forEach([&](const prom::Target& t, int c) {
        int was = beforeMap[t.hash];
        if (was < 0) return;
        ++assignedBefore;
        if (removed.count(beforeNames[was])) ++onRemoved;
        std::string now = c >= 0 ? a.collectors()[c].name : "";
        if (now != beforeNames[was]) ++sr.moved;
      });
      // Ideal churn: the removed collectors' targets, plus what the newcomers' even share needs.
      double share = after.empty() ? 0 : static_cast<double>(a.targetCount()) / static_cast<double>(after.size());
      sr.idealMoved = static_cast<double>(onRemoved) + share * static_cast<double>(in.addCollectors.size());
      sr.idealMoved = std::min(sr.idealMoved, static_cast<double>(assignedBefore));
    }
    a.forEach([&](const prom::Target& t, int c) {
      sr.assignment.emplace_back(t.hash, c >= 0 ? a.collectors()[c].name : std::string());
    });
    r.strategies.push_back(std::move(sr));
  }
  return r;
}

std::string renderSimulation(const SimulationResult& r) {
  std::string out;
  out += "Simulated " + std::to_string(r.targets) + " targets (" + std::to_string(r.jobs) + " job" +
         (r.jobs == 1 ? "" : "s") + ") over " + std::to_string(r.collectorsBefore.size()) + " collectors";
  if (r.churn) out += ", then " + std::to_string(r.collectorsAfter.size());
  out += "\n";
  std::size_t nameW = 9;
  for (const auto& n : r.collectorsBefore) nameW = std::max(nameW, n.size());
  for (const auto& n : r.collectorsAfter) nameW = std::max(nameW, n.size());
  nameW += 2;
  for (const auto& s : r.strategies) {
    out += "\n" + std::string(strategyName(s.strategy)) + "\n";
    out += "  " + pad("COLLECTOR", nameW) + lpad("BEFORE", 8) + (r.churn ? lpad("AFTER", 8) : "") + "\n";
    std::set<std::string> all(r.collectorsBefore.begin(), r.collectorsBefore.end());
    all.insert(r.collectorsAfter.begin(), r.collectorsAfter.end());
    auto countIn = [](const Distribution& d, const std::string& n) -> std::string {
      for (const auto& [name, c] : d.counts)
        if (name == n) return std::to_string(c);
      return "-";
    };
    for (const auto& n : all) {
      out += "  " + pad(n, nameW) + lpad(countIn(s.before, n), 8);
      if (s.after) out += lpad(countIn(*s.after, n), 8);
      out += "\n";
    }
    if (s.before.unassigned || (s.after && s.after->unassigned)) {
      out += "  " + pad("(none)", nameW) + lpad(std::to_string(s.before.unassigned), 8);
      if (s.after) out += lpad(std::to_string(s.after->unassigned), 8);
      out += "\n";
    }
  }
  // pad("STRATEGY", 20) + lpad("SPREAD", 8) + lpad("UNASSIGNED", 12), written out: g++ 12 warns
  // (-Warray-bounds, a false positive) on the short literals copied into std::string here.
  out += "\nSTRATEGY              SPREAD  UNASSIGNED";
  if (r.churn) out += lpad("SPREAD'", 9) + lpad("MOVED", 8) + lpad("MOVED%", 8) + lpad("IDEAL%", 8) + lpad("xIDEAL", 8);
  out += "\n";
  for (const auto& s : r.strategies) {
    const Distribution& fin = s.after ? *s.after : s.before;
    out += pad(std::string(strategyName(s.strategy)), 20) + lpad(fmt("%.3f", s.before.spread), 8) +
           lpad(std::to_string(fin.unassigned), 12);
    if (r.churn) {
      double pct = r.targets ? 100.0 * static_cast<double>(s.moved) / static_cast<double>(r.targets) : 0;
      double ideal = r.targets ? 100.0 * s.idealMoved / static_cast<double>(r.targets) : 0;
      out += lpad(fmt("%.3f", s.after->spread), 9) + lpad(std::to_string(s.moved), 8) + lpad(fmt("%.1f", pct), 8) +
             lpad(fmt("%.1f", ideal), 8) + lpad(s.idealMoved > 0 ? fmt("%.2f", static_cast<double>(s.moved) / s.idealMoved) : "-", 8);
    }
    out += "\n";
  }
  out += "\nspread = max/mean targets per collector (1.000 is perfect); moved = targets whose collector changed;\n"
         "ideal = the removed collectors' targets plus the newcomers' even share.\n";
  return out;
}

Json simulationJson(const SimulationResult& r, const SimulationInput& in, bool assignments) {
  auto dist = [](const Distribution& d) {
    Json counts = Json::object();
    for (const auto& [n, c] : d.counts) counts[n] = c;
    return Json{{"counts", counts}, {"unassigned", d.unassigned}, {"spread", d.spread}};
  };
  std::unordered_map<std::uint64_t, const prom::Target*> byHash;
  if (assignments)
    for (const auto& t : in.targets) byHash[t.hash] = &t;
  Json out = {{"targets", r.targets},
              {"jobs", r.jobs},
              {"collectors", r.collectorsBefore},
              {"strategies", Json::array()}};
  if (r.churn) out["collectorsAfter"] = r.collectorsAfter;
  for (const auto& s : r.strategies) {
    Json j = {{"strategy", std::string(strategyName(s.strategy))}, {"before", dist(s.before)}};
    if (s.after) {
      j["after"] = dist(*s.after);
      j["moved"] = s.moved;
      j["idealMoved"] = s.idealMoved;
    }
    if (assignments) {
      Json list = Json::array();
      for (const auto& [h, c] : s.assignment) {
        const prom::Target* t = byHash[h];
        if (!t) continue;
        std::string job = t->job < in.jobNames.size() ? in.jobNames[t->job] : "";
        list.push_back({{"job", job}, {"target", std::string(t->address())}, {"collector", c}});
      }
      j["assignments"] = std::move(list);
    }
    out["strategies"].push_back(std::move(j));
  }
  return out;
}

}  // namespace otel::allocation
