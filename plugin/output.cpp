#include "plugin/output.h"

#include <iostream>
#include <sstream>

#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace otel::plugin {

void printObjects(const std::vector<Json>& objs, const std::string& output) {
  if (output == "json") {
    const Json out = objs.size() == 1 ? objs.front() : Json({{"apiVersion", "v1"}, {"kind", "List"}, {"items", objs}});
    std::cout << out.dump(4) << "\n";
  } else if (output.empty() || output == "yaml") {
    std::cout << toYamlStream(objs);
  } else {
    throw Error("unsupported output format \"" + output + "\"", "-o", "use -o yaml or -o json");
  }
}

void checkClientDryRun(const std::string& value) {
  if (!value.empty() && value != "client")
    throw Error("unsupported value \"" + value + "\"", "--dry-run", "only --dry-run=client is supported");
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace otel::plugin
