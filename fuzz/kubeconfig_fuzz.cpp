// The kubeconfig loader: parse one file, merge it, and resolve its current context (no file reads:
// relative paths are resolved but never opened unless a file exists with that name, which the corpus avoids).
#include "fuzz/fuzz_common.h"
#include "lib/kube/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  OTEL_FUZZ_TRY({
    auto kc = otel::kube::parseKubeconfig(text, "/nonexistent/fuzz-kubeconfig");
    otel::kube::Kubeconfig merged;
    otel::kube::mergeKubeconfig(merged, kc);
    otel::kube::LoadOptions o;
    o.getenv = [](const std::string&) { return std::optional<std::string>(); };
    o.inClusterRoot = "/nonexistent";
    otel::kube::resolveRestConfig(merged, o);
  });
  return 0;
}
