// Every collector/TargetAllocator admission message of upstream's webhook (reference §6), each
// produced by an input, word for word; plus our two documented improvements.
#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/api/targetallocator.h"
#include "lib/collectorconfig/admission.h"
#include "lib/core/yaml.h"
#include "tests/support/admission_cases.h"

namespace otel::api {
namespace {

using otel::testing::admissionCollector;
using otel::testing::kPromConfig;
const std::string& kSts = otel::testing::kStsWithTa;
Json collector(const std::string& specYaml, const char* configYaml = nullptr) { return admissionCollector(specYaml, configYaml); }

Diagnostics admit(Json cr, const Json* old = nullptr, collectorconfig::AdmissionOptions opts = {}) {
  Json oldDefaulted;
  if (old) {
    oldDefaulted = *old;
    collectorconfig::defaultCollector(oldDefaulted);
  }
  try {
    collectorconfig::defaultCollector(cr, old ? &oldDefaulted : nullptr);
  } catch (const std::exception&) {
    // a config the defaulter cannot handle (unknown protocol) is still validated as written
  }
  return collectorconfig::validateCollector(cr, old ? &oldDefaulted : nullptr, opts);
}

std::string firstError(const Json& cr, const Json* old = nullptr, collectorconfig::AdmissionOptions opts = {}) {
  auto d = admit(cr, old, opts);
  return d.errors.empty() ? "" : d.errors.front();
}

using Case = otel::testing::AdmissionCase;

class Messages : public ::testing::TestWithParam<Case> {};

TEST_P(Messages, ExactUpstreamMessage) {
  const Case& c = GetParam();
  EXPECT_EQ(firstError(collector(c.spec, c.config)), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Collector, Messages,
    ::testing::ValuesIn(otel::testing::collectorAdmissionCases()),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(Validation, ModeIsImmutableOnUpdate) {
  Json old = collector("{mode: daemonset}");
  EXPECT_EQ(firstError(collector("{mode: deployment}"), &old),
            "the OpenTelemetry Collector mode is set to daemonset, which does not support modification");
}

TEST(Validation, UpdateOmittingModeKeepsStoredMode) {  // our improvement (docs/compatibility.md)
  Json old = collector("{mode: daemonset}");
  Json updated = collector("");
  auto d = admit(updated, &old);
  EXPECT_TRUE(d.ok()) << d.errors.front();
  collectorconfig::defaultCollector(updated, &old);
  EXPECT_EQ(updated["spec"]["mode"], "daemonset");
}

TEST(Validation, NullObjectsWarning) {
  auto d = admit(collector("", "{receivers: {otlp: {protocols: {grpc: {}}}}, processors: {batch: null}, exporters: {debug: null}, "
                               "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}"));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0],
            "Collector config spec.config has null objects: exporters.debug, processors.batch. For compatibility with other "
            "tooling, such as kustomize and kubectl edit, it is recommended to use empty objects e.g. batch: {}.");
}

TEST(Validation, SingleNamedPrometheusReceiverIsAccepted) {  // our improvement
  Json cr = collector(kSts, "{receivers: {prometheus/app: {config: {scrape_configs: [{job_name: x}]}}}, exporters: {debug: {}}, "
                            "service: {pipelines: {metrics: {receivers: [prometheus/app], exporters: [debug]}}}}");
  EXPECT_TRUE(admit(cr).ok());
}

TEST(Validation, CertManagerAvailableAllowsMtls) {
  collectorconfig::AdmissionOptions opts;
  opts.certManagerAvailable = true;
  EXPECT_EQ(firstError(collector("{mode: statefulset, targetAllocator: {enabled: true, mtls: {enabled: true}}}", kPromConfig),
                       nullptr, opts),
            "");
}

TEST(Validation, ValidCollectorsPass) {
  EXPECT_TRUE(admit(collector("")).ok());
  EXPECT_TRUE(admit(collector("{mode: daemonset, targetAllocator: {enabled: true, allocationStrategy: per-node}}", kPromConfig)).ok());
  EXPECT_TRUE(admit(collector("{mode: statefulset, targetAllocator: {enabled: true, prometheusCR: {enabled: true}}}",
                              "{receivers: {prometheus: {}}, exporters: {debug: {}}, service: {pipelines: {metrics: "
                              "{receivers: [prometheus], exporters: [debug]}}}}"))
                  .ok());
}

TEST(TargetAllocatorValidation, Messages) {
  Json ta = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                      "{prometheusCR: {allowNamespaces: [a], denyNamespaces: [b]}}}");
  EXPECT_EQ(validateTargetAllocator(ta).errors.at(0), "allowNamespaces and denyNamespaces are mutually exclusive");
  Json lw = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                      "{allocationStrategy: least-weighted, podDisruptionBudget: {maxUnavailable: 1}}}");
  EXPECT_EQ(validateTargetAllocator(lw).errors.at(0),
            "target allocator pdb has been configured but the allocation strategy isn't not compatible");
  Json bad = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                       "{allocationStrategy: random}}");
  EXPECT_EQ(validateTargetAllocator(bad).errors.at(0),
            "spec.allocationStrategy: Unsupported value: \"random\": supported values: \"least-weighted\", "
            "\"consistent-hashing\", \"per-node\", \"rendezvous\"");
}

TEST(TargetAllocatorValidation, RendezvousIsAcceptedAndWarnsOnAForeignImage) {
  Json ours = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t}, spec: "
                        "{allocationStrategy: rendezvous}}");
  auto d = validateTargetAllocator(ours);
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.warnings.empty());
  Json upstream = ours;
  upstream["spec"]["image"] = "ghcr.io/open-telemetry/opentelemetry-operator/target-allocator:0.110.0";
  d = validateTargetAllocator(upstream);
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("spec.allocationStrategy: rendezvous is kubectl-otel's own strategy"), std::string::npos);
  // the same on a collector's embedded target allocator
  auto c = admit(collector("{mode: statefulset, targetAllocator: {enabled: true, allocationStrategy: rendezvous, image: "
                           "example.com/ta:1}}",
                           kPromConfig));
  EXPECT_TRUE(c.ok());
  bool warned = false;
  for (const auto& w : c.warnings) warned = warned || w.find("spec.targetAllocator.allocationStrategy: rendezvous") == 0;
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace otel::api

namespace otel::api {
namespace {

// Upstream's FIPS check: per kind the first component in use whose type is disabled, printed as a Go list.
TEST(Validation, FipsDisabledComponents) {
  collectorconfig::AdmissionOptions fips;
  fips.fipsDisabledComponents = {"receiver.zipkin", "exporter.debug", "extension.pprof", "processor.batch"};
  const char* config =
      "{receivers: {otlp: {protocols: {grpc: {}}}, zipkin/a: {}}, processors: {memory_limiter: {check_interval: 1s, "
      "limit_percentage: 75}}, exporters: {debug: {}}, extensions: {pprof: {}}, service: {extensions: [pprof], "
      "pipelines: {traces: {receivers: [otlp, zipkin/a], processors: [memory_limiter], exporters: [debug]}}}}";
  EXPECT_EQ(firstError(collector("", config), nullptr, fips),
            "the collector configuration contains not FIPS compliant components: [zipkin debug pprof]. Please remove it "
            "from the config");
  EXPECT_EQ(firstError(collector("", config)), "");  // not a FIPS platform: nothing disabled
  // a disabled component that is configured but in no pipeline is not in use
  collectorconfig::AdmissionOptions unused;
  unused.fipsDisabledComponents = {"processor.batch"};
  EXPECT_EQ(firstError(collector("", config), nullptr, unused), "");
}

}  // namespace
}  // namespace otel::api
