// The admission handlers on AdmissionReview bodies: the captured request of a real kube-apiserver,
// malformed bodies, the pod mutation (fail-open), collector defaulting and validation with every
// upstream message, the mode rule both ways, RBAC through the reviewer, the other kinds.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "lib/webhook/admission.h"
#include "lib/webhook/jsonpatch.h"
#include "tests/support/admission_cases.h"

using otel::Json;
using namespace otel::webhook;

namespace {

std::string review(const std::string& operation, const Json& object, const Json& oldObject = nullptr,
                   const std::string& ns = "ns", const std::string& kind = "OpenTelemetryCollector") {
  Json req{{"uid", "u-1"},
           {"kind", {{"group", kind == "Pod" ? "" : "opentelemetry.io"}, {"version", "v1beta1"}, {"kind", kind}}},
           {"resource", {{"group", "opentelemetry.io"}, {"version", "v1beta1"}, {"resource", "opentelemetrycollectors"}}},
           {"namespace", ns},
           {"operation", operation},
           {"userInfo", {{"username", "alice"}, {"groups", {"devs", "system:authenticated"}}}}};
  if (!object.is_null()) req["object"] = object;
  if (!oldObject.is_null()) req["oldObject"] = oldObject;
  return Json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", req}}.dump();
}

AdmissionResponse admit(const std::string& handler, const std::string& body, const CrOptions& opts = {}) {
  return admitCustomResource(handler, parseAdmissionReview(body), opts);
}

// What the API server stores: the object with the mutating webhook's patch applied.
Json mutated(const Json& obj, const Json& old = nullptr) {
  auto r = admit("mutate-collector", review(old.is_null() ? "CREATE" : "UPDATE", obj, old));
  EXPECT_TRUE(r.allowed) << r.message;
  return r.patch.is_array() ? applyJsonPatch(obj, r.patch) : obj;
}

TEST(AdmissionReview, ReadsTheRequestARealApiServerSends) {
  std::ifstream in(std::string(OTEL_SHARED_REFERENCE) + "/apiserver-captures/admissionreview-request.json");
  if (!in) GTEST_SKIP() << "../shared/reference/apiserver-captures not present (a user's clone): skipped";
  std::stringstream ss;
  ss << in.rdbuf();
  Json capture = Json::parse(ss.str());
  AdmissionRequest r = parseAdmissionReview(capture["body"].dump());
  EXPECT_EQ(r.uid, "481ee1fa-8eea-495e-ae70-c61ac63ba121");
  EXPECT_EQ(r.operation, "CREATE");
  EXPECT_EQ(r.kind, "Pod");
  EXPECT_EQ(r.ns, "capture");
  EXPECT_EQ(r.username, "admin");
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.object["metadata"]["generateName"], "app-");

