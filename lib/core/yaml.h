// YAML <-> JSON the way kubectl reads YAML (sigs.k8s.io/yaml over go-yaml v2: YAML 1.1 scalars),
// and a stable YAML writer that quotes every string that would read back as another type.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/error.h"
#include "lib/core/json.h"

namespace otel {

struct YamlDocument {
  Json value;          // null for an empty document
  std::string source;  // file name or "-" for stdin
  int index = 0;       // 0-based index of the document in its stream
  int line = 0;        // 1-based line where the document starts
};

// Bounds of the reader (docs/cli.md, "Limits"): input from other people never takes the machine down.
// - a stream (a file, stdin) of at most 64 MiB; kubectl-otel keeps every document of it in memory;
// - a document of at most 3 MiB, what kube-apiserver accepts for one object; in a `kind: *List` document
//   the bound applies to each item of `items` (and to the rest of the document) instead;
// - aliases: go-yaml's budget (decode.go allowedAliasRatio: over 1000 decoded nodes and 100 from aliases,
//   at most 99% of the nodes may come from aliases up to 400,000 nodes, falling to 10% at 4,000,000),
//   counted per document as kubectl does and over the whole stream as well;
// - nesting: kubectl refuses over 10,000 levels; yaml-cpp 0.7 (bookworm) stops at 499 levels itself.
inline constexpr size_t kYamlMaxStreamBytes = size_t{64} << 20;
inline constexpr size_t kYamlMaxDocumentBytes = size_t{3} << 20;
inline constexpr int kYamlMaxDepth = 10000;
inline constexpr int kYamlLibraryMaxDepth = 499;

struct YamlLimits {
  size_t maxStreamBytes = kYamlMaxStreamBytes;
  size_t maxDocumentBytes = kYamlMaxDocumentBytes;
};

// Decoded nodes and nodes that came from aliases over a stream. A caller that parses one stream's
// documents one by one (inject -f) passes the same budget to each call, so the stream rule still holds.
struct YamlBudget {
  uint64_t decodes = 0;
  uint64_t aliases = 0;
};

// A refusal by one of the bounds above (what was exceeded, where: file and document). One line, no hint.
class YamlLimitError : public Error {
 public:
  using Error::Error;
};

// True when go-yaml would refuse `aliases` of `decodes` nodes as "excessive aliasing".
bool yamlExcessiveAliasing(uint64_t decodes, uint64_t aliases);

// Parses a multi-document YAML stream. Throws otel::Error naming source, document, line and column,
// YamlLimitError for a bound exceeded. Empty documents are kept (value null) so callers can preserve
// positions; use nonEmpty() to drop them.
std::vector<YamlDocument> parseYamlStream(std::string_view text, const std::string& source = "<input>",
                                          const YamlLimits& limits = {}, YamlBudget* budget = nullptr);

// Parses exactly one document (an empty input gives null). Throws otel::Error.
Json parseYaml(std::string_view text, const std::string& source = "<input>", const YamlLimits& limits = {},
               YamlBudget* budget = nullptr);

// Objects of a stream with `kind: List` (and `*List`) expanded into their items and empty documents dropped.
std::vector<YamlDocument> flattenLists(const std::vector<YamlDocument>& docs);
std::vector<YamlDocument> flattenLists(std::vector<YamlDocument>&& docs);  // moves the values (no copy)

// Writes one value as a YAML document (no leading "---"), block style, 2-space indent, sequences
// not indented under their key (as kubectl prints), keys in object order.
std::string toYaml(const Json& value);

// Writes several documents separated by "---".
std::string toYamlStream(const std::vector<Json>& docs);

// True when a plain (unquoted) YAML 1.1 scalar with this text would not read back as the string itself:
// it resolves to another type (yamlResolvesToNonString: toYaml double-quotes it) or is not valid as a
// plain scalar (yamlPlainUnsafe: toYaml single-quotes it, as gopkg.in/yaml.v2 does).
bool yamlNeedsQuotes(std::string_view s);
bool yamlResolvesToNonString(std::string_view s);
bool yamlPlainUnsafe(std::string_view s);

}  // namespace otel
