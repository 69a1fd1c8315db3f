// `kubectl otel allocations NAME`: what the running target allocator of collector (or TargetAllocator)
// NAME assigned, read through the API server's service proxy; `--simulate`: how each allocation strategy
// spreads a scrape config's targets over collectors, and how many targets move when collectors join or leave.
#include <filesystem>
#include <iostream>
#include <thread>

#include "lib/allocation/simulate.h"
#include "lib/core/error.h"
#include "lib/prom/scrape_config.h"
#include "lib/core/yaml.h"
#include "lib/kube/client.h"
#include "lib/kube/errors.h"
#include "lib/manifests/naming.h"
#include "lib/prom/target.h"
#include "lib/targetallocator/live.h"
#include "plugin/kube_options.h"
#include "plugin/verbs.h"

namespace otel::plugin {

namespace {

struct AllocationsOptions {
  std::string name;
  std::string job, collectorId;
  bool watch = false;
  int watchSeconds = 2;
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

// GET through /api/v1/namespaces/NS/services/http:SVC:targetallocation/proxy. `optional`: a 404 of the
// allocator itself (not of the Service) gives null.
Json proxyGet(kube::Client& client, const std::string& ns, const std::string& svc, const std::string& path,
              bool optional = false) {
  const std::string where = "service " + ns + "/" + svc;
  kube::HttpRequest req;
  req.path = "/api/v1/namespaces/" + ns + "/services/http:" + svc + ":targetallocation/proxy" + path;
  kube::HttpResponse r = client.request(req);
  Json body = Json::parse(r.body, nullptr, false);
  const bool isStatus = body.is_object() && body.value("kind", "") == "Status";
  std::string message = isStatus ? body.value("message", "") : "";
  if (r.status == 200 && !isStatus) {
    if (body.is_discarded()) throw Error("the answer to " + path + " is not JSON; is this a target allocator?", where);
    return body;
  }
  if (r.status == 404 && isStatus && message.find("services \"") == 0)
    throw Error("target allocator Service " + ns + "/" + svc + " not found", "allocations",
                "is spec.targetAllocator.enabled set on the collector (or does the TargetAllocator exist) in namespace " + ns +
                    "? kubectl get svc -n " + ns);
  if (r.status == 404 && optional) return Json();
  if (r.status == 403)
    throw Error("not allowed to read the target allocator through the API server: " + message, where,
                "reading it needs `get` on services/proxy in namespace " + ns);
  if (r.status == 503)
    throw Error("target allocator " + ns + "/" + svc + " is not reachable: " + message, "allocations",
                "check its pods and readiness: kubectl get pods -n " + ns +
                    " -l app.kubernetes.io/component=opentelemetry-targetallocator; kubectl otel doctor -n " + ns);
  throw Error("GET " + path + " answered HTTP " + std::to_string(r.status) + (message.empty() ? "" : ": " + message), where);
}

targetallocator::LiveView fetchLive(kube::Client& client, const std::string& ns, const std::string& svc) {
  Json jobs = proxyGet(client, ns, svc, "/jobs");
  std::map<std::string, Json> targets;
  if (jobs.is_object())
    for (const auto& [job, link] : jobs.items()) {
      std::string path = link.is_object() && link.contains("_link") && link["_link"].is_string()
                             ? link["_link"].get<std::string>()
                             : "/jobs/" + kube::urlEncode(job) + "/targets";
      targets[job] = proxyGet(client, ns, svc, path);
    }
  Json unassigned = proxyGet(client, ns, svc, "/unassigned", true);
  Json dropped = proxyGet(client, ns, svc, "/dropped", true);
  return targetallocator::parseLive(ns + "/" + svc, jobs, targets, unassigned, "service " + ns + "/" + svc, dropped);
}

std::string renderLiveAs(const targetallocator::LiveView& v, const std::string& output) {
  if (output == "json") return targetallocator::liveJson(v).dump(2) + "\n";
  if (output == "yaml") return toYaml(targetallocator::liveJson(v));
  return targetallocator::renderLive(v, output == "wide");
}

void runLive(const AllocationsOptions& o, const GlobalOptions& global) {
  if (global.output != "" && global.output != "wide" && global.output != "json" && global.output != "yaml")
    throw Error("unsupported output format \"" + global.output + "\" (want wide, json or yaml)", "allocations");
  kube::Client client(cliRestConfig(global));
  const std::string ns = client.config().ns;
  const std::string svc = manifests::naming::targetAllocator(o.name);
  std::string last;
  while (true) {
    auto view = targetallocator::filterLive(fetchLive(client, ns, svc), o.job, o.collectorId);
    if (!o.job.empty() && view.jobs.empty())
      throw Error("the allocator has no job \"" + o.job + "\"", "--job");
    if (!o.collectorId.empty() && view.collectors.empty())
      throw Error("the allocator has no collector \"" + o.collectorId + "\"", "--collector-id",
                  "collector ids are pod names; run without --collector-id to list them");
    std::string text = renderLiveAs(view, global.output);
    if (!o.watch) {
      std::cout << text;
      return;
    }
    if (text != last) {  // --watch: print each new state once
      std::cout << (last.empty() ? "" : "\n") << text << std::flush;
      last = std::move(text);
    }
    std::this_thread::sleep_for(std::chrono::seconds(o.watchSeconds));  // polling period of --watch
  }
}

void run(const AllocationsOptions& o, const GlobalOptions& global) {
  if (!o.simulate) {
    if (o.name.empty())
      throw Error("give the collector (or TargetAllocator) whose allocator to read, or --simulate", "allocations",
                  "kubectl otel allocations COLLECTOR -n NAMESPACE");
    return runLive(o, global);
  }
  if (o.collectors.empty()) throw Error("--simulate needs --collectors N or a,b,c", "allocations");
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
  auto* cmd = app.add_subcommand("allocations", "Show how a running target allocator assigned targets, or simulate (--simulate)");
  cmd->add_option("name", o->name, "Collector (or TargetAllocator) whose allocator to read: its Service NAME-targetallocator");
  cmd->add_option("--job", o->job, "Only this job");
  cmd->add_option("--collector-id", o->collectorId, "Only this collector (pod name)");
  cmd->add_flag("--watch", o->watch, "Keep reading and print each change");
  cmd->add_option("--watch-interval", o->watchSeconds, "Seconds between reads with --watch")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--simulate", o->simulate, "Simulate the allocation offline from a scrape config");
  cmd->add_option("--scrape-config", o->scrapeConfig,
                  "Prometheus config or targetallocator.yaml with scrape_configs (static_configs, file_sd_configs)");
  cmd->add_option("--generate-targets", o->generate, "Add N synthetic static targets (job \"generated\")");
  cmd->add_option("--collectors", o->collectors, "With --simulate: collector count N, or names a,b,c");
  cmd->add_option("--strategy", o->strategy,
                  "consistent-hashing, least-weighted, per-node or rendezvous (default: all side by side)");
  cmd->add_option("--fallback-strategy", o->fallback, "per-node fallback for targets without a node");
  cmd->add_option("--add-collector", o->add, "Collector joining after the first allocation (repeatable)");
  cmd->add_option("--remove-collector", o->remove, "Collector leaving after the first allocation (repeatable)");
  cmd->callback([o, &global] { run(*o, global); });
}

}  // namespace otel::plugin
