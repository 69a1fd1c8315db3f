// `kubectl otel doctor`: checks over a ClusterView -> findings ranked root cause first, with evidence and
// the fix; text and JSON reports. PURE (the live and file readers live in plugin/doctor.cpp). docs/doctor.md
// lists every check.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "lib/doctor/view.h"

namespace otel::doctor {

enum class Severity { Error, Warning, Info };
std::string severityName(Severity s);  // "error", "warning", "info"

struct Finding {
  Severity severity = Severity::Error;
  std::string check;  // stable id, e.g. "ta-named-prometheus-receiver" (docs/doctor.md)
  ObjectRef object;   // what it concerns
  std::string cause;  // plain words
  std::vector<std::string> evidence;  // "<object>: <field> = <value>" lines
  std::string fix;    // a command or a YAML snippet
  // When the fix is an object change: the corrected objects (whole objects). fixDesired: they replace
  // --desired objects (the manifest the user applies) rather than objects in the cluster.
  std::vector<Json> fixObjects;
  bool fixDesired = false;
  // A fix that recreates: delete these objects, then apply the --desired manifest (printed as commands;
  // --fix --apply never deletes).
  std::vector<ObjectRef> fixDeletes;
  // A fix that recreates pods so that the webhook sees them (kubectl rollout restart / delete pod).
  std::vector<ObjectRef> fixRecreatePods;
  // Rank: lower layers are causes of higher ones (0 operator install, 10 permissions, 20 CR spec and
  // config, 30 selection, 40 injection, 50 workloads, 60 consequences).
  int layer = 50;
  bool explainsError = false;  // the check explains a pasted error (--error) or an error seen in a log
};

struct Options {
  std::string ns;         // "" = every namespace in the view
  std::string collector;  // only this collector's own checks ("" = all)
};

struct Report {
  std::vector<Finding> findings;  // rank order
  std::vector<std::string> skipped;
  bool problems() const;  // any error or warning finding
};

Report diagnose(const ClusterView& view, const Options& options = {});

// Text: the root cause first, then the other findings grouped per object, then what was skipped.
std::string renderText(const Report& report);
// {"findings": [{severity, check, object{apiVersion,kind,namespace,name}, cause, evidence, fix}], "skipped": [...]}
Json renderJson(const Report& report);

// The objects the fixes change, once per object: when several findings fix the same object, the fix of
// the finding ranked first is the one returned.
std::vector<Json> fixObjects(const Report& report, bool desired);

// The Secrets that hold a webhook serving certificate (kubectl-otel's self-managed and cert-manager ones,
// the upstream operator's): the only Secrets doctor reads, and of them only tls.crt and ca.crt.
const std::vector<std::string>& webhookCertificateSecrets();

// Every check id with its one-line description (docs, --list-checks).
struct CheckInfo {
  std::string id, what;
};
const std::vector<CheckInfo>& checks();

}  // namespace otel::doctor