  // the pod asks for Java: the patch applied to the request's object is exactly lib/inject's result
  Json inst = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata: {name: i, namespace: capture}\n"
                              "spec: {exporter: {endpoint: 'http://otel:4317'}}\n");
  PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) { return Json::object(); };
  lk.catalog = [&](const CatalogScope&) { return otel::inject::Catalog{{inst}, {}}; };
  PodOutcome out;
  auto resp = mutatePod(r, lk, otel::inject::Options{}, &out);
  ASSERT_TRUE(resp.allowed);
  ASSERT_TRUE(out.mutated) << out.error;
  otel::inject::PodContext ctx;
  ctx.ns = "capture";
  otel::inject::Options o;
  o.strict = false;
  o.record = false;
  auto direct = otel::inject::injectPod(r.object, ctx, otel::inject::Catalog{{inst}, {}}, o);
  EXPECT_EQ(applyJsonPatch(r.object, resp.patch), direct.pod);
  EXPECT_NE(direct.pod.dump().find("opentelemetry-auto-instrumentation-java"), std::string::npos);
  // and the answer is an AdmissionReview v1 with the uid, a base64 JSONPatch
  Json answer = Json::parse(renderAdmissionReview(r, resp));
  EXPECT_EQ(answer["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(answer["kind"], "AdmissionReview");
  EXPECT_EQ(answer["response"]["uid"], r.uid);
  EXPECT_EQ(answer["response"]["allowed"], true);
  EXPECT_EQ(answer["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(Json::parse(otel::base64Decode(answer["response"]["patch"].get<std::string>())), resp.patch);
}

// The answer is written in pieces (the patch's base64 spliced in): the same bytes as dumping the object.
TEST(AdmissionReview, TheAnswerIsTheCompactDumpOfTheReview) {
  auto reference = [](const AdmissionRequest& req, const AdmissionResponse& resp) {
    Json response{{"uid", req.uid}, {"allowed", resp.allowed}};
    if (resp.code != 0 || !resp.message.empty()) {
      Json status{{"metadata", Json::object()}};
      if (resp.code != 0) status["code"] = resp.code;
      if (!resp.reason.empty()) status["reason"] = resp.reason;
      if (!resp.message.empty()) status["message"] = resp.message;
      response["status"] = status;
    }
    if (resp.patch.is_array() && !resp.patch.empty()) {
      response["patchType"] = "JSONPatch";
      response["patch"] = otel::base64Encode(resp.patch.dump());
    }
    if (!resp.warnings.empty()) response["warnings"] = resp.warnings;
    return Json{{"apiVersion", req.reviewApiVersion}, {"kind", "AdmissionReview"}, {"response", response}}.dump();
  };
  AdmissionRequest req;
  req.uid = "u-\"1\"\n\u00e9";  // escaped in the output
  Json patch = Json::array({{{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"a", "\"b\"\u00e9"}}}}});
  AdmissionResponse withStatus = allow({"w1 \"quoted\"", "w2"});
  withStatus.code = 500;
  withStatus.message = "error \"x\"";
  withStatus.patch = patch;
  AdmissionResponse patched = allow();
  patched.patch = patch;
  AdmissionResponse emptyPatch = allow({"only a warning"});
  emptyPatch.patch = Json::array();
  for (const auto& resp : {allow(), patched, withStatus, emptyPatch, deny("no \"way\"", {"w"}), errored(400, "bad")}) {
    std::string got = renderAdmissionReview(req, resp);
    EXPECT_EQ(got, reference(req, resp));
    EXPECT_EQ(Json::parse(got).dump(), got);
  }
}

TEST(AdmissionReview, MalformedBodiesAreBadRequestsWithAClearMessage) {
  struct Bad {
    std::string body, message;
  };
  for (const auto& b : std::vector<Bad>{
           {"", "the body is not JSON"},
           {"{\"apiVersion\":", "the body is not JSON"},
           {"[]", "not a JSON object"},
           {R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}})", "unsupported AdmissionReview apiVersion"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod"})", "kind must be AdmissionReview"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "has no request"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}})", "no uid"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"EAT"}})", "unknown operation"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE"}})", "has no object"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE","object":"pod"}})", "not an object"},
           {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"UPDATE","object":{}}})", "no oldObject"},
       }) {
    try {
      parseAdmissionReview(b.body);
      ADD_FAILURE() << "accepted: " << b.body;
    } catch (const BadRequest& e) {
      EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

Json pod(const Json& annotations) {
  return Json{{"apiVersion", "v1"}, {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"namespace", "ns"}, {"annotations", annotations}}},
              {"spec", {{"containers", Json::array({{{"name", "app"}, {"image", "app:1"}}})}}}};
}

TEST(PodWebhook, PodsThatAskForNothingAreAdmittedWithoutAPatchOrAnyLookup) {
  PodLookups lk;
  int lookups = 0;
  lk.namespaceAnnotations = [&](const std::string&) {
    ++lookups;
    return Json::object();
  };
  lk.catalog = [&](const CatalogScope&) {
    ++lookups;
    return otel::inject::Catalog{};
  };
  auto req = parseAdmissionReview(review("CREATE", pod(Json::object()), nullptr, "ns", "Pod"));
  auto r = mutatePod(req, lk, {});
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.patch.is_null());
  EXPECT_EQ(lookups, 1);  // the namespace's annotations may ask for injection: read; the catalog not
  Json answer = Json::parse(renderAdmissionReview(req, r));
  EXPECT_FALSE(answer["response"].contains("patch"));
  EXPECT_FALSE(answer["response"].contains("status"));
}

