// Scrape and relabel configs (lib/prom): parse a Prometheus config, then run each job's relabel rules
// over its static targets.
#include "fuzz/fuzz_common.h"
#include "lib/core/yaml.h"
#include "lib/prom/relabel.h"
#include "lib/prom/scrape_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  OTEL_FUZZ_TRY({
    otel::Json root = otel::parseYaml(text, "fuzz.yaml");
    auto cfg = otel::prom::parsePromConfig(root, "fuzz.yaml");
    for (const auto& sc : cfg.scrapeConfigs) {
      for (const auto& g : sc.staticConfigs) {
        for (const auto& t : g.targets) {
          otel::prom::Labels labels = g.labels;
          labels.set("__address__", t);
          labels.set("job", sc.jobName);
          otel::prom::relabel(sc.relabelConfigs, labels, sc.nameValidation);
        }
      }
    }
  });
  // The relabel rules alone, as a list.
  OTEL_FUZZ_TRY({
    otel::Json rules = otel::parseYaml(text, "rules.yaml");
    auto parsed = otel::prom::parseRelabelConfigs(rules, "fuzz");
    otel::prom::Labels labels;
    labels.set("__address__", "10.0.0.1:9090");
    labels.set("__meta_kubernetes_pod_name", "pod-1");
    otel::prom::relabel(parsed, labels);
  });
  return 0;
}
