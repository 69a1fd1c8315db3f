#include "plugin/webhooks.h"

#include <chrono>
#include <thread>

#include "lib/core/error.h"
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
}  // namespace

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
