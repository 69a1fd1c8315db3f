// The webhooks' handlers (lib/webhook) over random and mutated AdmissionReview / ConversionReview bodies:
// a bad body is a BadRequest (the server's 400), never a crash; an admitted pod's or CR's patch must apply
// to the request's object (a patch the API server cannot apply would fail the request).
#include <cstdlib>

#include "fuzz/fuzz_common.h"
#include "lib/core/yaml.h"
#include "lib/webhook/admission.h"
#include "lib/webhook/jsonpatch.h"

namespace {

const otel::inject::Catalog& catalog() {
  static const otel::inject::Catalog c = [] {
    otel::inject::Catalog k;
    k.instrumentations.push_back(otel::parseYaml(
        "{apiVersion: opentelemetry.io/v1alpha1, kind: Instrumentation, metadata: {name: i, namespace: ns}, "
        "spec: {exporter: {endpoint: 'http://otel:4317'}}}"));
    k.collectors.push_back(otel::parseYaml(
        "{apiVersion: opentelemetry.io/v1beta1, kind: OpenTelemetryCollector, metadata: {name: side, namespace: ns}, "
        "spec: {mode: sidecar, config: {receivers: {otlp: {protocols: {grpc: {}}}}, exporters: {debug: {}}, "
        "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}}}}"));
    return k;
  }();
  return c;
}

void mustApply(const otel::Json& object, const otel::webhook::AdmissionResponse& r) {
  if (!r.patch.is_array() || r.patch.empty()) return;
  try {
    otel::webhook::applyJsonPatch(object, r.patch);
  } catch (const std::exception&) {
    std::abort();  // the webhook answered a patch that does not apply to the object it was given
  }
}

}  // namespace

namespace {

void one(unsigned sel, unsigned flags, const std::string& body) {
  if (sel == 7) {
    otel::webhook::convertReview(body);
    return;
  }
  auto req = otel::webhook::parseAdmissionReview(body);
  otel::webhook::renderAdmissionReview(req, otel::webhook::allow());
  if (sel == 0) {
    otel::webhook::PodLookups lk;
    lk.namespaceAnnotations = [flags](const std::string&) {
      return otel::Json{{"instrumentation.opentelemetry.io/inject-python", (flags & 8) ? "true" : "false"}};
    };
    lk.owner = [](const std::string&, const std::string&, const std::string& name) -> std::optional<otel::Json> {
      return otel::Json{{"metadata", {{"name", name}, {"ownerReferences", otel::Json::array({{{"kind", "Deployment"}, {"name", "d"}}})}}}};
    };
    lk.catalog = [](const otel::webhook::CatalogScope&) { return catalog(); };
    auto r = otel::webhook::mutatePod(req, lk, {});
    mustApply(req.object, r);
    otel::webhook::renderAdmissionReview(req, r);
    return;
  }
  static const char* handlers[] = {"mutate-collector",       "validate-collector",   "mutate-instrumentation",
                                   "validate-instrumentation", "mutate-targetallocator", "validate-opampbridge"};
  auto r = otel::webhook::admitCustomResource(handlers[sel - 1], req, {});
  mustApply(req.object, r);
  otel::webhook::renderAdmissionReview(req, r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  OTEL_FUZZ_TRY(one(data[0] % 8, data[0], body));
  return 0;
}