// The catalog is asked for what the annotations can select: the pod's namespace, and the objects named as
// "namespace/name" by the pod's or the namespace's inject annotations; nothing else of the cluster.
TEST(PodWebhook, TheCatalogIsAskedForThePodsNamespaceAndTheObjectsItsAnnotationsName) {
  Json inst = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata: {name: shared, namespace: obs}\n"
                              "spec: {exporter: {endpoint: 'http://otel:4317'}}\n");
  PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) {
    return Json{{"sidecar.opentelemetry.io/inject", "obs/side"}, {"other.example.com/x", "a/b"}};
  };
  std::vector<CatalogScope> asked;
  lk.catalog = [&](const CatalogScope& s) {
    asked.push_back(s);
    return otel::inject::Catalog{{inst}, {}};
  };
  auto req = parseAdmissionReview(review("CREATE",
                                         pod({{"instrumentation.opentelemetry.io/inject-java", "obs/shared"},
                                              {"instrumentation.opentelemetry.io/inject-python", "true"},
                                              {"sidecar.opentelemetry.io/inject", "false"}}),
                                         nullptr, "app", "Pod"));
  PodOutcome out;
  mutatePod(req, lk, {}, &out);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].ns, "app");
  EXPECT_EQ(asked[0].named, (std::set<std::string>{"obs/shared", "obs/side"}));
}

// Found by fuzz_admission: a 35 kB annotation value overflowed the stack in libstdc++'s std::regex (it
// recurses per character); the name checks are hand-written now. Long values are answered, not crashed on.
TEST(PodWebhook, LongAnnotationValuesAreAnsweredNotCrashedOn) {
  PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) { return Json::object(); };
  lk.catalog = [](const CatalogScope&) { return otel::inject::Catalog{}; };
  const std::string longName(200000, 'p');
  for (const std::string& key : {std::string("instrumentation.opentelemetry.io/inject-java"), std::string("sidecar.opentelemetry.io/inject"),
                                 std::string("instrumentation.opentelemetry.io/container-names")}) {
    Json annotations{{key, longName}};
    if (key.find("container-names") != std::string::npos) annotations["instrumentation.opentelemetry.io/inject-java"] = "true";
    auto req = parseAdmissionReview(review("CREATE", pod(annotations), nullptr, "ns", "Pod"));
    PodOutcome out;
    auto r = mutatePod(req, lk, {}, &out);
    EXPECT_TRUE(r.allowed) << key;
    EXPECT_TRUE(r.patch.is_null()) << key;
  }
  // and the same names still validate as before
  auto req = parseAdmissionReview(review("CREATE", pod({{"instrumentation.opentelemetry.io/inject-java", "other-ns/my-inst.v1"}}), nullptr, "ns", "Pod"));
  PodOutcome out;
  mutatePod(req, lk, {}, &out);
  for (const auto& s : out.skips) EXPECT_EQ(s.find("invalid"), std::string::npos) << s;
}

TEST(PodWebhook, AnErrorAdmitsThePodUnchanged) {
  PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) -> Json { throw std::runtime_error("namespaces \"ns\" is forbidden"); };
  auto req = parseAdmissionReview(review("CREATE", pod({{"sidecar.opentelemetry.io/inject", "true"}}), nullptr, "ns", "Pod"));
  PodOutcome out;
  auto r = mutatePod(req, lk, {}, &out);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.patch.is_null());
  EXPECT_EQ(r.code, 500);
  EXPECT_TRUE(out.failedOpen);
  EXPECT_EQ(out.error, "namespaces \"ns\" is forbidden");
  // a selection problem (no sidecar collector) is logged, not an error of the request
  PodLookups ok;
  ok.namespaceAnnotations = [](const std::string&) { return Json::object(); };
  ok.catalog = [](const CatalogScope&) { return otel::inject::Catalog{}; };
  PodOutcome none;
  r = mutatePod(req, ok, {}, &none);
  EXPECT_TRUE(r.allowed);
  EXPECT_TRUE(r.patch.is_null());
  EXPECT_EQ(r.code, 0);
  ASSERT_FALSE(none.skips.empty());
  EXPECT_NE(none.skips[0].find("no OpenTelemetry Collector instances available"), std::string::npos) << none.skips[0];
}

