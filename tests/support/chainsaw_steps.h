// Test support: reading upstream's chainsaw test folders (steps, bindings, the documents of an
// operation, expected documents with runtime-filled fields removed), shared by the e2e acceptance
// runners (builders over a simulated cluster; the real controller over the test API server).
#pragma once
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "tests/support/chainsaw.h"

namespace otel::testing {

// chainsaw bindings here are all strings ($namespace, $collectorVersion, step bindings).
using Bindings = std::map<std::string, std::string>;

MatchOptions bindingOptions(const Bindings& b);

// True when an install file of the test folder creates an OpenTelemetryCollector or TargetAllocator.
bool createsOtel(const std::filesystem::path& dir);

// The Test documents of a folder's chainsaw-test.yaml (a file may hold several), each with its case id:
// `id`, or `id#k` for the k-th when there are several.
std::vector<std::pair<std::string, Json>> readChainsawTests(const std::filesystem::path& dir, const std::string& id);

// The documents of an operation: its `file` (List kinds expanded) or its inline `resource`, templated.
std::vector<Json> readStepDocs(const std::filesystem::path& dir, const Json& op, const Bindings& b);

// chainsaw `bindings:` (name + value, a value may be an expression over earlier bindings).
void addBindings(const Json* list, Bindings& b);

// Strips the fields only a cluster's other components fill (status, generation, uid ...) from an
// expected document; false when nothing checkable is left (a kind in `exceptedKinds`, a script check,
// an error file that tells objects apart only by status).
bool prepareExpected(Json& exp, bool isError, const std::set<std::string>& exceptedKinds);

}  // namespace otel::testing
