// Golden tests (tests/fixtures/inject/golden/<case>/{input.yaml,flags.txt,expected.yaml}) through the
// file-mode pipeline, property tests over every fixture (inject twice == once, uninject(inject(x)) == x,
// nothing outside the injected fields changes) and direct checks of upstream's env order and messages.
// Regenerate goldens with OTEL_UPDATE_GOLDEN=1 and review the diff like code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "lib/inject/inject.h"
#include "lib/inject/undo.h"
#include "lib/inject/workload.h"

namespace fs = std::filesystem;
using otel::Json;
using namespace otel::inject;

namespace {

fs::path goldenRoot() { return fs::path(OTEL_SOURCE_DIR) / "tests/fixtures/inject/golden"; }

std::vector<fs::path> goldenCases() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(goldenRoot()))
    if (e.is_directory() && fs::exists(e.path() / "input.yaml")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

FileModeOptions optionsFor(const fs::path& dir) {
  FileModeOptions o;
  std::ifstream in(dir / "flags.txt");
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    std::string k = line.substr(0, eq), v = eq == std::string::npos ? "" : line.substr(eq + 1);
    if (k == "lang") o.inject.languages.push_back(*otel::api::parseLanguage(v));
    if (k == "sidecar") {
      o.inject.sidecar = true;
      o.inject.collector = v;
    }
    if (k == "native") o.inject.nativeSidecar = true;
    if (k == "containers") o.inject.containers = {v};
    if (k == "endpoint") o.endpoint = v;
  }
  return o;
}

FileModeResult run(const std::string& text, const FileModeOptions& o) {
  return processManifests({ManifestSource{"input.yaml", text}}, o);
}

TEST(InjectGolden, EveryCaseMatchesItsExpectedOutput) {
  auto cases = goldenCases();
  ASSERT_GE(cases.size(), 20u);
  const bool update = std::getenv("OTEL_UPDATE_GOLDEN") != nullptr;
  for (const auto& dir : cases) {
    SCOPED_TRACE(dir.filename().string());
    auto r = run(otel::readFile((dir / "input.yaml").string()), optionsFor(dir));
    std::string out = r.output + "# summary:\n";
    for (const auto& s : r.summary) out += "#   " + s + "\n";
    if (update) {
      std::ofstream(dir / "expected.yaml") << out;
      continue;
    }
    ASSERT_TRUE(fs::exists(dir / "expected.yaml")) << "run with OTEL_UPDATE_GOLDEN=1";
    EXPECT_EQ(out, otel::readFile((dir / "expected.yaml").string()));
  }
}

// Every workload template of a stream, in order.
std::vector<Json> templates(const std::string& text) {
  std::vector<Json> out;
  for (auto& d : otel::parseYamlStream(text)) {
    if (!d.value.is_object()) continue;
    std::vector<Json> objs;
    if (d.value.contains("items"))
      for (auto& i : d.value["items"]) objs.push_back(i);
    else
      objs.push_back(d.value);
    for (auto& o : objs)
      if (const Json* t = podTemplate(o)) out.push_back(*t);
  }
  return out;
}

// Paths (as dotted strings) an undo touches must all be inside what injection may change.
bool allowedPath(const Json& path) {
  std::string p;
  for (const auto& s : path) {
    p.push_back('/');
    p.append(s.is_string() ? s.get<std::string>() : s.begin().value().get<std::string>());
  }
  for (const char* ok : {"/spec/initContainers", "/spec/volumes", "/metadata/annotations/kubectl-otel/undo",
                         "/metadata/labels/sidecar.opentelemetry.io/injected", "/spec/shareProcessNamespace"})
    if (p.rfind(ok, 0) == 0) return true;
  if (p.rfind("/spec/containers", 0) == 0) {
    // a whole container (added / removed sidecar) or its env / volumeMounts
    size_t depth = static_cast<size_t>(std::count(p.begin(), p.end(), '/'));
    if (depth <= 3) return true;
    return p.find("/env") != std::string::npos || p.find("/volumeMounts") != std::string::npos;
  }
  // the metadata/labels/annotations maps themselves when created for the record
  return p == "/metadata" || p == "/metadata/annotations" || p == "/metadata/labels";
}

TEST(InjectProperties, IdempotentExactlyReversibleAndLocal) {
  for (const auto& dir : goldenCases()) {
    SCOPED_TRACE(dir.filename().string());
    std::string input = otel::readFile((dir / "input.yaml").string());
    auto o = optionsFor(dir);
    auto once = run(input, o);
    auto twice = run(once.output, o);
    EXPECT_EQ(once.output, twice.output) << "inject twice != inject once";
    FileModeOptions un;
    un.uninject = true;
    auto back = run(once.output, un);
    EXPECT_EQ(templates(back.output), templates(input)) << "uninject(inject(x)) != x";
    // uninject of the injected stream gives back every document's content
    if (once.changed == 0) {
      EXPECT_EQ(back.changed, 0);
    }
    auto before = templates(input), after = templates(once.output);
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i)
      for (const auto& op : makeUndo(before[i], after[i])) EXPECT_TRUE(allowedPath(op["path"])) << op.dump();
  }
}

