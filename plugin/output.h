// Small helpers the verb files share: printing objects (-o yaml|json), --dry-run=client and comma-separated
// flag values.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::plugin {

// -o yaml (or none): a YAML stream; -o json: one object as is, several as a `kind: List` (as kubectl
// prints them). Another format is a one-line error naming -o.
void printObjects(const std::vector<Json>& objs, const std::string& output);

// --dry-run for verbs that only print: "" or "client", else a one-line error naming --dry-run.
void checkClientDryRun(const std::string& value);

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> splitList(const std::string& s);

}  // namespace otel::plugin
