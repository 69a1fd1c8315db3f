#include "plugin/webhooks.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/http/certs.h"
#include "lib/manifests/install.h"
#include "lib/core/log.h"
#include "lib/kube/errors.h"
#include "lib/kube/informer.h"
#include "lib/webhook/admission.h"
#include "plugin/rbac_check.h"

namespace otel::plugin {

namespace {
kube::InformerOptions stripped() {
  kube::InformerOptions o;
  o.transform = kube::stripManagedFields;
  return o;
}
const kube::ResourceId kInstrumentations{"opentelemetry.io/v1alpha1", "instrumentations", true, "Instrumentation"};
const kube::ResourceId kCollectors{"opentelemetry.io/v1beta1", "opentelemetrycollectors", true, "OpenTelemetryCollector"};
const kube::ResourceId kNamespaces{"v1", "namespaces", false, "Namespace"};
const kube::ResourceId kReplicaSets{"apps/v1", "replicasets", true, "ReplicaSet"};
const kube::ResourceId kJobs{"batch/v1", "jobs", true, "Job"};
const kube::ResourceId kSecrets{"v1", "secrets", true, "Secret"};
const kube::ResourceId kMwc{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false, "MutatingWebhookConfiguration"};
const kube::ResourceId kVwc{"admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", false,
                            "ValidatingWebhookConfiguration"};
const kube::ResourceId kCrds{"apiextensions.k8s.io/v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
constexpr const char* kCertSecret = "kubectl-otel-webhook-cert";
constexpr long kCaValidity = 10L * 365 * 24 * 3600, kServingValidity = 365L * 24 * 3600, kRenewBefore = 30L * 24 * 3600;

std::string sansAnnotation(const std::vector<std::string>& sans) {
  std::string s;
  for (const auto& x : sans) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The Secret's certificate is usable: all three parts, the names wanted, not expiring soon.
bool usable(const Json& secret, const std::vector<std::string>& sans) {
  const Json* data = api::at(secret, {"data"});
  if (!data || !data->is_object()) return false;
  for (const char* k : {"ca.crt", "tls.crt", "tls.key"})
    if (!data->contains(k) || !(*data)[k].is_string()) return false;
  if (api::str(secret, {"metadata", "annotations", "kubectl-otel.io/sans"}) != sansAnnotation(sans)) return false;
  try {
    return http::certNotAfter(base64Decode((*data)["tls.crt"].get<std::string>())) - std::time(nullptr) > kRenewBefore;
  } catch (const std::exception&) {
    return false;
  }
}

// Sets caBundle where it differs; true when the object changed.
bool setBundle(Json& clientConfig, const std::string& bundle) {
  if (clientConfig.value("caBundle", "") == bundle) return false;
  clientConfig["caBundle"] = bundle;
  return true;
}

}  // namespace

std::string ensureSelfManagedCert(kube::Client& client, const std::string& ns, const std::vector<std::string>& sans,
                                  const std::string& dir) {
  Json secret;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<Json> live;
    try {
      live = client.get(kSecrets, ns, kCertSecret);
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
    }
    if (live && usable(*live, sans)) {
      secret = *live;
      break;
    }
    auto ca = http::generateCa("kubectl-otel-webhook-ca", kCaValidity);
    auto leaf = http::generateCert(ca, sans.empty() ? "kubectl-otel-webhook" : sans.front(), sans, false, {}, kServingValidity);
    Json want{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"type", "kubernetes.io/tls"},
              {"metadata",
               {{"name", kCertSecret},
                {"namespace", ns},
                {"labels", {{"app.kubernetes.io/managed-by", "kubectl-otel"}}},
                {"annotations", {{"kubectl-otel.io/sans", sansAnnotation(sans)}}}}},
              {"data",
               {{"ca.crt", base64Encode(ca.certPem)}, {"tls.crt", base64Encode(leaf.certPem)}, {"tls.key", base64Encode(leaf.keyPem)}}}};
    try {
      if (live) {
        want["metadata"]["resourceVersion"] = api::str(*live, {"metadata", "resourceVersion"});
        secret = client.update(kSecrets, ns, want);
      } else {
        secret = client.create(kSecrets, ns, want);
      }
      log::info("webhook certificate written", {{"secret", ns + "/" + kCertSecret}, {"sans", sansAnnotation(sans)}});
      break;
    } catch (const kube::ApiError& e) {
      if (e.code() != 409) throw;  // another replica wrote it first: read theirs
    }
  }
  if (secret.is_null()) throw Error("could not write the webhook certificate Secret", ns + "/" + kCertSecret);
  const Json& data = secret["data"];
  const std::string caPem = base64Decode(data["ca.crt"].get<std::string>());
  std::filesystem::create_directories(dir);
  for (const auto& [file, key] : {std::pair{"tls.crt", "tls.crt"}, std::pair{"tls.key", "tls.key"}}) {
    std::string tmp = dir + "/." + file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << base64Decode(data[key].get<std::string>());
      if (!out) throw Error("cannot write the serving certificate", tmp);
    }
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::filesystem::rename(tmp, dir + "/" + file);
  }
  const std::string bundle = base64Encode(caPem);
  for (const auto* id : {&kMwc, &kVwc}) {
    const std::string name = id == &kMwc ? "kubectl-otel-mutating-webhook-configuration" : "kubectl-otel-validating-webhook-configuration";
    try {
      Json cfg = client.get(*id, "", name);
      bool changed = false;
      if (cfg.contains("webhooks") && cfg["webhooks"].is_array())
        for (auto& w : cfg["webhooks"]) changed = setBundle(w["clientConfig"], bundle) || changed;
      if (changed) {
        client.update(*id, "", cfg);
        log::info("webhook CA bundle written", {{"object", id->kind + " " + name}});
      }
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
    }
  }
  try {
    Json crd = client.get(kCrds, "", "opentelemetrycollectors.opentelemetry.io");
    Json* conv = crd.contains("spec") && crd["spec"].contains("conversion") ? &crd["spec"]["conversion"] : nullptr;
    if (conv && conv->value("strategy", "") == "Webhook" && conv->contains("webhook") &&
        setBundle((*conv)["webhook"]["clientConfig"], bundle)) {
      client.update(kCrds, "", crd);
      log::info("webhook CA bundle written", {{"object", "CustomResourceDefinition opentelemetrycollectors.opentelemetry.io"}});
    }
  } catch (const kube::ApiError& e) {
    if (!e.isNotFound()) throw;
  }
  return caPem;
}

