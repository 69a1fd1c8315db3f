// `inject -f` (and `uninject -f`) over a mutated workload stream: the file mode of lib/inject.
#include "fuzz/fuzz_common.h"
#include "lib/inject/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  otel::inject::FileModeOptions o;
  o.uninject = data[0] & 1;
  o.annotate = (data[0] & 2) != 0;
  o.endpoint = "http://collector:4318";
  if (data[0] & 4) o.inject.languages = {otel::api::Language::Java};
  if (data[0] & 8) o.inject.sidecar = true;
  OTEL_FUZZ_TRY({
    auto r = otel::inject::processManifests({otel::inject::ManifestSource{"fuzz.yaml", text}}, o);
    if (!o.uninject) {
      otel::inject::FileModeOptions u;
      u.uninject = true;
      otel::inject::processManifests({otel::inject::ManifestSource{"out.yaml", r.output}}, u);
    }
  });
  return 0;
}
