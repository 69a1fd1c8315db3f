// Discovery document parsing against the real kube-apiserver captures (aggregated v2 and legacy).
#include "lib/kube/discovery.h"

#include <gtest/gtest.h>

#include <fstream>

namespace {
otel::Json capture(const std::string& name) {
  std::ifstream in(std::string(OTEL_SHARED_REFERENCE) + "/apiserver-captures/" + name);
  if (!in) return nullptr;
  return otel::Json::parse(in)["body"];
}
}  // namespace

TEST(Discovery, Aggregated) {
  auto body = capture("discovery-aggregated.json");
  if (body.is_null()) GTEST_SKIP() << "captures not present";
  auto rs = otel::kube::parseAggregatedDiscovery(body);
  bool deploy = false, lease = false;
  for (auto& r : rs) {
    if (r.group == "apps" && r.kind == "Deployment") {
      deploy = true;
      EXPECT_EQ(r.resource, "deployments");
      EXPECT_TRUE(r.namespaced);
      EXPECT_NE(std::find(r.subresources.begin(), r.subresources.end(), "status"), r.subresources.end());
      EXPECT_NE(std::find(r.shortNames.begin(), r.shortNames.end(), "deploy"), r.shortNames.end());
    }
    if (r.group == "coordination.k8s.io" && r.kind == "Lease") lease = true;
    if (r.kind == "APIService") {
      EXPECT_FALSE(r.namespaced);
    }
  }
  EXPECT_TRUE(deploy);
  EXPECT_TRUE(lease);
}

TEST(Discovery, LegacyResourceList) {
  auto body = capture("discovery-api-v1.json");
  if (body.is_null()) GTEST_SKIP() << "captures not present";
  auto rs = otel::kube::parseResourceList(body);
  bool cm = false, ns = false;
  for (auto& r : rs) {
    EXPECT_EQ(r.resource.find('/'), std::string::npos);
    if (r.kind == "ConfigMap") {
      cm = true;
      EXPECT_EQ(r.id().apiVersion, "v1");
      EXPECT_EQ(r.id().resource, "configmaps");
      EXPECT_TRUE(r.namespaced);
    }
    if (r.kind == "Namespace") {
      ns = true;
      EXPECT_FALSE(r.namespaced);
      EXPECT_NE(std::find(r.subresources.begin(), r.subresources.end(), "status"), r.subresources.end());
    }
  }
  EXPECT_TRUE(cm);
  EXPECT_TRUE(ns);
  auto apps = otel::kube::parseResourceList(capture("discovery-apps-v1.json"));
  ASSERT_FALSE(apps.empty());
  EXPECT_EQ(apps[0].group, "apps");
}

TEST(Discovery, ResourcePaths) {
  otel::kube::ResourceId cm{"v1", "configmaps", true, "ConfigMap"};
  EXPECT_EQ(otel::kube::resourcePath(cm, "ns", "x"), "/api/v1/namespaces/ns/configmaps/x");
  EXPECT_EQ(otel::kube::resourcePath(cm, "", ""), "/api/v1/configmaps");
  otel::kube::ResourceId col{"opentelemetry.io/v1beta1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};
  EXPECT_EQ(otel::kube::resourcePath(col, "ns", "x", "status"),
            "/apis/opentelemetry.io/v1beta1/namespaces/ns/opentelemetrycollectors/x/status");
  otel::kube::ResourceId mwc{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, ""};
  EXPECT_EQ(otel::kube::resourcePath(mwc, "ignored", "n"), "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/n");
}
