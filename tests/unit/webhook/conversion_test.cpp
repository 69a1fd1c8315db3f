#include <gtest/gtest.h>

#include "lib/api/collector.h"
#include "lib/core/yaml.h"
#include "lib/webhook/admission.h"

using otel::Json;
using namespace otel::webhook;

namespace {

// Key order aside (the operator's JSON keeps it, the API server does not care)
nlohmann::json unordered(const Json& j) { return nlohmann::json::parse(j.dump()); }

Json reviewOf(const std::string& desired, const Json& objects) {
  return Json{{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "ConversionReview"},
              {"request", {{"uid", "c-1"}, {"desiredAPIVersion", desired}, {"objects", objects}}}};
}

const char* kAlpha = R"(apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata: {name: a, namespace: ns, uid: u1, resourceVersion: "7", labels: {x: y}}
spec:
  mode: daemonset
  updateStrategy: {type: OnDelete}
  someUnknownField: {kept: true}
  config: |
    receivers:
      otlp:
        protocols: {grpc: {}}
    exporters:
      debug: {}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
)";

TEST(Conversion, AlphaToBetaAndBackThroughTheWebhook) {
  Json alpha = otel::parseYaml(kAlpha);
  Json out = Json::parse(convertReview(reviewOf("opentelemetry.io/v1beta1", Json::array({alpha})).dump()));
  EXPECT_EQ(out["apiVersion"], "apiextensions.k8s.io/v1");
  EXPECT_EQ(out["kind"], "ConversionReview");
  EXPECT_EQ(out["response"]["uid"], "c-1");
  EXPECT_EQ(out["response"]["result"]["status"], "Success");
  ASSERT_EQ(out["response"]["convertedObjects"].size(), 1u);
  Json beta = out["response"]["convertedObjects"][0];
  EXPECT_EQ(beta["apiVersion"], "opentelemetry.io/v1beta1");
  EXPECT_EQ(beta["metadata"], alpha["metadata"]);  // the API server refuses any other metadata change
  EXPECT_TRUE(beta["spec"]["config"].is_object());
  EXPECT_EQ(beta["spec"]["daemonSetUpdateStrategy"]["type"], "OnDelete");
  EXPECT_EQ(beta["spec"]["someUnknownField"]["kept"], true);

  Json back = Json::parse(convertReview(reviewOf("opentelemetry.io/v1alpha1", Json::array({beta})).dump()));
  Json a2 = back["response"]["convertedObjects"][0];
  EXPECT_EQ(a2["apiVersion"], "opentelemetry.io/v1alpha1");
  EXPECT_EQ(unordered(otel::parseYaml(a2["spec"]["config"].get<std::string>())),
            unordered(otel::parseYaml(alpha["spec"]["config"].get<std::string>())));
  Json withoutConfig = a2;
  withoutConfig["spec"].erase("config");
  Json want = alpha;
  want["spec"].erase("config");
  EXPECT_EQ(unordered(withoutConfig), unordered(want));
  // objects already at the desired version come back as they are
  Json same = Json::parse(convertReview(reviewOf("opentelemetry.io/v1beta1", Json::array({beta})).dump()));
  EXPECT_EQ(same["response"]["convertedObjects"][0], beta);
}

TEST(Conversion, WhatCannotBeConvertedIsAFailureResult) {
  Json alpha = otel::parseYaml(kAlpha);
  for (const auto& [desired, objects, message] : std::vector<std::tuple<std::string, Json, std::string>>{
           {"opentelemetry.io/v2", Json::array({alpha}), "cannot convert to \"opentelemetry.io/v2\""},
           {"opentelemetry.io/v1beta1", Json::array({Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}}}), "unsupported kind \"ConfigMap\""},
           {"opentelemetry.io/v1beta1", Json::array({1}), "object 0 is not an object"},
       }) {
    Json out = Json::parse(convertReview(reviewOf(desired, objects).dump()));
    EXPECT_EQ(out["response"]["uid"], "c-1");
    EXPECT_EQ(out["response"]["result"]["status"], "Failure");
    EXPECT_NE(out["response"]["result"]["message"].get<std::string>().find(message), std::string::npos)
        << out["response"]["result"]["message"];
    EXPECT_TRUE(out["response"]["convertedObjects"].empty());
  }
  for (const char* bad : {"", "{}", R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview"})",
                          R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"x"}})",
                          R"({"apiVersion":"apiextensions.k8s.io/v1beta1","kind":"ConversionReview","request":{}})"}) {
    EXPECT_THROW(convertReview(bad), BadRequest) << bad;
  }
}

}  // namespace
