#include "lib/inject/live.h"

#include "lib/api/instrumentation.h"
#include "lib/core/error.h"
#include "lib/inject/workload.h"

namespace otel::inject {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

}  // namespace

std::vector<LiveResult> runLive(const std::vector<std::string>& selectors, const LiveOptions& opts,
                                const LiveAccess& access) {
  std::vector<LiveResult> results;
  for (const auto& sel : selectors) {
    LiveResult res;
    res.ref = sel;
    auto slash = sel.find('/');
    std::string kind = slash == std::string::npos ? "" : workloadKindFor(sel.substr(0, slash));
    if (kind.empty()) {
      res.error = true;
      res.outcome = "error: unsupported kind \"" + sel.substr(0, slash) +
                    "\" (supported: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod)";
      results.push_back(res);
      continue;
    }
    const std::string name = sel.substr(slash + 1);
    res.ref = lower(kind) + "/" + name;
    for (int attempt = 0;; ++attempt) {
      Json obj;
      try {
        obj = access.get(kind, opts.ns, name);
      } catch (const std::exception& e) {
        res.error = true;
        res.outcome = std::string("error: ") + e.what();
        break;
      }
      Json* tmpl = podTemplate(obj);
      if (!tmpl) {
        res.error = true;
        res.outcome = "error: no pod template";
        break;
      }
      Result r;
      if (opts.uninject) {
        r = uninjectPod(*tmpl);
      } else {
        PodContext ctx = contextForWorkload(obj, opts.ns);
        ctx.nsAnnotations = access.namespaceAnnotations ? access.namespaceAnnotations(ctx.ns) : Json::object();
        Catalog catalog = access.catalog ? access.catalog(ctx.ns) : Catalog{};
        Options o = opts.inject;
        addInlineInstrumentation(catalog, o, ctx.ns, opts.endpoint, opts.propagators, opts.sampler);
        r = opts.annotate ? annotatePod(*tmpl, o) : injectPod(*tmpl, ctx, catalog, o);
      }
      if (!r.errors.empty()) {
        res.error = true;
        res.outcome = "error: " + r.errors.front();
        break;
      }
      if (!r.changed) {
        if (opts.uninject)
          res.outcome = "skipped: " + join(r.skips);
        else
          res.outcome = r.skips.empty() ? "already injected" : "skipped: " + join(r.skips);
        res.object = obj;
        break;
      }
      *tmpl = r.pod;
      res.changed = true;
      res.outcome = (opts.uninject ? "uninjected: " : (opts.annotate ? "annotated (the webhook injects at the next rollout): " : "injected: ")) + join(r.actions);
      if (!r.skips.empty()) res.outcome += "; skipped: " + join(r.skips);
      if (opts.dryRun) {
        res.object = obj;
        break;
      }
      try {
        res.object = access.update(obj);
        break;
      } catch (const std::exception& e) {
        if (access.isConflict && access.isConflict(e) && attempt < opts.maxConflictRetries) {
          ++res.conflicts;
          res.changed = false;
          continue;  // fresh read, mutate again
        }
        res.error = true;
        res.changed = false;
        res.outcome = std::string("error: ") + e.what();
        break;
      }
    }
    results.push_back(std::move(res));
  }
  return results;
}

}  // namespace otel::inject
