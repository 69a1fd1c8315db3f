#include "lib/inject/workload.h"

#include <algorithm>
#include <map>

#include "lib/api/instrumentation.h"
#include "lib/api/collector.h"
#include "lib/api/common.h"
#include "lib/collectorconfig/admission.h"
#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace otel::inject {
namespace {

std::string metaStr(const Json& obj, const char* key) {
  return api::str(obj, {"metadata", key});
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool isSeparator(std::string_view line) {
  if (line.substr(0, 3) != "---") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}
bool isEndMarker(std::string_view line) {
  if (line.substr(0, 3) != "...") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}
bool hasContent(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#' && line.substr(0, 1) != "%") return true;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

struct Doc {
  std::string source;
  int index = 0;
  int line = 1;
  std::string text;
  Json value;
};

std::string where(const Doc& d, const Json& obj) {
  std::string w = d.source + ": document " + std::to_string(d.index + 1);
  std::string kind = api::str(obj, {"kind"}), name = metaStr(obj, "name");
  if (!kind.empty()) w += " (" + kind + (name.empty() ? "" : " " + name) + ")";
  return w;
}

std::string objectRef(const Json& obj) { return lower(api::str(obj, {"kind"})) + "/" + metaStr(obj, "name"); }

const char* kCreateHint =
    "create it with `kubectl otel create instrumentation NAME --endpoint URL`, pass its YAML with -f, or use "
    "--endpoint URL for an inline Instrumentation";

}  // namespace

bool isWorkloadKind(const std::string& kind) {
  static const char* kKinds[] = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                 "ReplicationController", "Job", "CronJob", "Pod"};
  return std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
}

std::string workloadKindFor(const std::string& resource) {
  static const std::map<std::string, std::string> kNames = {
      {"deploy", "Deployment"}, {"deployment", "Deployment"}, {"deployments", "Deployment"},
      {"sts", "StatefulSet"}, {"statefulset", "StatefulSet"}, {"statefulsets", "StatefulSet"},
      {"ds", "DaemonSet"}, {"daemonset", "DaemonSet"}, {"daemonsets", "DaemonSet"},
      {"rs", "ReplicaSet"}, {"replicaset", "ReplicaSet"}, {"replicasets", "ReplicaSet"},
      {"rc", "ReplicationController"}, {"replicationcontroller", "ReplicationController"},
      {"replicationcontrollers", "ReplicationController"}, {"job", "Job"}, {"jobs", "Job"},
      {"cj", "CronJob"}, {"cronjob", "CronJob"}, {"cronjobs", "CronJob"}, {"po", "Pod"}, {"pod", "Pod"},
      {"pods", "Pod"}};
  auto dot = resource.find('.');
  auto it = kNames.find(lower(resource.substr(0, dot)));
  return it == kNames.end() ? "" : it->second;
}

Json* podTemplate(Json& obj) {
  if (!obj.is_object()) return nullptr;
  std::string kind = api::str(obj, {"kind"});
  if (kind == "Pod") return &obj;
  if (!isWorkloadKind(kind) || !obj.contains("spec") || !obj["spec"].is_object()) return nullptr;
  Json* spec = &obj["spec"];
  if (kind == "CronJob") {
    if (!spec->contains("jobTemplate") || !(*spec)["jobTemplate"].contains("spec")) return nullptr;
    spec = &(*spec)["jobTemplate"]["spec"];
  }
  if (!spec->is_object() || !spec->contains("template") || !(*spec)["template"].is_object()) return nullptr;
  return &(*spec)["template"];
}
const Json* podTemplate(const Json& obj) { return podTemplate(const_cast<Json&>(obj)); }

PodContext contextForWorkload(const Json& workload, const std::string& defaultNamespace) {
  PodContext ctx;
  ctx.ns = metaStr(workload, "namespace");
  if (ctx.ns.empty()) ctx.ns = defaultNamespace;
  std::string kind = api::str(workload, {"kind"}), name = metaStr(workload, "name");
  if (kind == "Deployment") ctx.deployment = name;
  if (kind == "ReplicaSet") ctx.replicaSet = name;
  if (kind == "StatefulSet") ctx.statefulSet = name;
  if (kind == "DaemonSet") ctx.daemonSet = name;
  if (kind == "Job") ctx.job = name;
  if (kind == "CronJob") ctx.cronJob = name;
  if (kind == "Pod") {
    ctx.podName = name;
    ctx.nodeName = api::str(workload, {"spec", "nodeName"});
  }
  return ctx;
}

PodContext contextForPod(const Json& pod, const std::string& ns, const Json& nsAnnotations,
                         const std::function<Json(const std::string&, const std::string&, const std::string&)>& lookup) {
  PodContext ctx;
  ctx.ns = ns;
  ctx.nsAnnotations = nsAnnotations.is_object() ? nsAnnotations : Json::object();
  ctx.podName = metaStr(pod, "name");
  ctx.podUid = metaStr(pod, "uid");
  ctx.nodeName = api::str(pod, {"spec", "nodeName"});
  std::function<void(const Json&, int)> walk = [&](const Json& meta, int depth) {
    if (depth > 3 || !meta.is_object() || !meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return;
    for (const auto& o : meta["ownerReferences"]) {
      std::string kind = lower(api::str(o, {"kind"})), name = api::str(o, {"name"}), uid = api::str(o, {"uid"});
      if (kind == "replicaset" || kind == "job") {
        (kind == "job" ? ctx.job : ctx.replicaSet) = name;
        (kind == "job" ? ctx.jobUid : ctx.replicaSetUid) = uid;
        if (lookup) {
          Json parent = lookup(kind == "job" ? "Job" : "ReplicaSet", ns, name);
          if (parent.is_object() && parent.contains("metadata")) walk(parent["metadata"], depth + 1);
        }
      } else if (kind == "deployment") {
        ctx.deployment = name;
        ctx.deploymentUid = uid;
      } else if (kind == "statefulset") {
        ctx.statefulSet = name;
        ctx.statefulSetUid = uid;
      } else if (kind == "daemonset") {
        ctx.daemonSet = name;
        ctx.daemonSetUid = uid;
      } else if (kind == "cronjob") {
        ctx.cronJob = name;
        ctx.cronJobUid = uid;
      }
    }
  };
  if (pod.contains("metadata")) walk(pod["metadata"], 0);
  return ctx;
}

std::vector<DocumentText> splitYamlDocuments(std::string_view stream) {
  std::vector<DocumentText> out;
  std::string cur;
  int curLine = 1, lineNo = 0;
  size_t pos = 0;
  auto flush = [&](int nextLine) {
    if (hasContent(cur)) out.push_back(DocumentText{cur, curLine});
    cur.clear();
    curLine = nextLine;
  };
  while (pos < stream.size()) {
    size_t end = stream.find('\n', pos);
    size_t len = end == std::string_view::npos ? stream.size() - pos : end - pos + 1;
    std::string_view line = stream.substr(pos, len);
    ++lineNo;
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n')) bare.remove_suffix(1);
    if (isSeparator(bare)) {
      flush(lineNo + 1);
      // "--- key: value" keeps content on the separator line
      std::string_view rest = bare.substr(3);
      size_t first = rest.find_first_not_of(" \t\r");
      if (first != std::string_view::npos && rest[first] != '#') {
        cur = std::string(rest.substr(first)) + "\n";
        curLine = lineNo;
      }
    } else if (isEndMarker(bare)) {
      flush(lineNo + 1);
    } else {
      if (cur.empty()) curLine = lineNo;
      cur.append(line);
    }
    pos += len;
  }
  if (!cur.empty() && cur.back() != '\n') cur += '\n';
  flush(lineNo + 1);
  return out;
}

FileModeResult processManifests(const std::vector<ManifestSource>& sources, const FileModeOptions& opts) {
  // 1. Parse every document, keeping its text.
  std::vector<Doc> docs;
  for (const auto& src : sources) {
    int index = 0;
    YamlBudget budget;  // the alias budget over this source's whole stream, as parseYamlStream keeps it
    if (src.text.size() > kYamlMaxStreamBytes) parseYamlStream(src.text, src.name);  // refuses it
    for (auto& chunk : splitYamlDocuments(src.text)) {
      Doc d;
      d.source = src.name;
      d.index = index++;
      d.line = chunk.line;
      d.text = std::move(chunk.text);
      try {
        d.value = parseYaml(d.text, src.name, {}, &budget);
      } catch (const YamlLimitError& e) {
        throw YamlLimitError(std::string(e.what()) + " (document starting at line " + std::to_string(d.line) + ")",
                             src.name + ": document " + std::to_string(d.index + 1));
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " (document starting at line " + std::to_string(d.line) + ")",
                    src.name + ": document " + std::to_string(d.index + 1),
                    "fix the YAML syntax; nothing was written");
      }
      if (!d.value.is_null() && !d.value.is_object())
        throw Error("document is not a Kubernetes object", src.name + ": document " + std::to_string(d.index + 1));
      docs.push_back(std::move(d));
    }
  }

  // 2. Objects the annotations may refer to, and namespaces' annotations.
  Catalog base;
  std::map<std::string, Json> nsAnnotations;
  auto visit = [&](const Json& obj) {
    std::string kind = api::str(obj, {"kind"});
    std::string api = api::str(obj, {"apiVersion"});
    if (kind == api::kInstrumentationKind && api.rfind("opentelemetry.io/", 0) == 0) base.instrumentations.push_back(obj);
    if (kind == "OpenTelemetryCollector" && api.rfind("opentelemetry.io/", 0) == 0) base.collectors.push_back(obj);
    if (kind == "Namespace" && obj.contains("metadata") && obj["metadata"].contains("annotations") &&
        obj["metadata"]["annotations"].is_object())
      nsAnnotations[metaStr(obj, "name")] = obj["metadata"]["annotations"];
  };
  for (const auto& d : docs) {
    if (!d.value.is_object()) continue;
    visit(d.value);
    if (d.value.contains("items") && d.value["items"].is_array())
      for (const auto& item : d.value["items"]) visit(item);
  }
  for (auto& inst : base.instrumentations) {
    if (metaStr(inst, "namespace").empty()) inst["metadata"]["namespace"] = opts.defaultNamespace;
    auto diag = api::validateInstrumentation(inst);
    if (!diag.errors.empty())
      throw Error(diag.errors.front(), "Instrumentation " + metaStr(inst, "name"), "fix the Instrumentation's spec");
  }
  // A collector in the input is used as the cluster would store it: converted to v1beta1, with the CRD's
  // and the collector webhook's defaults (listen endpoints, telemetry), so the sidecar's config is the one
  // the operator's pod webhook injects.
  for (auto& col : base.collectors) {
    if (metaStr(col, "namespace").empty()) col["metadata"]["namespace"] = opts.defaultNamespace;
    const std::string where = "OpenTelemetryCollector " + metaStr(col, "namespace") + "/" + metaStr(col, "name");
    try {
      Json stored = api::toV1beta1(col);
      api::applyCollectorCrdDefaults(stored);
      collectorconfig::defaultCollector(stored);
      col = std::move(stored);
    } catch (const Error& e) {
      throw Error(e.what(), where + ": spec.config", "fix the collector's config");
    }
  }

  // 3. Selectors: each must name a supported kind and exist in the input.
  struct Selector {
    std::string kind, name;
    bool found = false;
  };
  std::vector<Selector> selectors;
  for (const auto& s : opts.selectors) {
    auto slash = s.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == s.size())
      throw Error("invalid workload \"" + s + "\": want KIND/NAME (for example deploy/my-app)", "arguments");
    std::string kind = workloadKindFor(s.substr(0, slash));
    if (kind.empty())
      throw Error("unsupported kind \"" + s.substr(0, slash) + "\"", "arguments",
                  "inject supports Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, "
                  "CronJob and Pod");
    selectors.push_back(Selector{kind, s.substr(slash + 1)});
  }
  auto selected = [&](const Json& obj) {
    if (selectors.empty()) return true;
    for (auto& s : selectors)
      if (s.kind == api::str(obj, {"kind"}) && s.name == metaStr(obj, "name")) {
        s.found = true;
        return true;
      }
    return false;
  };

