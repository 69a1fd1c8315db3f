// Workload kinds, pod template lookup, owner facts and YAML stream splitting for file mode.
#include <gtest/gtest.h>

#include "lib/inject/workload.h"

using otel::Json;
using namespace otel::inject;

TEST(Workload, KindsAndShortNames) {
  EXPECT_EQ(workloadKindFor("deploy"), "Deployment");
  EXPECT_EQ(workloadKindFor("sts"), "StatefulSet");
  EXPECT_EQ(workloadKindFor("cj"), "CronJob");
  EXPECT_EQ(workloadKindFor("deployments.apps"), "Deployment");
  EXPECT_EQ(workloadKindFor("svc"), "");
  EXPECT_TRUE(isWorkloadKind("ReplicationController"));
  EXPECT_FALSE(isWorkloadKind("Service"));
}

TEST(Workload, PodTemplateOfEachKind) {
  Json cj = Json::parse(R"({"kind":"CronJob","spec":{"jobTemplate":{"spec":{"template":{"spec":{}}}}}})");
  ASSERT_NE(podTemplate(cj), nullptr);
  EXPECT_EQ(podTemplate(cj), &cj["spec"]["jobTemplate"]["spec"]["template"]);
  Json pod = Json::parse(R"({"kind":"Pod","spec":{}})");
  EXPECT_EQ(podTemplate(pod), &pod);
  Json svc = Json::parse(R"({"kind":"Service","spec":{}})");
  EXPECT_EQ(podTemplate(svc), nullptr);
  auto ctx = contextForWorkload(Json::parse(R"({"kind":"Deployment","metadata":{"name":"d"}})"), "prod");
  EXPECT_EQ(ctx.ns, "prod");
  EXPECT_EQ(ctx.deployment, "d");
}

TEST(Workload, SplitKeepsDocumentTextExactly) {
  auto docs = splitYamlDocuments("# lead\n---\na: 1 # c\n---\n\n---   \nb: 2\n...\n--- c: 3\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].text, "a: 1 # c\n");
  EXPECT_EQ(docs[0].line, 3);
  EXPECT_EQ(docs[1].text, "b: 2\n");
  EXPECT_EQ(docs[2].text, "c: 3\n");
  auto one = splitYamlDocuments("a: 1");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].text, "a: 1\n");
}

#include "lib/core/yaml.h"
#include "lib/inject/stream_gen.h"

TEST(WorkloadScale, ThousandDocumentStreamIsValidOrderedAndUntouchedDocsAreByteIdentical) {
  const std::string in = syntheticManifestStream(1000);
  auto r = processManifests({ManifestSource{"big.yaml", in}}, FileModeOptions{});
  EXPECT_EQ(r.changed, 250);
  auto inDocs = splitYamlDocuments(in);
  auto outDocs = splitYamlDocuments(r.output);
  ASSERT_EQ(inDocs.size(), 1000u);
  ASSERT_EQ(outDocs.size(), 1000u);
  auto parsed = otel::parseYamlStream(r.output);  // valid YAML
  ASSERT_EQ(parsed.size(), 1000u);
  int changed = 0;
  for (size_t i = 0; i < 1000; ++i) {
    otel::Json a = otel::parseYaml(inDocs[i].text), b = parsed[i].value;
    EXPECT_EQ(a["metadata"]["name"], b["metadata"]["name"]) << "order at " << i;
    if (outDocs[i].text != inDocs[i].text) {
      ++changed;
      EXPECT_EQ(a["kind"], "Deployment");
    }
  }
  EXPECT_EQ(changed, 250);
}

TEST(Workload, ContextForPodFollowsOwnersLikeUpstream) {
  Json pod = Json::parse(R"({"metadata":{"name":"web-5d8-abc","uid":"u1","ownerReferences":[{"kind":"ReplicaSet","name":"web-5d8","uid":"rs1"}]},"spec":{"nodeName":"n1"}})");
  auto lookup = [](const std::string& kind, const std::string&, const std::string& name) -> Json {
    if (kind == "ReplicaSet" && name == "web-5d8")
      return Json::parse(R"({"metadata":{"ownerReferences":[{"kind":"Deployment","name":"web","uid":"d1"}]}})");
    return Json();
  };
  auto ctx = contextForPod(pod, "shop", Json::object(), lookup);
  EXPECT_EQ(ctx.replicaSet, "web-5d8");
  EXPECT_EQ(ctx.deployment, "web");
  EXPECT_EQ(ctx.deploymentUid, "d1");
  EXPECT_EQ(ctx.podName, "web-5d8-abc");
  EXPECT_EQ(ctx.nodeName, "n1");
  auto shallow = contextForPod(pod, "shop", Json::object(), nullptr);
  EXPECT_EQ(shallow.deployment, "");
}

TEST(Workload, FileModeReportsEachChangedDocumentForDiff) {
  const std::string cm = "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
  const std::string deploy =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n"
      "      containers: [{name: app, image: x}]\n";
  FileModeOptions o;
  o.inject.languages = {Language::Java};
  o.endpoint = "http://c:4318";
  auto r = processManifests({ManifestSource{"app.yaml", cm + "---\n" + deploy}}, o);
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].source, "app.yaml");
  EXPECT_EQ(r.changes[0].index, 2);
  EXPECT_EQ(r.changes[0].ref, "deployment/web");
  EXPECT_EQ(r.changes[0].before, deploy);
  EXPECT_NE(r.output.find(r.changes[0].after), std::string::npos);
  EXPECT_NE(r.changes[0].after.find("opentelemetry-auto-instrumentation-java"), std::string::npos);
}
