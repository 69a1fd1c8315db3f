// The YAML reader (lib/core/yaml): parse a stream, flatten Lists, write back and read again.
#include "fuzz/fuzz_common.h"
#include "lib/core/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  OTEL_FUZZ_TRY({
    auto docs = otel::parseYamlStream(text, "fuzz.yaml");
    std::vector<otel::Json> values;
    for (auto& d : docs) values.push_back(d.value);
    std::string again = otel::toYamlStream(values);
    auto back = otel::parseYamlStream(again, "again.yaml");
    otel::flattenLists(docs);
  });
  return 0;
}