TEST(PodWebhook, SidecarFromTheNamespaceAnnotationWithTheOwnerChain) {
  Json col = otel::parseYaml("apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: {name: side, namespace: ns}\n"
                             "spec: {mode: sidecar, config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, "
                             "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}}\n");
  Json p = pod(Json::object());
  p["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "web-5d8f"}, {"uid", "rs-uid"}, {"controller", true}}});
  PodLookups lk;
  lk.namespaceAnnotations = [](const std::string&) { return Json{{"sidecar.opentelemetry.io/inject", "true"}}; };
  lk.catalog = [&](const CatalogScope&) { return otel::inject::Catalog{{}, {col}}; };
  std::vector<std::string> asked;
  lk.owner = [&](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<Json> {
    asked.push_back(kind + " " + ns + "/" + name);
    return Json{{"metadata", {{"name", name}, {"ownerReferences", Json::array({{{"kind", "Deployment"}, {"name", "web"}, {"uid", "dep-uid"}}})}}}};
  };
  auto req = parseAdmissionReview(review("CREATE", p, nullptr, "ns", "Pod"));
  PodOutcome out;
  auto r = mutatePod(req, lk, {}, &out);
  ASSERT_TRUE(out.mutated) << out.error;
  Json after = applyJsonPatch(p, r.patch);
  EXPECT_EQ(asked, std::vector<std::string>{"ReplicaSet ns/web-5d8f"});
  EXPECT_EQ(after["metadata"]["labels"]["sidecar.opentelemetry.io/injected"], "ns.side");
  std::string dump = after.dump();
  EXPECT_NE(dump.find("k8s.deployment.name=web"), std::string::npos) << dump;
  EXPECT_NE(dump.find("k8s.replicaset.name=web-5d8f"), std::string::npos) << dump;
  // fields the webhook does not know survive
  p["spec"]["someFutureField"] = Json{{"x", 1}};
  r = mutatePod(parseAdmissionReview(review("CREATE", p, nullptr, "ns", "Pod")), lk, {});
  EXPECT_EQ(applyJsonPatch(p, r.patch)["spec"]["someFutureField"], p["spec"]["someFutureField"]);
  // UPDATE is never mutated (CREATE only, as upstream)
  EXPECT_TRUE(mutatePod(parseAdmissionReview(review("UPDATE", p, p, "ns", "Pod")), lk, {}).patch.is_null());
}

TEST(CollectorWebhook, DefaultsAMissingModeOnCreate) {
  Json c = otel::testing::admissionCollector("");
  Json stored = mutated(c);
  EXPECT_EQ(stored["spec"]["mode"], "deployment");
  EXPECT_EQ(stored["spec"]["upgradeStrategy"], "automatic");
  EXPECT_EQ(stored["spec"]["replicas"], 1);
  EXPECT_EQ(stored["spec"]["managementState"], "managed");
  // a second pass over the stored object changes nothing
  auto again = admit("mutate-collector", review("CREATE", stored));
  EXPECT_TRUE(again.patch.empty()) << again.patch.dump();
}

TEST(CollectorWebhook, AnUpdateWithoutModeKeepsTheStoredMode) {
  for (const char* mode : {"daemonset", "statefulset", "sidecar"}) {
    Json old = mutated(otel::testing::admissionCollector(std::string("{mode: ") + mode + "}"));
    Json update = otel::testing::admissionCollector("{replicas: 1}");  // a GitOps manifest without mode
    Json stored = mutated(update, old);
    EXPECT_EQ(stored["spec"]["mode"], mode);
    auto v = admit("validate-collector", review("UPDATE", stored, old));
    EXPECT_TRUE(v.allowed) << mode << ": " << v.message;
  }
}

TEST(CollectorWebhook, ARealModeChangeIsRefusedWithUpstreamsMessageAndWhatToDo) {
  Json old = mutated(otel::testing::admissionCollector("{mode: daemonset}"));
  Json update = mutated(otel::testing::admissionCollector("{mode: deployment}"), old);
  auto v = admit("validate-collector", review("UPDATE", update, old));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.code, 403);
  EXPECT_EQ(v.reason, "Forbidden");
  EXPECT_EQ(v.message,
            "the OpenTelemetry Collector mode is set to daemonset, which does not support modification\n"
            "the mode of a collector cannot change in place: delete it and create it again with the new mode, e.g. "
            "`kubectl delete opentelemetrycollector c -n ns` then `kubectl apply -f <manifest>`");
}

class UpstreamMessages : public ::testing::TestWithParam<otel::testing::AdmissionCase> {};

// Every collector validation message of upstream's webhook, through the mutating then the validating
// webhook as the API server calls them.
TEST_P(UpstreamMessages, DeniedWithTheExactMessage) {
  const auto& c = GetParam();
  Json obj = otel::testing::admissionCollector(c.spec, c.config);
  auto m = admit("mutate-collector", review("CREATE", obj));
  std::string message;
  if (!m.allowed) {
    message = m.message;  // the defaulter cannot default the config (unknown protocol)
  } else {
    Json stored = m.patch.is_array() ? applyJsonPatch(obj, m.patch) : obj;
    auto v = admit("validate-collector", review("CREATE", stored));
    EXPECT_FALSE(v.allowed);
    message = v.message;
  }
  EXPECT_EQ(message, c.message);
}

INSTANTIATE_TEST_SUITE_P(Collector, UpstreamMessages, ::testing::ValuesIn(otel::testing::collectorAdmissionCases()),
                         [](const ::testing::TestParamInfo<otel::testing::AdmissionCase>& i) { return std::string(i.param.name); });

TEST(CollectorWebhook, WarningsFipsAndDelete) {
  Json nulls = mutated(otel::testing::admissionCollector(
      "", "{receivers: {otlp: {protocols: {grpc: {}}}}, processors: {batch: null}, exporters: {debug: {}}, "
          "service: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [debug]}}}}"));
  auto v = admit("validate-collector", review("CREATE", nulls));
  EXPECT_TRUE(v.allowed);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_EQ(v.warnings[0].rfind("Collector config spec.config has null objects: processors.batch.", 0), 0u) << v.warnings[0];

  CrOptions fips;
  fips.admission.fipsDisabledComponents = {"exporter.debug"};
  Json ok = mutated(otel::testing::admissionCollector(""));
  v = admit("validate-collector", review("CREATE", ok), fips);
  EXPECT_EQ(v.message, "the collector configuration contains not FIPS compliant components: [debug]. Please remove it from the config");

  // DELETE is admitted even for an object the validator refuses
  Json bad = otel::testing::admissionCollector("{mode: sidecar, tolerations: [{key: k}]}");
  v = admit("validate-collector", review("DELETE", nullptr, bad));
  EXPECT_TRUE(v.allowed);
  // wrong kind or version at this path: 400, not a crash
  v = admit("validate-collector", review("CREATE", Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}}));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.code, 400);
}

