#include "lib/inject/select.h"

#include <algorithm>

#include "lib/api/common.h"

namespace otel::inject {

namespace {

bool isTrue(const std::string& v) {
  static const std::string t = "true";
  return v.size() == t.size() && std::equal(v.begin(), v.end(), t.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

const Json* selectByAnnotation(const std::string& value, const std::string& ns, const std::vector<Json>& items,
                               const SelectRules& rules, std::string& error) {
  auto nsOf = [&](const Json& o) {
    std::string n = api::str(o, {"metadata", "namespace"});
    return n.empty() ? ns : n;
  };
  if (isTrue(value)) {
    std::vector<const Json*> found;
    for (const auto& o : items)
      if (nsOf(o) == ns && (!rules.eligible || rules.eligible(o))) found.push_back(&o);
    if (found.empty()) {
      error = "no OpenTelemetry " + rules.kind + " instances available";
      return nullptr;
    }
    if (found.size() > 1) {
      error = "multiple OpenTelemetry " + rules.kind + " instances available, cannot determine which one to select";
      return nullptr;
    }
    return found.front();
  }
  std::string wantNs = ns, name = value;
  if (auto slash = value.find('/'); slash != std::string::npos) {
    wantNs = value.substr(0, slash);
    name = value.substr(slash + 1);
  }
  for (const auto& o : items) {
    if (nsOf(o) != wantNs || api::str(o, {"metadata", "name"}) != name) continue;
    if (rules.eligible && !rules.eligible(o)) {
      error = rules.notEligibleError;
      return nullptr;
    }
    return &o;
  }
  error = rules.resource + " \"" + name + "\" not found";
  return nullptr;
}

}  // namespace otel::inject
