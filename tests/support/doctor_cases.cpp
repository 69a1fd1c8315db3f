#include "tests/support/doctor_cases.h"

#include <algorithm>
#include <filesystem>

#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace otel::testing {

std::string doctorFixtureDir() {
  static const std::string dir = std::filesystem::path(OTEL_SOURCE_DIR) / "tests" / "fixtures" / "doctor";
  return dir;
}

std::vector<DoctorCase> loadDoctorCases() {
  std::vector<DoctorCase> out;
  namespace fs = std::filesystem;
  for (const auto& e : fs::directory_iterator(doctorFixtureDir())) {
    if (!e.is_directory() || e.path().filename().string().rfind("_", 0) == 0) continue;
    DoctorCase c;
    c.name = e.path().filename().string();
    c.dir = e.path().string();
    Json m = parseYaml(readFile(c.dir + "/case.yaml"), c.dir + "/case.yaml");
    if (m.contains("include"))
      for (const auto& i : m["include"]) c.files.push_back(doctorFixtureDir() + "/" + i.get<std::string>());
    c.files.push_back(c.dir + "/cluster.yaml");
    if (m.contains("desired")) c.desired = c.dir + "/" + m["desired"].get<std::string>();
    c.error = m.value("error", "");
    c.now = m.value("now", c.now);
    c.expectCheck = m["expect"].value("check", "");
    c.expectSeverity = m["expect"].value("severity", c.expectSeverity);
    if (m["expect"].contains("keywords"))
      for (const auto& k : m["expect"]["keywords"]) c.keywords.push_back(k.get<std::string>());
    if (m.contains("fix")) {
      c.fixVerify = m["fix"].value("verify", "");
      c.fixWhy = m["fix"].value("why", "");
      if (m["fix"].contains("after")) c.fixAfter = c.dir + "/" + m["fix"]["after"].get<std::string>();
      if (m["fix"].contains("remove"))
        for (const auto& r : m["fix"]["remove"])
          c.fixRemove.push_back({r.value("kind", ""), r.value("namespace", ""), r.value("name", "")});
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const DoctorCase& a, const DoctorCase& b) { return a.name < b.name; });
  return out;
}

}  // namespace otel::testing
