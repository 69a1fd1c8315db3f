#include "lib/inject/live.h"

#include <exception>
#include <functional>
#include <map>
#include <memory>

#include "lib/api/instrumentation.h"
#include "lib/api/common.h"
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

// `read`, called at most once per namespace (the answers are kept for the run).
template <class V>
std::function<V(const std::string&)> perNamespace(std::function<V(const std::string&)> read) {
  auto cache = std::make_shared<std::map<std::string, V>>();
  return [cache, read = std::move(read)](const std::string& ns) {
    auto it = cache->find(ns);
    if (it == cache->end()) it = cache->emplace(ns, read(ns)).first;
    return it->second;
  };
}

// What happens to running pods after the template changed.
std::string rolloutNote(const std::string& kind, bool annotate) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet") return "pods are replaced by the rollout";
  if (kind == "CronJob") return "Jobs created from now on get it";
  if (kind == "Job") return "pods created from now on get it";
  if (kind == "ReplicaSet" || kind == "ReplicationController")
    return "running pods keep the old template until they are recreated";
  if (kind == "Pod" && annotate) return "the webhook acts when a pod is created: recreate the pod";
  return "";
}

struct Target {
  std::string kind, name;
  Json listed;  // the object as listed (--all / -l), else null
  std::string skip;  // set: reported as skipped, not touched
  LiveResult res;
};

struct Mutation {
  Result r;
  Json after;
};

// Mutates a fresh copy of the workload; selection errors come back in r.errors (live wording).
Mutation mutate(const Json& obj, const LiveOptions& opts, const LiveAccess& access) {
  Mutation m;
  m.after = obj;
  Json* tmpl = podTemplate(m.after);
  if (!tmpl) {
    static const std::string kNoTemplate = "no pod template (spec.template)";
    m.r.errors.push_back(kNoTemplate);
    return m;
  }
  if (opts.uninject) {
    m.r = uninjectPod(*tmpl);
  } else {
    PodContext ctx = contextForWorkload(obj, opts.ns);
    ctx.nsAnnotations = access.namespaceAnnotations ? access.namespaceAnnotations(ctx.ns) : Json::object();
    Catalog catalog = access.catalog ? access.catalog(ctx.ns) : Catalog{};
    Options o = opts.inject;
    addInlineInstrumentation(catalog, o, ctx.ns, opts.endpoint, opts.propagators, opts.sampler);
    if (opts.annotate) {
      // The webhook would fail open on a missing Instrumentation or Collector: check them now.
      Result check = injectPod(*tmpl, ctx, catalog, o);
      m.r = annotatePod(*tmpl, o);
      if (!check.errors.empty()) m.r.errors.insert(m.r.errors.begin(), check.errors.front());
    } else {
      m.r = injectPod(*tmpl, ctx, catalog, o);
    }
    for (auto& e : m.r.errors) e = explainSelectionError(e, ctx.ns, o);
  }
  if (m.r.changed) *tmpl = m.r.pod;
  return m;
}

bool allAlready(const std::vector<std::string>& skips) {
  if (skips.empty()) return false;
  for (const auto& s : skips)
    if (s.find("already") == std::string::npos) return false;
  return true;
}

// Fills the outcome of a computed mutation (no write yet).
void describe(LiveResult& res, const std::string& kind, const Result& r, const LiveOptions& opts) {
  if (!r.errors.empty()) {
    res.error = true;
    res.changed = false;
    res.outcome = "error: " + r.errors.front();
    return;
  }
  if (!r.changed) {
    res.changed = false;
    if (opts.uninject)
      res.outcome = r.skips.empty() ? "nothing to remove" : "skipped: " + join(r.skips);
    else if (allAlready(r.skips))
      res.outcome = opts.annotate ? "already annotated" : "already injected (" + join(r.skips) + ")";
    else
      res.outcome = r.skips.empty() ? "unchanged (nothing requested)" : "skipped: " + join(r.skips);
    return;
  }
  res.changed = true;
  std::vector<std::string> actions = r.actions;
  if (opts.annotate && !opts.uninject)
    for (auto& a : actions)
      if (a.rfind("annotated ", 0) == 0) a = a.substr(10);
  res.outcome = (opts.uninject ? "uninjected: " : opts.annotate ? "annotated for the webhook: " : "injected: ") +
                join(actions);
  if (!r.skips.empty()) res.outcome += "; skipped: " + join(r.skips);
  std::string note = rolloutNote(kind, opts.annotate && !opts.uninject);
  if (!note.empty()) res.outcome += " (" + note + ")";
}