TEST(CollectorWebhook, RbacEscalationIsAskedForTheRequestingUserAndGroups) {
  Json c = mutated(otel::testing::admissionCollector(
      "", "{receivers: {k8s_cluster: {}}, exporters: {debug: {}}, service: {pipelines: {metrics: {receivers: [k8s_cluster], "
          "exporters: [debug]}}}}"));
  std::vector<otel::manifests::AccessSubject> subjects;
  CrOptions opts;
  opts.reviewer = [&](const otel::manifests::AccessSubject& who, const std::vector<otel::manifests::AccessCheck>& checks) {
    subjects.push_back(who);
    return std::vector<bool>(checks.size(), false);  // nobody holds anything
  };
  auto v = admit("validate-collector", review("CREATE", c), opts);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.message.rfind("user \"alice\" is not allowed to create a collector whose config would grant permissions they do "
                            "not hold: missing the following rules for alice - ",
                            0),
            0u)
      << v.message;
  ASSERT_EQ(subjects.size(), 2u);
  EXPECT_EQ(subjects[0].user, "system:serviceaccount:ns:c-collector");
  EXPECT_EQ(subjects[1].user, "alice");
  EXPECT_EQ(subjects[1].groups, (std::vector<std::string>{"devs", "system:authenticated"}));
  EXPECT_FALSE(subjects[1].self);
  // the operator does not create RBAC: the collector's own account's missing rules are warnings
  opts.operatorCreatesRbac = false;
  c["spec"]["serviceAccount"] = "mine";
  v = admit("validate-collector", review("CREATE", c), opts);
  EXPECT_TRUE(v.allowed);
  ASSERT_FALSE(v.warnings.empty());
  EXPECT_EQ(v.warnings[0].rfind("RBAC rules are missing: missing the following rules for system:serviceaccount:ns:mine - ", 0), 0u)
      << v.warnings[0];
}