struct WebhookServer::Impl {
  kube::Client& client;
  http::Registry& metrics;
  WebhookOptions opts;
  kube::Informer instrumentations, collectors;
  http::Server server;
  std::vector<std::jthread> threads;

  Impl(kube::Client& c, http::Registry& m, WebhookOptions o)
      : client(c),
        metrics(m),
        opts(std::move(o)),
        instrumentations(c, kInstrumentations, stripped()),
        collectors(c, kCollectors, stripped()),
        server(http::TlsOptions{opts.certFile, opts.keyFile, ""}) {}

  void count(const std::string& webhook, const std::string& result) {
    metrics.addCounter("kubectl_otel_webhook_requests_total", "Admission and conversion requests by webhook and result.",
                       {{"webhook", webhook}, {"result", result}});
  }

  http::Response answer(const std::string& body) { return http::Response{200, "application/json", body}; }
  http::Response bad(const std::string& webhook, const std::string& why) {
    count(webhook, "bad_request");
    log::warn("webhook bad request", {{"webhook", webhook}, {"error", why}});
    return http::Response{400, "text/plain", why + "\n"};
  }

  webhook::PodLookups lookups() {
    webhook::PodLookups lk;
    lk.namespaceAnnotations = [this](const std::string& ns) {
      Json n = client.get(kNamespaces, "", ns);
      const Json* a = api::at(n, {"metadata", "annotations"});
      return a && a->is_object() ? *a : Json::object();
    };
    lk.owner = [this](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<Json> {
      try {
        return client.get(kind == "Job" ? kJobs : kReplicaSets, ns, name);
      } catch (const kube::ApiError& e) {
        if (e.isNotFound()) return std::nullopt;
        throw;
      }
    };
    lk.catalog = [this] { return inject::Catalog{instrumentations.list(), collectors.list()}; };
    return lk;
  }

  void routes() {
    server.post(webhook::kPodPath, [this](const http::Request& r) {
      webhook::AdmissionRequest req;
      try {
        req = webhook::parseAdmissionReview(r.body);
      } catch (const webhook::BadRequest& e) {
        return bad("pod", e.what());
      }
      webhook::PodOutcome out;
      auto resp = webhook::mutatePod(req, lookups(), opts.inject, &out);
      std::string result = out.failedOpen ? "failed_open" : out.mutated ? "mutated" : "unchanged";
      count("pod", result);
      if (out.failedOpen)
        log::warn("pod admitted unchanged after an error", {{"namespace", req.ns}, {"error", out.error}});
      else if (out.mutated)
        for (const auto& a : out.actions) log::info("pod mutated", {{"namespace", req.ns}, {"action", a}});
      else if (!out.error.empty())
        log::info("pod not mutated", {{"namespace", req.ns}, {"reason", out.error}});
      return answer(webhook::renderAdmissionReview(req, resp));
    });
    for (const auto& path : webhook::crPaths()) {
      std::string handler = webhook::handlerFor(path);
      server.post(path, [this, handler](const http::Request& r) {
        webhook::AdmissionRequest req;
        try {
          req = webhook::parseAdmissionReview(r.body);
        } catch (const webhook::BadRequest& e) {
          return bad(handler, e.what());
        }
        webhook::CrOptions co;
        co.operatorCreatesRbac = opts.operatorCreatesRbac;
        co.reviewer = clusterAccessReviewer(client);
        auto resp = webhook::admitCustomResource(handler, req, co);
        count(handler, resp.allowed ? "allowed" : "denied");
        if (!resp.allowed)
          log::info("admission denied", {{"webhook", handler}, {"namespace", req.ns}, {"name", req.name}, {"message", resp.message}});
        return answer(webhook::renderAdmissionReview(req, resp));
      });
    }
    server.post(webhook::kConvertPath, [this](const http::Request& r) {
      try {
        std::string out = webhook::convertReview(r.body);
        count("convert", "ok");
        return answer(out);
      } catch (const webhook::BadRequest& e) {
        return bad("convert", e.what());
      }
    });
  }
};

WebhookServer::WebhookServer(kube::Client& client, http::Registry& metrics, WebhookOptions options)
    : impl_(std::make_unique<Impl>(client, metrics, std::move(options))) {
  impl_->routes();
}

WebhookServer::~WebhookServer() { stop(); }

int WebhookServer::start(std::stop_token stop) {
  impl_->threads.emplace_back([this, stop](std::stop_token) { impl_->instrumentations.run(stop); });
  impl_->threads.emplace_back([this, stop](std::stop_token) { impl_->collectors.run(stop); });
  int port = impl_->server.bind(impl_->opts.listenAddr);
  impl_->server.start();
  return port;
}

bool WebhookServer::synced() const { return impl_->instrumentations.hasSynced() && impl_->collectors.hasSynced(); }

void WebhookServer::stop() {
  if (!impl_) return;
  if (impl_->server.running()) impl_->server.stop();
  impl_->threads.clear();  // joins; the informers end with the stop token given to start()
}

}  // namespace otel::plugin