TEST(InjectFileMode, UntouchedDocumentsAreByteIdentical) {
  std::string svc = "apiVersion: v1\nkind: Service   # a comment\nmetadata: {name: x}\nspec:\n  ports: [ {port: 80} ]\n";
  std::string stream = "# header\n---\n" + svc + "---\n" + svc;
  auto r = run(stream, FileModeOptions{});
  EXPECT_EQ(r.output, svc + "---\n" + svc);
}

const char* kInst = R"(apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: inst, namespace: shop}
spec:
  exporter: {endpoint: "http://c:4318"}
  env:
  - {name: OTEL_LOGS_EXPORTER, value: none}
  java:
    env:
    - {name: OTEL_JAVAAGENT_DEBUG, value: "true"}
)";

Json javaPod(const std::string& annotation = "true") {
  return otel::parseYaml(R"(metadata:
  labels: {app: shop}
  annotations:
    instrumentation.opentelemetry.io/inject-java: ")" + annotation + R"("
spec:
  containers:
  - name: myapp
    image: ghcr.io/x/app:1.0
)");
}

Catalog catalogWith(const char* inst) { return Catalog{{otel::parseYaml(inst)}, {}}; }

std::vector<std::string> envNames(const Json& c) {
  std::vector<std::string> out;
  for (const auto& e : c["env"]) out.push_back(e["name"]);
  return out;
}

TEST(InjectJava, EnvOrderAndValuesMatchUpstreamE2E) {
  PodContext ctx;
  ctx.ns = "shop";
  ctx.deployment = "my-java";
  Options o;
  o.record = false;
  auto r = injectPod(javaPod(), ctx, catalogWith(kInst), o);
  ASSERT_TRUE(r.errors.empty());
  const Json& c = r.pod["spec"]["containers"][0];
  EXPECT_EQ(envNames(c), (std::vector<std::string>{"OTEL_NODE_IP", "OTEL_POD_IP", "OTEL_JAVAAGENT_DEBUG",
                                                   "OTEL_LOGS_EXPORTER", "JAVA_TOOL_OPTIONS", "OTEL_SERVICE_NAME",
                                                   "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES_POD_NAME",
                                                   "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME", "OTEL_RESOURCE_ATTRIBUTES"}));
  EXPECT_EQ(c["env"][4]["value"], " -javaagent:/otel-auto-instrumentation-java-myapp/javaagent.jar");
  EXPECT_EQ(c["env"][5]["value"], "my-java");
  EXPECT_EQ(c["env"][9]["value"],
            "k8s.container.name=myapp,k8s.deployment.name=my-java,k8s.namespace.name=shop,"
            "k8s.node.name=$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME),k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME),"
            "service.instance.id=shop.$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME).myapp,service.namespace=shop,"
            "service.version=1.0");
  EXPECT_EQ(r.pod["spec"]["initContainers"][0]["name"], "opentelemetry-auto-instrumentation-java");
  EXPECT_EQ(r.pod["spec"]["volumes"][0],
            Json({{"name", "opentelemetry-auto-instrumentation-java"}, {"emptyDir", {{"sizeLimit", "200Mi"}}}}));
}

TEST(InjectAnnotations, NamespaceAndPodResolution) {
  Json ns = {{"k", "true"}};
  EXPECT_EQ(effectiveAnnotation(Json::object(), Json{{"k", "x"}}, "k"), "x");
  EXPECT_EQ(effectiveAnnotation(ns, Json::object(), "k"), "true");
  EXPECT_EQ(effectiveAnnotation(Json{{"k", "false"}}, Json{{"k", "TRUE"}}, "k"), "TRUE");
  EXPECT_EQ(effectiveAnnotation(Json{{"k", "inst"}}, Json{{"k", "true"}}, "k"), "inst");
  EXPECT_EQ(effectiveAnnotation(Json{{"k", "inst"}}, Json{{"k", "false"}}, "k"), "false");
}