TEST(OtherWebhooks, InstrumentationTargetAllocatorAndOpAMPBridge) {
  Json inst = otel::parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: Instrumentation, metadata: {name: i, namespace: ns}, "
                              "spec: {sampler: {type: traceidratio, argument: '2'}}}");
  auto m = admit("mutate-instrumentation", review("CREATE", inst));
  ASSERT_TRUE(m.allowed);
  Json stored = applyJsonPatch(inst, m.patch);
  EXPECT_TRUE(stored["spec"]["java"].contains("image"));
  auto v = admit("validate-instrumentation", review("CREATE", stored));
  EXPECT_EQ(v.message, "spec.sampler.argument should be in rage [0..1]: 2");

  Json ta = otel::parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: TargetAllocator, metadata: {name: t, namespace: ns}, "
                            "spec: {prometheusCR: {allowNamespaces: [a], denyNamespaces: [b]}}}");
  m = admit("mutate-targetallocator", review("CREATE", ta));
  ASSERT_TRUE(m.allowed);
  v = admit("validate-targetallocator", review("CREATE", applyJsonPatch(ta, m.patch)));
  EXPECT_EQ(v.message, "allowNamespaces and denyNamespaces are mutually exclusive");

  Json bridge = otel::parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: OpAMPBridge, metadata: {name: b, namespace: ns}, "
                                "spec: {capabilities: {AcceptsRemoteConfig: true}}}");
  m = admit("mutate-opampbridge", review("CREATE", bridge));
  ASSERT_TRUE(m.allowed);
  v = admit("validate-opampbridge", review("CREATE", applyJsonPatch(bridge, m.patch)));
  EXPECT_EQ(v.message, "the OpAMP server endpoint is not specified");
}

TEST(Routes, UpstreamsPaths) {
  EXPECT_EQ(handlerFor("/mutate-opentelemetry-io-v1beta1-opentelemetrycollector"), "mutate-collector");
  EXPECT_EQ(handlerFor("/validate-opentelemetry-io-v1beta1-opentelemetrycollector"), "validate-collector");
  EXPECT_EQ(handlerFor("/validate-opentelemetry-io-v1beta1-targetallocator"), "validate-targetallocator");
  EXPECT_EQ(handlerFor("/mutate-opentelemetry-io-v1alpha1-instrumentation"), "mutate-instrumentation");
  EXPECT_EQ(handlerFor("/mutate-v1-pod"), "");
  EXPECT_EQ(handlerFor("/nope"), "");
}

}  // namespace
