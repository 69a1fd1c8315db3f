// A small unified diff (LCS over lines) for `kubectl otel inject|uninject -o diff`: the YAML of a
// workload before and after, with `--- <from>` / `+++ <to>` headers like `kubectl diff`. PURE.
#pragma once
#include <string>

namespace otel::inject {

struct DiffLabels {
  std::string from = "live";
  std::string to = "injected";
};

// Unified diff of two texts (split at '\n'; a missing final newline is marked as diff does), with
// `context` lines around each change. Returns "" when the texts are equal.
std::string unifiedDiff(const std::string& a, const std::string& b, const DiffLabels& labels = {}, int context = 3);

}  // namespace otel::inject
