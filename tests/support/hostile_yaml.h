// Hostile and large YAML inputs shared by the bound tests (issue 14): the 282-byte alias bomb,
// deeply nested documents, and large legitimate documents that use many anchors and aliases.
#pragma once
#include <string>

namespace otel::testing {

// The "billion laughs" shape of the issue: eight levels of nine aliases, 9^8 (43 million) scalars expanded.
inline std::string aliasBomb() {
  std::string s = "---\na: &a [x,x,x,x,x,x,x,x,x]\n";
  const char* names = "abcdefgh";
  for (int i = 1; i < 8; ++i) {
    std::string prev = std::string("*") + names[i - 1];
    s += std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int k = 0; k < 9; ++k) s += (k ? "," : "") + prev;
    s += "]\n";
  }
  return s + "ii: *h\n";  // 282 bytes
}

// `depth` nested flow sequences: [[[...]]].
inline std::string deepFlow(int depth) { return std::string(depth, '[') + std::string(depth, ']') + "\n"; }

// `depth` nested block sequences on one line: - - - ... x
inline std::string deepBlock(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "- ";
  return s + "x\n";
}

// Mapping entries (at `indent`) of about `bytes` bytes in all: every tenth value is a new anchored string,
// the others alias the latest; every hundredth entry is an anchored mapping, later entries alias it too.
inline std::string anchoredEntries(size_t bytes, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  std::string s;
  int i = 0;
  while (s.size() < bytes) {
    char key[32];
    std::snprintf(key, sizeof key, "example.com/key-%06d", i);
    if (i % 100 == 0) {
      s += pad + key + "-map: &m" + std::to_string(i) + " {team: observability, tier: backend, id: \"" +
           std::to_string(i) + "\"}\n";
    } else if (i % 100 == 50) {
      s += pad + key + "-map: *m" + std::to_string(i - 50) + "\n";
    } else if (i % 10 == 1) {
      s += pad + key + ": &v" + std::to_string(i) + " \"value number " + std::to_string(i) +
           " of a legitimate document\"\n";
    } else {
      s += pad + key + ": *v" + std::to_string(i % 10 ? i - i % 10 + 1 : i - 9) + "\n";
    }
    ++i;
  }
  return s;
}

}  // namespace otel::testing
