// `kubectl otel allocations NAME`: what a running allocator assigned, from its HTTP API (/jobs,
// /jobs/{job}/targets, and kubectl-otel's /unassigned and /dropped when the allocator has them),
// summarised and rendered.
// Pure: the answers come in as JSON, the plugin fetches them.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::targetallocator {

struct LiveCollector {
  std::string name;
  std::map<std::string, std::vector<std::string>> targets;  // job -> addresses (sorted)
  std::size_t total() const;
};

struct LiveUnassigned {
  std::string job, target, reason;
};

// A discovered target the job's relabeling dropped, with the rule (kubectl-otel's /dropped).
struct LiveDropped {
  std::string job, target, reason;
};

struct LiveView {
  std::string allocator;  // "ns/service"
  std::vector<std::string> jobs;
  std::vector<LiveCollector> collectors;  // by name
  std::optional<std::vector<LiveUnassigned>> unassigned;  // nullopt: the allocator does not report them (upstream's)
  // Targets dropped by relabeling (those listed), and per job how many in all; nullopt as above.
  std::optional<std::vector<LiveDropped>> dropped;
  std::map<std::string, std::size_t> droppedPerJob;
};

// jobs: /jobs; targets: job -> /jobs/{job}/targets; unassigned: /unassigned or null; dropped: /dropped or
// null. Throws otel::Error (naming `source`) for answers of another shape.
LiveView parseLive(const std::string& allocator, const Json& jobs, const std::map<std::string, Json>& targets,
                   const Json& unassigned, const std::string& source, const Json& dropped = Json());
// Keeps one job and/or one collector ("" = all).
LiveView filterLive(LiveView view, const std::string& job, const std::string& collector);
// max/mean of the per-collector target counts (0 without targets).
double liveSpread(const LiveView& view);
// The human table; wide adds one line per target.
std::string renderLive(const LiveView& view, bool wide);
Json liveJson(const LiveView& view);

}  // namespace otel::targetallocator