TEST(InjectErrors, UpstreamSelectionMessages) {
  PodContext ctx;
  ctx.ns = "shop";
  Options o;
  auto none = injectPod(javaPod(), ctx, Catalog{}, o);
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_EQ(none.errors[0], "java: no OpenTelemetry Instrumentation instances available");
  EXPECT_EQ(none.pod, javaPod());
  Catalog two = catalogWith(kInst);
  Json second = two.instrumentations[0];
  second["metadata"]["name"] = "other";
  two.instrumentations.push_back(second);
  EXPECT_EQ(injectPod(javaPod(), ctx, two, o).errors.at(0),
            "java: multiple OpenTelemetry Instrumentation instances available, cannot determine which one to select");
  EXPECT_EQ(injectPod(javaPod("missing"), ctx, two, o).errors.at(0),
            "java: instrumentations.opentelemetry.io \"missing\" not found");
  EXPECT_NE(injectPod(javaPod("Not Valid!"), ctx, two, o).errors.at(0).find("invalid value \"Not Valid!\""),
            std::string::npos);
  Json p = javaPod();
  p["metadata"]["annotations"]["instrumentation.opentelemetry.io/container-names"] = "a b";
  EXPECT_EQ(injectPod(p, ctx, catalogWith(kInst), o).errors.at(0),
            "not valid characters included in the instrumentation container annotation a b");
  Json s = javaPod();
  s["metadata"]["annotations"] = Json{{"sidecar.opentelemetry.io/inject", "true"}};
  EXPECT_EQ(injectPod(s, ctx, Catalog{}, o).errors.at(0), "sidecar: no OpenTelemetry Collector instances available");
  Catalog cols;
  cols.collectors.push_back(otel::parseYaml("metadata: {name: gw, namespace: shop}\nspec: {mode: deployment}\n"));
  s["metadata"]["annotations"]["sidecar.opentelemetry.io/inject"] = "gw";
  EXPECT_EQ(injectPod(s, ctx, cols, o).errors.at(0), "sidecar: the OpenTelemetry Collector's mode is not set to sidecar");
  o.strict = false;  // the webhook only logs these and goes on
  auto soft = injectPod(s, ctx, cols, o);
  EXPECT_TRUE(soft.errors.empty());
  EXPECT_EQ(soft.skips.at(0), "sidecar: the OpenTelemetry Collector's mode is not set to sidecar");
}

TEST(InjectFileMode, ErrorsAreOneLineAndNameTheObject) {
  FileModeOptions o;
  try {
    run("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    metadata:\n      annotations:\n"
        "        instrumentation.opentelemetry.io/inject-java: \"true\"\n    spec:\n      containers: [{name: c, image: i}]\n",
        o);
    FAIL() << "expected an error";
  } catch (const otel::Error& e) {
    EXPECT_EQ(e.oneLine(), "input.yaml: document 1 (Deployment a): java: no OpenTelemetry Instrumentation instances available");
    EXPECT_NE(e.hint().find("kubectl otel create instrumentation"), std::string::npos);
  }
  EXPECT_THROW(run("a: [unclosed\n", o), otel::Error);
  o.selectors = {"svc/x"};
  try {
    run("kind: Service\n", o);
    FAIL();
  } catch (const otel::Error& e) {
    EXPECT_EQ(std::string(e.what()), "unsupported kind \"svc\"");
  }
  o.selectors = {"deploy/nope"};
  EXPECT_THROW(run("kind: Service\n", o), otel::Error);
}

}  // namespace

// Which annotations the pod webhook looks at first (asks for injection: else the pod is admitted as it
// is, with no lookups) and which a namespace cache must keep (everything injection reads).
TEST(InjectAnnotations, WhichKeysAskForAndWhichAreReadByInjection) {
  for (const char* k : {"sidecar.opentelemetry.io/inject", "instrumentation.opentelemetry.io/inject-java",
                        "instrumentation.opentelemetry.io/inject-nginx-container-names", "instrumentation.opentelemetry.io/inject-sdk"}) {
    EXPECT_TRUE(otel::inject::asksForInjection(k)) << k;
    EXPECT_TRUE(otel::inject::readByInjection(k)) << k;
  }
  for (const char* k : {"instrumentation.opentelemetry.io/container-names", "instrumentation.opentelemetry.io/otel-go-auto-target-exe",
                        "instrumentation.opentelemetry.io/java-container-names"}) {
    EXPECT_FALSE(otel::inject::asksForInjection(k)) << k;
    EXPECT_TRUE(otel::inject::readByInjection(k)) << k;
  }
  for (const char* k : {"resource.opentelemetry.io/service.name", "kubectl-otel/undo", "instrumentation.opentelemetry.io",
                        "sidecar.opentelemetry.io", "example.com/instrumentation.opentelemetry.io/inject-java"}) {
    EXPECT_FALSE(otel::inject::asksForInjection(k)) << k;
    EXPECT_FALSE(otel::inject::readByInjection(k)) << k;
  }
}
