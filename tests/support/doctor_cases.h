// The doctor corpus: every folder of tests/fixtures/doctor (but _common) is a broken or healthy setup:
// cluster.yaml (+ the _common files its case.yaml includes), optionally desired.yaml, a pasted error and
// the time to evaluate at, and what doctor must say first. Read by the unit and CLI tests.
#pragma once
#include <string>
#include <vector>

namespace otel::testing {

struct DoctorCase {
  std::string name;
  std::string dir;
  std::vector<std::string> files;  // the cluster's objects: includes first, then cluster.yaml
  std::string desired;             // path or ""
  std::string error;               // pasted error or ""
  std::string now = "2026-12-01T00:00:00Z";
  std::string expectCheck;         // "none" for a healthy setup
  std::string expectSeverity = "error";
  std::vector<std::string> keywords;
  // "disappears" (doctor's own object fix, applied), "rollout" (shows once the pods roll), "by-hand" (the
  // fix is no object doctor can write: fixAfter holds the objects as they are once it is done by hand,
  // fixRemove the ones it deletes), "none" (not verified: a finding on a pasted error alone whose fix
  // changes nothing doctor reads; at most two cases), "" for a healthy setup
  std::string fixVerify;
  std::string fixWhy;
  std::string fixAfter;  // path or ""
  struct Ref {
    std::string kind, ns, name;
  };
  std::vector<Ref> fixRemove;
};

std::string doctorFixtureDir();
std::vector<DoctorCase> loadDoctorCases();

}  // namespace otel::testing
