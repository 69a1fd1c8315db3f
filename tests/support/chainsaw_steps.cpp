#include "tests/support/chainsaw_steps.h"

#include "lib/api/common.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace fs = std::filesystem;

namespace otel::testing {

MatchOptions bindingOptions(const Bindings& b) {
  MatchOptions o;
  for (const auto& [k, v] : b) o.bindings[k] = v;
  return o;
}

bool createsOtel(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".yaml") continue;
    std::string n = e.path().filename().string();
    if (n.find("assert") != std::string::npos || n.find("error") != std::string::npos || n == "chainsaw-test.yaml") continue;
    std::string text = readFile(e.path().string());
    if (text.find("kind: OpenTelemetryCollector") != std::string::npos || text.find("kind: TargetAllocator") != std::string::npos)
      return true;
  }
  return false;
}

std::vector<std::pair<std::string, Json>> readChainsawTests(const fs::path& dir, const std::string& id) {
  auto docs = parseYamlStream(readFile((dir / "chainsaw-test.yaml").string()), "chainsaw-test.yaml");
  std::vector<std::pair<std::string, Json>> out;
  for (std::size_t k = 0; k < docs.size(); ++k)
    if (docs[k].value.is_object()) out.emplace_back(docs.size() > 1 ? id + "#" + std::to_string(k) : id, std::move(docs[k].value));
  return out;
}

std::vector<Json> readStepDocs(const fs::path& dir, const Json& op, const Bindings& b) {
  std::vector<Json> out;
  if (op.contains("resource") && op["resource"].is_object()) {
    out.push_back(applyTemplate(op["resource"], bindingOptions(b)));
    return out;
  }
  std::string file = api::str(op, {"file"});
  if (file.empty()) return out;
  for (auto& d : parseYamlStream(readFile((dir / file).string()), file)) {
    if (d.value.is_null()) continue;
    if (d.value.is_object() && d.value.value("kind", "") == "List" && d.value.contains("items")) {
      for (const auto& item : d.value["items"]) out.push_back(applyTemplate(item, bindingOptions(b)));
      continue;
    }
    out.push_back(applyTemplate(d.value, bindingOptions(b)));
  }
  return out;
}

void addBindings(const Json* list, Bindings& b) {
  if (!list || !list->is_array()) return;
  for (const auto& e : *list) {
    std::string name = api::str(e, {"name"});
    const Json* v = api::at(e, {"value"});
    if (name.empty() || !v || !v->is_string()) continue;
    std::string value = v->get<std::string>();
    Json out;
    if (evalValue(value, bindingOptions(b), out) && out.is_string())
      b[name] = out.get<std::string>();
    else if (!(value.size() > 1 && value.front() == '('))
      b[name] = value;
  }
}

bool prepareExpected(Json& exp, bool isError, const std::set<std::string>& kExceptedKinds) {
  if (!exp.contains("kind")) return false;  // script/metrics checks, not Kubernetes objects
  if (kExceptedKinds.count(exp.value("kind", ""))) return false;
  // An error file that distinguishes objects only by status says nothing once status is excepted.
  if (isError && exp.contains("status")) return false;
  exp.erase("status");
  if (exp.contains("metadata") && exp["metadata"].is_object()) {
    Json& m = exp["metadata"];
    for (const char* k : {"generation", "resourceVersion", "uid", "creationTimestamp", "managedFields"}) m.erase(k);
    if (m.contains("annotations") && m["annotations"].is_object()) {
      m["annotations"].erase("deployment.kubernetes.io/revision");
      if (m["annotations"].empty()) m.erase("annotations");
    }
    if (m.contains("ownerReferences") && m["ownerReferences"].is_array())
      for (auto& r : m["ownerReferences"]) r.erase("uid");
  }
  return true;
}

}  // namespace otel::testing
