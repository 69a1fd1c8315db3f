// The target allocator's config (targetallocator.yaml): parse and validate.
#include "fuzz/fuzz_common.h"
#include "lib/core/yaml.h"
#include "lib/targetallocator/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  OTEL_FUZZ_TRY({
    auto c = otel::targetallocator::parseConfig(otel::parseYaml(text, "targetallocator.yaml"), "targetallocator.yaml");
    otel::targetallocator::validate(c);
  });
  return 0;
}
