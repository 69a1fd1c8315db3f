// Reading manifests from files, folders and stdin (the `-f FILE|DIR|-` convention of kubectl).
#pragma once
#include <string>
#include <vector>

#include "lib/core/yaml.h"

namespace otel {

// Whole file content; throws otel::Error("cannot read ...") naming the file, and YamlLimitError for a
// file (or a pipe, a device) of more than `maxBytes`: the size is checked before reading, and a stream
// of unknown size is read no further than the bound.
std::string readFile(const std::string& path, size_t maxBytes = kYamlMaxStreamBytes);
std::string readStdin(size_t maxBytes = kYamlMaxStreamBytes);

// Expands each path: "-" is stdin, a folder gives its *.yaml/*.yml/*.json files in name order
// (recursively with `recursive`). Throws otel::Error naming a missing path.
std::vector<std::string> expandManifestPaths(const std::vector<std::string>& paths, bool recursive);

// Reads and parses every document of the given paths (order kept, Lists flattened, empty docs dropped).
std::vector<YamlDocument> readManifests(const std::vector<std::string>& paths, bool recursive);

// Writes `content` to `path` atomically (temp file + rename), so a failure leaves no partial file.
void writeFileAtomic(const std::string& path, const std::string& content);

}  // namespace otel