// All or nothing: when one workload fails, none of the planned changes is written.
void cancelWrites(std::vector<Target>& targets, const std::string& why) {
  for (auto& t : targets)
    if (t.res.changed) {
      t.res.changed = false;
      t.res.object = Json();
      t.res.outcome = "not written (" + why + "; nothing was written): would have " + t.res.outcome;
    }
}

}  // namespace

namespace {
// The kinds live mode works on, in --all's order, with their apiVersions.
const std::vector<std::pair<std::string, std::string>>& kindTable() {
  static const std::vector<std::pair<std::string, std::string>> kTable = {
      {"Deployment", "apps/v1"}, {"StatefulSet", "apps/v1"}, {"DaemonSet", "apps/v1"}, {"ReplicaSet", "apps/v1"},
      {"ReplicationController", "v1"}, {"CronJob", "batch/v1"}, {"Job", "batch/v1"}, {"Pod", "v1"}};
  return kTable;
}
}  // namespace

const std::vector<std::string>& liveKinds() {
  static const std::vector<std::string> kKinds = [] {
    std::vector<std::string> v;
    for (const auto& [kind, api] : kindTable()) v.push_back(kind);
    return v;
  }();
  return kKinds;
}

std::string liveKindApiVersion(const std::string& kind) {
  for (const auto& [k, api] : kindTable())
    if (k == kind) return api;
  throw Error("unsupported kind \"" + kind + "\"");
}

