// `kubectl otel allocations --simulate`: how each allocation strategy spreads a scrape config's targets
// over collectors, and how many targets move when collectors join or leave.
#include <filesystem>
#include <iostream>

#include "lib/allocation/simulate.h"
#include "lib/core/error.h"
#include "lib/prom/scrape_config.h"
#include "lib/prom/target.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct AllocationsOptions {
  bool simulate = false;
  std::string scrapeConfig;
  std::size_t generate = 0;
  std::string collectors;
  std::string strategy;
  std::string fallback;
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

allocation::Strategy strategyOrThrow(const std::string& name, const std::string& flag) {
  auto s = allocation::parseStrategy(name);
  if (!s)
    throw Error("unknown allocation strategy \"" + name + "\"", flag,
                "use consistent-hashing, least-weighted, per-node or rendezvous");
  return *s;
}

void run(const AllocationsOptions& o, const GlobalOptions& global) {
  if (!o.simulate)
    throw Error("live inspection of a running allocator is not available yet; use --simulate", "allocations");
  if (o.scrapeConfig.empty() && o.generate == 0)
    throw Error("give --scrape-config FILE and/or --generate-targets N", "allocations");
  if (global.output != "" && global.output != "json")
    throw Error("unsupported output format \"" + global.output + "\" (want json)", "allocations");
  allocation::SimulationInput in;
  if (!o.scrapeConfig.empty()) {
    prom::PromConfig cfg = prom::loadPromConfig(o.scrapeConfig);
    auto dir = std::filesystem::path(o.scrapeConfig).parent_path().string();
    in.targets = prom::buildTargets(cfg, dir.empty() ? "." : dir);
    for (const auto& sc : cfg.scrapeConfigs) in.jobNames.push_back(sc.jobName);
  }
  if (o.generate > 0) {
    auto job = static_cast<std::uint32_t>(in.jobNames.size());
    in.jobNames.push_back("generated");
    auto gen = allocation::generateTargets(o.generate, job, "generated");
    in.targets.insert(in.targets.end(), std::make_move_iterator(gen.begin()), std::make_move_iterator(gen.end()));
  }
  in.collectors = allocation::parseCollectorSpec(o.collectors);
  if (!o.strategy.empty()) in.strategies = {strategyOrThrow(o.strategy, "--strategy")};
  if (!o.fallback.empty()) in.fallback = strategyOrThrow(o.fallback, "--fallback-strategy");
  in.addCollectors = o.add;
  in.removeCollectors = o.remove;
  auto result = allocation::simulate(in);
  if (global.output == "json") {
    std::cout << allocation::simulationJson(result, in, true).dump(2) << "\n";
  } else {
    std::cout << allocation::renderSimulation(result);
  }
}

}  // namespace

void addAllocationsVerb(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<AllocationsOptions>();
  auto* cmd = app.add_subcommand("allocations", "Show how targets are allocated to collectors (--simulate)");
  cmd->add_flag("--simulate", o->simulate, "Simulate the allocation offline from a scrape config");
  cmd->add_option("--scrape-config", o->scrapeConfig,
                  "Prometheus config or targetallocator.yaml with scrape_configs (static_configs, file_sd_configs)");
  cmd->add_option("--generate-targets", o->generate, "Add N synthetic static targets (job \"generated\")");
  cmd->add_option("--collectors", o->collectors, "Collector count N, or names a,b,c")->required();
  cmd->add_option("--strategy", o->strategy,
                  "consistent-hashing, least-weighted, per-node or rendezvous (default: all side by side)");
  cmd->add_option("--fallback-strategy", o->fallback, "per-node fallback for targets without a node");
  cmd->add_option("--add-collector", o->add, "Collector joining after the first allocation (repeatable)");
  cmd->add_option("--remove-collector", o->remove, "Collector leaving after the first allocation (repeatable)");
  cmd->callback([o, &global] { run(*o, global); });
}

}  // namespace otel::plugin
