// YAML <-> JSON the way kubectl reads YAML (sigs.k8s.io/yaml over go-yaml v2: YAML 1.1 scalars),
// and a stable YAML writer that quotes every string that would read back as another type.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/json.h"

namespace otel {

struct YamlDocument {
  Json value;          // null for an empty document
  std::string source;  // file name or "-" for stdin
  int index = 0;       // 0-based index of the document in its stream
  int line = 0;        // 1-based line where the document starts
};

// Parses a multi-document YAML stream. Throws otel::Error naming source, document, line and column.
// Empty documents are kept (value null) so callers can preserve positions; use nonEmpty() to drop them.
std::vector<YamlDocument> parseYamlStream(std::string_view text, const std::string& source = "<input>");

// Parses exactly one document (an empty input gives null). Throws otel::Error.
Json parseYaml(std::string_view text, const std::string& source = "<input>");

// Objects of a stream with `kind: List` (and `*List`) expanded into their items and empty documents dropped.
std::vector<YamlDocument> flattenLists(const std::vector<YamlDocument>& docs);

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