std::string managingOwner(const Json& workload) {
  const std::string kind = api::str(workload, {"kind"});
  if (!workload.is_object() || !workload.contains("metadata")) return "";
  const Json& meta = workload["metadata"];
  if (!meta.is_object() || !meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return "";
  for (const auto& o : meta["ownerReferences"]) {
    const std::string ok = api::str(o, {"kind"});
    const bool controller = o.is_object() && o.value("controller", false) == true;
    const bool manages = controller || (kind == "ReplicaSet" && ok == "Deployment") ||
                         (kind == "Job" && ok == "CronJob") || kind == "Pod";
    if (manages) return lower(ok) + "/" + api::str(o, {"name"});
  }
  return "";
}

std::string podWebhookConfiguration(const Json& list) {
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return "";
  std::string found;
  for (const auto& cfg : list["items"]) {
    const std::string name = api::str(cfg, {"metadata", "name"});
    bool pod = name == kControllerMutatingWebhookConfiguration;
    if (cfg.contains("webhooks") && cfg["webhooks"].is_array())
      for (const auto& w : cfg["webhooks"]) pod = pod || api::str(w, {"name"}) == kPodWebhookName;
    if (pod && (found.empty() || name == kControllerMutatingWebhookConfiguration)) found = name;
  }
  return found;
}

std::optional<PodWebhookTarget> podWebhookTarget(const Json& list) {
  const std::string name = podWebhookConfiguration(list);
  if (name.empty()) return std::nullopt;
  for (const auto& cfg : list["items"]) {
    if (!cfg.contains("metadata") || api::str(cfg["metadata"], {"name"}) != name || !cfg.contains("webhooks")) continue;
    for (const auto& w : cfg["webhooks"]) {
      if (api::str(w, {"name"}) != kPodWebhookName && name != kControllerMutatingWebhookConfiguration) continue;
      if (!w.contains("clientConfig") || !w["clientConfig"].is_object()) continue;
      const Json& cc = w["clientConfig"];
      PodWebhookTarget t;
      if (cc.contains("service") && cc["service"].is_object()) {
        t.serviceNamespace = api::str(cc["service"], {"namespace"});
        t.serviceName = api::str(cc["service"], {"name"});
      } else {
        t.url = !api::str(cc, {"url"}).empty();
      }
      if (api::str(w, {"name"}) == kPodWebhookName || t.url || !t.serviceName.empty()) return t;
    }
  }
  return std::nullopt;
}

bool anyReadyEndpoint(const Json& slices) {
  if (!slices.is_object() || !slices.contains("items") || !slices["items"].is_array()) return false;
  for (const auto& s : slices["items"]) {
    if (!s.is_object() || !s.contains("endpoints") || !s["endpoints"].is_array()) continue;
    for (const auto& e : s["endpoints"]) {
      const Json cond = e.is_object() ? e.value("conditions", Json::object()) : Json::object();
      const Json ready = cond.is_object() ? cond.value("ready", Json()) : Json();
      if (ready.is_null() || (ready.is_boolean() && ready.get<bool>())) return true;
    }
  }
  return false;
}

bool liveModeNeedsClusterState(const std::string& requested, bool inlineEndpoint) {
  return requested != "direct" && !(requested.empty() && inlineEndpoint);
}

std::pair<bool, std::string> chooseLiveMode(const std::string& requested, bool inlineEndpoint, const PodWebhookState& s) {
  if (requested == "direct") return {false, "--mode=direct"};
  if (requested.empty() && inlineEndpoint)
    return {false, "--endpoint: the inline Instrumentation exists only in the injected template"};
  if (requested == "annotate") {
    if (s.configuration.empty() && s.readError.empty())
      return {true, "--mode=annotate; warning: no pod webhook of the controller is installed, so pods get nothing until it "
                    "is: kubectl otel install"};
    if (!s.unserved.empty()) return {true, "--mode=annotate; warning: " + s.unserved + ", so pods get nothing until it is"};
    return {true, "--mode=annotate"};
  }
  if (!s.unserved.empty()) return {false, s.unserved};
  if (!s.configuration.empty())
    return {true, "the controller's pod webhook is installed and served: mutatingwebhookconfiguration/" + s.configuration};
  if (!s.readError.empty()) return {false, s.readError};
  return {false, "no pod webhook of the controller is installed; kubectl otel install adds it"};
}

std::string explainSelectionError(const std::string& error, const std::string& ns, const Options& requested) {
  auto quoted = [&](size_t from) {
    auto a = error.find('"', from);
    auto b = a == std::string::npos ? std::string::npos : error.find('"', a + 1);
    return b == std::string::npos ? std::string() : error.substr(a + 1, b - a - 1);
  };
  // The error names the object only; the namespace comes from the flag (NS/NAME) when it was given there.
  auto split = [&](const std::string& name, const std::string& flag, std::string& outNs, std::string& outName) {
    outNs = ns;
    outName = name;
    auto slash = flag.find('/');
    if (slash != std::string::npos && flag.substr(slash + 1) == name) outNs = flag.substr(0, slash);
  };
  std::string n, name;
  if (auto p = error.find("instrumentations.opentelemetry.io \""); p != std::string::npos) {
    split(quoted(p), requested.instrumentation, n, name);
    return "instrumentation \"" + name + "\" not found in namespace \"" + n +
           "\": create it with kubectl otel create instrumentation " + name + " -n " + n +
           " --endpoint http://COLLECTOR:4318 (or use --endpoint URL for an inline Instrumentation)";
  }
  if (error.find("no OpenTelemetry Instrumentation instances available") != std::string::npos)
    return "no Instrumentation in namespace \"" + ns +
           "\": create one with kubectl otel create instrumentation NAME -n " + ns +
           " --endpoint http://COLLECTOR:4318 (or use --endpoint URL for an inline Instrumentation)";
  if (auto p = error.find("opentelemetrycollectors.opentelemetry.io \""); p != std::string::npos) {
    split(quoted(p), requested.collector, n, name);
    return "collector \"" + name + "\" not found in namespace \"" + n +
           "\": create it with kubectl otel create collector " + name + " -n " + n + " --mode sidecar";
  }
  if (error.find("no OpenTelemetry Collector instances available") != std::string::npos)
    return "no sidecar collector in namespace \"" + ns + "\": create one with kubectl otel create collector NAME -n " +
           ns + " --mode sidecar";
  return error;
}

std::vector<LiveResult> runLive(const std::vector<std::string>& selectors, const LiveOptions& opts,
                                const LiveAccess& given) {
  // Instrumentations, collectors and namespace annotations are read once per namespace and run.
  LiveAccess access = given;
  if (given.catalog) access.catalog = perNamespace(given.catalog);
  if (given.namespaceAnnotations) access.namespaceAnnotations = perNamespace(given.namespaceAnnotations);
  std::vector<Target> targets;
  // 1. What to work on: the named workloads, then (--all / -l) every listed one not managed by an owner.
  for (const auto& sel : selectors) {
    Target t;
    t.res.ref = sel;
    auto slash = sel.find('/');
    t.kind = slash == std::string::npos ? "" : workloadKindFor(sel.substr(0, slash));
    if (slash == std::string::npos || slash + 1 == sel.size()) {
      t.res.error = true;
      t.res.outcome = "error: invalid workload \"" + sel + "\": want KIND/NAME (for example deploy/my-app)";
    } else if (t.kind.empty()) {
      t.res.error = true;
      t.res.outcome = "error: unsupported kind \"" + sel.substr(0, slash) +
                      "\" (supported: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, "
                      "CronJob, Pod)";
    } else {
      t.name = sel.substr(slash + 1);
      t.res.ref = lower(t.kind) + "/" + t.name;
    }
    targets.push_back(std::move(t));
  }
  if (opts.all || !opts.labelSelector.empty()) {
    for (const auto& kind : liveKinds()) {
      std::vector<Json> items;
      try {
        if (!access.list) throw Error("listing is not available");
        items = access.list(kind, opts.ns, opts.labelSelector);
      } catch (const std::exception& e) {
        Target t;
        t.res.ref = lower(kind);
        t.res.error = true;
        t.res.outcome = std::string("error: listing ") + lower(kind) + "s: " + e.what();
        targets.push_back(std::move(t));
        continue;
      }
      for (auto& item : items) {
        if (!managingOwner(item).empty()) continue;  // its owner is the workload to inject
        std::string name = api::str(item, {"metadata", "name"});
        bool dup = false;
        for (const auto& t : targets) dup = dup || (t.kind == kind && t.name == name);
        if (dup || name.empty()) continue;
        Target t;
        t.kind = kind;
        t.name = name;
        t.res.ref = lower(kind) + "/" + name;
        t.listed = std::move(item);
        // A real API server refuses changes of a running Pod's spec and of a Job's template (immutable):
        // --all reports them instead of failing on them. Named explicitly, they are attempted.
        if (kind == "Pod")
          t.skip = "a running Pod's spec cannot be changed (the API server refuses it): recreate the pod from a "
                   "manifest injected with kubectl otel inject -f, or name it (pod/" + name + ") to try";
        if (kind == "Job")
          t.skip = "a Job's pod template cannot be changed after creation (the API server refuses it): inject the "
                   "manifest with kubectl otel inject -f before creating the Job, or name it (job/" + name + ") to try";
        targets.push_back(std::move(t));
      }
    }
  }

  // 2. Plan: read and mutate everything before writing anything.
  bool failed = false;
  for (auto& t : targets) {
    if (t.res.error) {
      failed = true;
      continue;
    }
    if (t.listed.is_object()) {
      t.res.before = std::move(t.listed);
    } else {
      try {
        t.res.before = access.get(t.kind, opts.ns, t.name);
      } catch (const std::exception& e) {
        t.res.error = true;
        t.res.outcome = std::string("error: ") + e.what();
        failed = true;
        continue;
      }
    }
    if (!t.skip.empty()) {
      t.res.outcome = "skipped: " + t.skip;
      t.res.object = t.res.before;
      continue;
    }
    if (std::string owner = managingOwner(t.res.before); !owner.empty()) {
      const std::string ownerKind = owner.substr(0, owner.find('/'));
      bool injectable = false;
      for (const auto& k : liveKinds()) injectable = injectable || lower(k) == ownerKind;
      t.res.outcome = "skipped: managed by " + owner +
                      (injectable ? " (inject " + owner + " instead: it would undo a change here)"
                                  : " (its controller would undo a change here)");
      t.res.object = t.res.before;
      continue;
    }
    Mutation m = mutate(t.res.before, opts, access);
    describe(t.res, t.kind, m.r, opts);
    failed = failed || t.res.error;
    if (t.res.changed) t.res.after = std::move(m.after);
    else t.res.object = t.res.before;
  }
  if (failed) cancelWrites(targets, "another workload failed");

  // Sends res.after (a 409 Conflict: read again, mutate again, retry). On failure res.error is set and the
  // exception is kept in `failure` for the caller to classify.
  auto send = [&](Target& t, bool serverDryRun, std::exception_ptr& failure) {
    LiveResult& res = t.res;
    failure = nullptr;
    for (int attempt = 0;; ++attempt) {
      try {
        res.object = access.update(res.after, serverDryRun);
        return;
      } catch (const std::exception& e) {
        if (!(access.isConflict && access.isConflict(e) && attempt < opts.maxConflictRetries)) {
          failure = std::current_exception();
          res.error = true;
          res.changed = false;
          res.outcome = std::string("error: ") + e.what();
          return;
        }
      }
      ++res.conflicts;
      try {
        res.before = access.get(t.kind, opts.ns, t.name);
      } catch (const std::exception& e) {
        failure = std::current_exception();
        res.error = true;
        res.changed = false;
        res.outcome = std::string("error: ") + e.what();
        return;
      }
      Mutation m = mutate(res.before, opts, access);
      describe(res, t.kind, m.r, opts);
      if (!res.changed) {  // someone else did it meanwhile, or an error now
        res.after = Json();
        if (!res.error) res.object = res.before;
        return;
      }
      res.after = std::move(m.after);
    }
  };

  // 3. Preflight (real writes of several workloads): every update is first sent with dryRun=All, so a
  // refusal by the server (validation, an immutable field, a denying webhook, RBAC) writes nothing at all.
  // Other preflight failures (a webhook that does not support dry runs ...) do not stop the writes.
  size_t changedCount = 0;
  for (const auto& t : targets) changedCount += t.res.changed ? 1 : 0;
  if (opts.dryRun == DryRun::None && changedCount > 1 && access.isRefusal) {
    bool refused = false, failedOnRetry = false;
    for (auto& t : targets) {
      if (!t.res.changed) continue;
      const LiveResult saved = t.res;
      std::exception_ptr failure;
      send(t, true, failure);
      if (!failure && t.res.error) {  // a 409, then the fresh read could not be injected: a failure like any other
        failedOnRetry = true;
        continue;
      }
      bool isRefusal = false;
      if (failure) {
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          isRefusal = access.isRefusal(e);
        }
      }
      if (isRefusal) {
        refused = true;
        continue;
      }
      if (failure) {
        t.res = saved;  // not a verdict on the object: the real write decides
        continue;
      }
      if (t.res.changed) t.res.object = Json();  // the preflight's answer is not the stored object
    }
    if (refused) cancelWrites(targets, "the server refused another workload");
    else if (failedOnRetry) cancelWrites(targets, "another workload failed");
  }

  // 4. Write.
  for (auto& t : targets) {
    if (!t.res.changed) continue;
    if (opts.dryRun == DryRun::Client) {
      t.res.object = t.res.after;
      continue;
    }
    std::exception_ptr failure;
    send(t, opts.dryRun == DryRun::Server, failure);
  }

  std::vector<LiveResult> out;
  out.reserve(targets.size());
  for (auto& t : targets) out.push_back(std::move(t.res));
  return out;
}

}  // namespace otel::inject
