// Instrumentation v1alpha1: view, webhook defaults, validation messages (upstream strings).
#include <gtest/gtest.h>

#include "lib/api/instrumentation.h"

using otel::Json;
using namespace otel::api;

namespace {
Json withSampler(const std::string& type, const std::string& arg) {
  return Json{{"spec", {{"sampler", {{"type", type}, {"argument", arg}}}}}};
}
std::string firstError(const Json& j) {
  auto d = validateInstrumentation(j);
  return d.errors.empty() ? "" : d.errors.front();
}
}  // namespace

TEST(Instrumentation, DefaultsImagesResourcesAndPaths) {
  Json obj = {{"metadata", {{"name", "i"}}}, {"spec", {{"java", {{"image", "my/java:1"}}}, {"unknownField", 7}}}};
  defaultInstrumentation(obj);
  EXPECT_EQ(obj["spec"]["java"]["image"], "my/java:1");
  EXPECT_EQ(obj["spec"]["unknownField"], 7);
  EXPECT_EQ(obj["spec"]["java"]["resources"]["requests"], Json({{"cpu", "50m"}, {"memory", "64Mi"}}));
  EXPECT_EQ(obj["spec"]["nodejs"]["resourceRequirements"]["requests"], Json({{"cpu", "50m"}, {"memory", "128Mi"}}));
  EXPECT_EQ(obj["spec"]["nginx"]["resourceRequirements"]["requests"], Json({{"cpu", "1m"}, {"memory", "128Mi"}}));
  EXPECT_EQ(obj["spec"]["python"]["resourceRequirements"]["limits"], Json({{"cpu", "500m"}, {"memory", "256Mi"}}));
  EXPECT_EQ(obj["spec"]["python"]["image"], "ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-python:0.64b0");
  EXPECT_EQ(obj["spec"]["nginx"]["image"], defaultLanguageImage(Language::ApacheHttpd));
  EXPECT_EQ(obj["spec"]["apacheHttpd"]["version"], "2.4");
  EXPECT_EQ(obj["spec"]["apacheHttpd"]["configPath"], "/usr/local/apache2/conf");
  EXPECT_EQ(obj["spec"]["nginx"]["configFile"], "/etc/nginx/nginx.conf");
  EXPECT_EQ(obj["metadata"]["annotations"]["instrumentation.opentelemetry.io/default-auto-instrumentation-go-image"],
            "ghcr.io/open-telemetry/opentelemetry-go-instrumentation/autoinstrumentation-go:v0.24.0");
}

TEST(Instrumentation, SamplerValidationMessages) {
  EXPECT_EQ(firstError(withSampler("traceidratio", "abc")), "spec.sampler.argument is not a number: abc");
  EXPECT_EQ(firstError(withSampler("parentbased_traceidratio", "1.5")), "spec.sampler.argument should be in rage [0..1]: 1.5");
  EXPECT_EQ(firstError(withSampler("traceidratio", "0.25")), "");
  EXPECT_EQ(firstError(withSampler("jaeger_remote", "endpoint=")),
            "spec.sampler.argument is not a valid argument for sampler jaeger_remote: endpoint cannot be empty");
  EXPECT_EQ(firstError(withSampler("jaeger_remote", "pollingIntervalMs=x")),
            "spec.sampler.argument is not a valid argument for sampler jaeger_remote: invalid pollingIntervalMs: x");
  EXPECT_EQ(firstError(withSampler("jaeger_remote", "initialSamplingRate=2")),
            "spec.sampler.argument is not a valid argument for sampler jaeger_remote: initialSamplingRate should be in rage [0..1]: 2");
  EXPECT_EQ(firstError(withSampler("jaeger_remote", "foo")),
            "spec.sampler.argument is not a valid argument for sampler jaeger_remote: invalid argument: foo, the argument should be in the form of key=value");
  EXPECT_EQ(firstError(withSampler("nope", "")), "spec.sampler.type is not valid: nope");
  auto d = validateInstrumentation(Json{{"spec", Json::object()}});
  EXPECT_EQ(d.warnings.at(0), "sampler type not set");
}

TEST(Instrumentation, VolumeConflictAndTlsWarnings) {
  Json j = {{"spec",
             {{"sampler", {{"type", "always_on"}}},
              {"java", {{"volumeClaimTemplate", {{"spec", Json::object()}}}, {"volumeLimitSize", "1Gi"}}}}}};
  EXPECT_EQ(firstError(j),
            "spec.java.volumeClaimTemplate and spec.java.volumeSizeLimit cannot both be defined: unable to resolve volume size");
  Json t = {{"spec", {{"sampler", {{"type", "always_on"}}}, {"exporter", {{"endpoint", "http://x"}, {"tls", {{"cert_file", "c"}}}}}}}};
  auto d = validateInstrumentation(t);
  ASSERT_EQ(d.warnings.size(), 2u);
  EXPECT_EQ(d.warnings[0], "both exporter.tls.key and exporter.tls.cert mut be set");
  EXPECT_EQ(d.warnings[1], "exporter.tls is configured but exporter.endpoint is not enabling TLS with https://");
}

TEST(Instrumentation, InlineFromEndpoint) {
  Json i = inlineInstrumentation("x", "ns", "http://c:4318", {}, "");
  InstrumentationView v(i);
  EXPECT_EQ(v.endpoint(), "http://c:4318");
  EXPECT_EQ(v.propagators(), (std::vector<std::string>{"tracecontext", "baggage"}));
  EXPECT_EQ(v.samplerType(), "parentbased_traceidratio");
  EXPECT_EQ(v.samplerArgument(), "1");
  EXPECT_EQ(v.ns(), "ns");
  EXPECT_EQ(parseLanguage("apache-httpd"), Language::ApacheHttpd);
  EXPECT_FALSE(parseLanguage("cobol").has_value());
}
