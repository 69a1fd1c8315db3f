// Internal to lib/doctor: the context every check reads and appends to, and the check families.
#pragma once
#include <deque>
#include <string>
#include <vector>

#include "lib/doctor/doctor.h"
#include "lib/doctor/match.h"

namespace otel::doctor::detail {

struct Collector {
  const Json* stored = nullptr;  // as in the view (either version)
  Json beta;                     // v1beta1 form, CRD defaults applied (what the checks read)
  Json plain;                    // v1beta1 form as stored (what fixes change, so a diff shows only the fix)
  ObjectRef ref;                 // of the stored object
  std::string ns, name;
};

// An operator Deployment found in the view.
struct Operator {
  const Json* deployment = nullptr;
  bool ours = false;     // kubectl-otel's controller (else the upstream opentelemetry-operator)
  long long ready = 0;   // status.readyReplicas
  long long wanted = 0;  // spec.replicas
};

struct ErrorText {
  std::string text;
  std::string source;  // "--error" or "log of pod ns/name container c"
};

struct Ctx {
  Ctx(const ClusterView& v, const Options& o) : view(v), opts(o) {}
  const ClusterView& view;
  const Options& opts;
  std::vector<Collector> collectors;  // in scope
  std::vector<Collector> allCollectors;
  std::vector<Operator> operators;
  std::vector<ErrorText> errors;
  std::deque<Finding> findings;  // add() hands out references: a deque keeps them valid as findings grow
  std::vector<std::string> skipped;

  bool inScope(const std::string& ns) const { return opts.ns.empty() || opts.ns == ns; }
  Finding& add(Severity s, std::string check, const Json& obj, int layer);
  Finding& add(Severity s, std::string check, ObjectRef ref, int layer);
  // The pasted or logged error text containing `needle` (nullptr when none).
  const ErrorText* errorWith(const std::string& needle) const;
  bool upstreamOperator() const;  // the upstream operator is installed (running or not)
  bool oursInstalled() const;
};

std::string ev(const Json& obj, const std::string& field, const std::string& value);  // "<ref>: field = value"
std::string ev(const ObjectRef& ref, const std::string& field, const std::string& value);
std::string scalar(const Json& v);  // strings unquoted, the rest as JSON
std::string yamlSnippet(const Json& v, int indent = 2);

void checkOperator(Ctx& c);
void checkCollectors(Ctx& c);     // spec/config validity, the prometheus receiver, modes
void checkModeErrors(Ctx& c);     // "mode is set to X, which does not support modification"
void checkAllocators(Ctx& c);     // prometheusCR: CRDs, RBAC, selectors, monitors, ports
void checkInjection(Ctx& c);
void checkWorkloads(Ctx& c);      // collector pods and Services

}  // namespace otel::doctor::detail
