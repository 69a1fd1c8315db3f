// `allocations --simulate`: runs strategies over a fixed target set and collector set, optionally
// adding/removing collectors, and reports per-collector counts, spread (max/mean) and churn. Pure.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "lib/allocation/allocator.h"
#include "lib/core/json.h"
#include "lib/prom/target.h"

namespace otel::allocation {

struct SimulationInput {
  std::vector<prom::Target> targets;
  std::vector<std::string> jobNames;  // index = Target::job
  std::vector<Collector> collectors;
  std::vector<std::string> addCollectors;
  std::vector<std::string> removeCollectors;
  std::vector<Strategy> strategies;  // empty: every strategy
  std::optional<Strategy> fallback;  // per-node fallback
};

struct Distribution {
  std::vector<std::pair<std::string, std::size_t>> counts;  // per collector, name order
  std::size_t unassigned = 0;
  double spread = 0;  // max / mean over collectors (0 without collectors or targets)
};

struct StrategyResult {
  Strategy strategy;
  Distribution before;
  std::optional<Distribution> after;  // set when collectors were added or removed
  std::size_t moved = 0;              // assigned targets whose collector changed
  double idealMoved = 0;              // the minimum churn for this change
  std::vector<std::pair<std::uint64_t, std::string>> assignment;  // final: target hash -> collector ("" none)
};

struct SimulationResult {
  std::size_t targets = 0;
  std::size_t jobs = 0;
  std::vector<std::string> collectorsBefore, collectorsAfter;
  bool churn = false;
  std::vector<StrategyResult> strategies;
};

// "3" -> collector-0..collector-2; "a,b,c" -> those names. Each collector's node is its own name.
// Throws otel::Error on an empty list, a count below 1, or duplicate names.
std::vector<Collector> parseCollectorSpec(const std::string& spec);

// N synthetic static targets 10.a.b.c:9100 for one job (index `job`), 5 per group label `group`.
std::vector<prom::Target> generateTargets(std::size_t n, std::uint32_t job, const std::string& jobName);

SimulationResult simulate(const SimulationInput& input);

// Human table: one block per strategy (collector counts before/after) and a side-by-side summary.
std::string renderSimulation(const SimulationResult& r);
// JSON report; with `assignments`, every final assignment {job, target, collector}.
Json simulationJson(const SimulationResult& r, const SimulationInput& input, bool assignments);

}  // namespace otel::allocation