  // 4. Mutate every selected workload.
  FileModeResult result;
  auto process = [&](Json& obj, const Doc& d) -> bool {
    if (!isWorkloadKind(api::str(obj, {"kind"})) || !selected(obj)) return false;
    Json* tmpl = podTemplate(obj);
    ++result.workloads;
    if (!tmpl) {
      result.summary.push_back(objectRef(obj) + ": skipped: no pod template");
      return false;
    }
    Result r;
    if (opts.uninject) {
      r = uninjectPod(*tmpl);
    } else {
      PodContext ctx = contextForWorkload(obj, opts.defaultNamespace);
      if (auto it = nsAnnotations.find(ctx.ns); it != nsAnnotations.end()) ctx.nsAnnotations = it->second;
      Catalog catalog = base;
      Options o = opts.inject;
      addInlineInstrumentation(catalog, o, ctx.ns, opts.endpoint, opts.propagators, opts.sampler);
      r = opts.annotate ? annotatePod(*tmpl, o) : injectPod(*tmpl, ctx, catalog, o);
    }
    if (!r.errors.empty()) {
      std::string hint = r.errors.front().find("instrumentations.opentelemetry.io") != std::string::npos ||
                                 r.errors.front().find("no OpenTelemetry Instrumentation") != std::string::npos
                             ? kCreateHint
                             : "";
      if (r.errors.front().find("OpenTelemetry Collector") != std::string::npos ||
          r.errors.front().find("opentelemetrycollectors") != std::string::npos)
        hint = "create a sidecar collector with `kubectl otel create collector NAME --mode sidecar` or pass its YAML with -f";
      throw Error(r.errors.front(), where(d, obj), hint);
    }
    std::string line = objectRef(obj) + ": ";
    if (r.changed) {
      *tmpl = r.pod;
      ++result.changed;
      for (size_t i = 0; i < r.actions.size(); ++i) line += (i ? "; " : "") + r.actions[i];
      for (const auto& s : r.skips) line += (r.actions.empty() ? "skipped: " : "; skipped: ") + s;
    } else if (!r.skips.empty()) {
      line += "skipped: ";
      for (size_t i = 0; i < r.skips.size(); ++i) line += (i ? "; " : "") + r.skips[i];
    } else {
      line += opts.uninject ? "nothing to remove" : "unchanged (nothing requested)";
    }
    result.summary.push_back(line);
    return r.changed;
  };

  std::string out;
  bool first = true;
  for (auto& d : docs) {
    bool changed = false;
    Json value = d.value;
    if (value.is_object()) {
      const std::string kind = api::str(value, {"kind"});
      if (value.contains("items") && value["items"].is_array() && kind.size() >= 4 &&
          kind.compare(kind.size() - 4, 4, "List") == 0) {
        for (auto& item : value["items"]) changed = process(item, d) || changed;
      } else {
        changed = process(value, d);
      }
    }
    if (!first) out += "---\n";
    first = false;
    if (changed)
      result.changes.push_back(DocumentChange{d.source, d.index + 1,
                                              value.contains("items") && !podTemplate(value) ? api::str(value, {"kind"})
                                                                                             : objectRef(value),
                                              d.text, toYaml(value)});
    out += changed ? result.changes.back().after : d.text;
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  for (const auto& s : selectors)
    if (!s.found)
      throw Error(s.kind + " \"" + s.name + "\" not found in the input", "arguments",
                  "check the name, or pass the file that defines it with -f");
  result.output = std::move(out);
  return result;
}

}  // namespace otel::inject
