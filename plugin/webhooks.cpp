#include "plugin/webhooks.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/hash.h"
#include "lib/http/certs.h"
#include "lib/inject/inject.h"
#include "lib/manifests/install.h"
#include "lib/core/log.h"
#include "lib/kube/errors.h"
#include "lib/kube/informer.h"
#include "lib/webhook/admission.h"
#include "lib/webhook/registration.h"
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
// Namespaces as the pod webhook reads them: the name and the annotations injection reads (every pod
// CREATE looks its namespace up; a cache answers instead of a GET to the API server, as upstream's cached
// client does; a namespace annotated a moment ago may be seen a moment later, as there).
kube::InformerOptions namespaceAnnotationsOnly() {
  kube::InformerOptions o;
  o.transform = [](Json& ns) {
    Json meta = {{"name", api::str(ns, {"metadata", "name"})}};
    if (const Json* rv = api::at(ns, {"metadata", "resourceVersion"})) meta["resourceVersion"] = *rv;
    if (const Json* a = api::at(ns, {"metadata", "annotations"}); a && a->is_object()) {
      Json kept = Json::object();
      for (auto it = a->begin(); it != a->end(); ++it)
        if (inject::readByInjection(it.key()))
          kept[it.key()] = *it;
      if (!kept.empty()) meta["annotations"] = std::move(kept);
    }
    ns = Json{{"metadata", std::move(meta)}};
  };
  return o;
}
constexpr const char* kCertSecret = manifests::kSelfManagedCertSecret;
std::string sansAnnotation(const std::vector<std::string>& sans) {
  std::string s;
  for (const auto& x : sans) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string dataOf(const Json& secret, const char* key) {
  const Json* v = api::at(secret, {"data", key});
  return v && v->is_string() ? base64Decode(v->get<std::string>()) : std::string();
}

// Seconds left on the first certificate of a PEM text; negative when unreadable.
std::int64_t secondsLeft(const std::string& pem, std::int64_t now) {
  try {
    return pem.empty() ? -1 : http::certNotAfter(pem) - now;
  } catch (const std::exception&) {
    return -1;
  }
}

void writePrivateFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << content;
    if (!out) throw Error("cannot write the serving certificate", tmp);
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);  // atomic: the server never reads half a file
}

std::string readFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return in ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) : std::string();
}

// Sets caBundle where it differs; true when the object changed.
bool setBundle(Json& clientConfig, const std::string& bundle) {
  if (clientConfig.value("caBundle", "") == bundle) return false;
  clientConfig["caBundle"] = bundle;
  return true;
}

}  // namespace

CertAction selfCertAction(const Json* secret, const std::vector<std::string>& sans, std::int64_t now, const CertPolicy& policy) {
  if (!secret) return CertAction::NewCa;
  const std::string bundle = dataOf(*secret, "ca.crt"), caKey = dataOf(*secret, "ca.key");
  auto cas = http::splitPemCertificates(bundle);
  // The CA must outlive the next serving certificate and keep a third of its own validity.
  const bool caGood = !cas.empty() && !caKey.empty() &&
                      secondsLeft(cas.front(), now) > std::max(policy.caValidity / 3, policy.servingValidity);
  const std::string leaf = dataOf(*secret, "tls.crt");
  const bool leafGood = !leaf.empty() && !dataOf(*secret, "tls.key").empty() &&
                        secondsLeft(leaf, now) > policy.servingValidity / 3 &&
                        api::str(*secret, {"metadata", "annotations", "kubectl-otel.io/sans"}) == sansAnnotation(sans);
  if (leafGood && (caGood || (!cas.empty() && secondsLeft(cas.front(), now) > secondsLeft(leaf, now)))) return CertAction::Keep;
  return caGood ? CertAction::NewServing : CertAction::NewCa;
}

namespace {
// Writes `bundle` (base64) as caBundle into our webhook configurations and the collector CRD's conversion.
void patchBundles(kube::Client& client, const std::string& bundle) {
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
}
}  // namespace

bool ensureSelfManagedCert(kube::Client& client, const std::string& ns, const std::vector<std::string>& sans,
                           const std::string& dir, const CertPolicy& policy, bool mayWrite) {
  Json secret;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<Json> live;
    try {
      live = client.get(kSecrets, ns, kCertSecret);
    } catch (const kube::ApiError& e) {
      if (!e.isNotFound()) throw;
    }
    const std::int64_t now = std::time(nullptr);
    CertAction action = selfCertAction(live ? &*live : nullptr, sans, now, policy);
    if (action == CertAction::Keep || (!mayWrite && live)) {
      secret = *live;
      break;
    }
    if (!mayWrite) throw Error("the webhook certificate Secret does not exist yet", ns + "/" + kCertSecret);
    http::CertKey ca;
    std::string bundle;
    if (action == CertAction::NewServing) {
      bundle = dataOf(*live, "ca.crt");
      ca.certPem = http::splitPemCertificates(bundle).front();
      ca.keyPem = dataOf(*live, "ca.key");
    } else {
      ca = http::generateCa("kubectl-otel-webhook-ca", policy.caValidity);
      bundle = ca.certPem;
    }
    // Keep trusting every earlier CA that has not expired: pods served by them stay reachable until they
    // have read the new pair.
    std::string kept;
    if (live)
      for (const auto& old : http::splitPemCertificates(dataOf(*live, "ca.crt")))
        if (old != ca.certPem && secondsLeft(old, now) > 0) kept += old;
    bundle = http::splitPemCertificates(bundle).front() + kept;
    auto leaf = http::generateCert(ca, sans.empty() ? "kubectl-otel-webhook" : sans.front(), sans, false, {}, policy.servingValidity);
    if (action == CertAction::NewCa) patchBundles(client, base64Encode(bundle));  // trusted before it serves
    Json want{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"type", "kubernetes.io/tls"},
              {"metadata",
               {{"name", kCertSecret},
                {"namespace", ns},
                {"labels", {{"app.kubernetes.io/managed-by", "kubectl-otel"}}},
                {"annotations", {{"kubectl-otel.io/sans", sansAnnotation(sans)}}}}},
              {"data",
               {{"ca.crt", base64Encode(bundle)},
                {"ca.key", base64Encode(ca.keyPem)},
                {"tls.crt", base64Encode(leaf.certPem)},
                {"tls.key", base64Encode(leaf.keyPem)}}}};
    try {
      if (live) {
        want["metadata"]["resourceVersion"] = api::str(*live, {"metadata", "resourceVersion"});
        secret = client.update(kSecrets, ns, want);
      } else {
        secret = client.create(kSecrets, ns, want);
      }
      log::info("webhook certificate written", {{"object", "Secret " + ns + "/" + kCertSecret},
                                                {"sans", sansAnnotation(sans)},
                                                {"renewed", action == CertAction::NewCa ? "ca" : "serving"},
                                                {"not_after", std::to_string(http::certNotAfter(leaf.certPem))}});
      break;
    } catch (const kube::ApiError& e) {
      if (e.code() != 409) throw;  // another replica wrote it first: read theirs
    }
  }
  if (secret.is_null()) throw Error("could not write the webhook certificate Secret", ns + "/" + kCertSecret);
  if (mayWrite) patchBundles(client, base64Encode(dataOf(secret, "ca.crt")));
  std::filesystem::create_directories(dir);
  bool changed = false;
  for (const char* file : {"tls.key", "tls.crt"}) {
    const std::string want = dataOf(secret, file), path = dir + "/" + file;
    if (readFileOrEmpty(path) == want) continue;
    writePrivateFile(path, want);
    changed = true;
  }
  return changed;
}

namespace {
constexpr const char* kCreatedAnnotation = "kubectl-otel.io/created-for-webhook-host";
const char* kMwcName = "kubectl-otel-mutating-webhook-configuration";
const char* kVwcName = "kubectl-otel-validating-webhook-configuration";
const char* kCollectorCrd = "opentelemetrycollectors.opentelemetry.io";

std::optional<Json> getOptional(kube::Client& client, const kube::ResourceId& id, const std::string& name) {
  try {
    return client.get(id, "", name);
  } catch (const kube::ApiError& e) {
    if (e.isNotFound()) return std::nullopt;
    throw;
  }
}
}  // namespace

void UrlRegistration::registerAll(const std::string& baseUrl, const std::string& caPem) {
  const std::string bundle = base64Encode(caPem);
  manifests::InstallOptions io;
  io.ns = ns_;
  io.crds = false;
  for (const auto* id : {&kMwc, &kVwc}) {
    const std::string name = id == &kMwc ? kMwcName : kVwcName;
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto live = getOptional(client_, *id, name);
      try {
        if (live) {
          Json obj = *live;
          if (webhook::registerByUrl(obj, baseUrl, bundle)) client_.update(*id, "", obj);
        } else {
          Json obj;
          for (const auto& o : manifests::installObjects(io))
            if (o.value("kind", "") == id->kind) obj = o;
          webhook::registerByUrl(obj, baseUrl, bundle);
          obj["metadata"]["annotations"].erase(webhook::kRestoreAnnotation);
          obj["metadata"]["annotations"][kCreatedAnnotation] = "true";
          client_.create(*id, "", obj);
        }
        log::info("webhooks registered by URL", {{"object", id->kind + " " + name}, {"url", baseUrl}, {"created", live ? "false" : "true"}});
        break;
      } catch (const kube::ApiError& e) {
        if (e.code() != 409 || attempt == 4) throw;
      }
    }
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto crd = getOptional(client_, kCrds, kCollectorCrd);
    if (!crd) {
      log::warn("collector CRD not installed; conversion not registered", {{"object", std::string("CustomResourceDefinition ") + kCollectorCrd}});
      break;
    }
    try {
      Json obj = *crd;
      if (webhook::registerByUrl(obj, baseUrl, bundle)) client_.update(kCrds, "", obj);
      log::info("webhooks registered by URL", {{"object", std::string("CustomResourceDefinition ") + kCollectorCrd}, {"url", baseUrl}});
      break;
    } catch (const kube::ApiError& e) {
      if (e.code() != 409 || attempt == 4) throw;
    }
  }
}

void UrlRegistration::restore() {
  auto undo = [&](const kube::ResourceId& id, const std::string& name) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      try {
        auto live = getOptional(client_, id, name);
        if (!live) return;
        if (api::str(*live, {"metadata", "annotations", kCreatedAnnotation}) == "true") {
          client_.remove(id, "", name, {});
          log::info("webhook registration removed", {{"object", id.kind + " " + name}});
          return;
        }
        Json obj = *live;
        if (!webhook::restoreRegistration(obj)) return;
        client_.update(id, "", obj);
        log::info("webhook registration restored", {{"object", id.kind + " " + name}});
        return;
      } catch (const kube::ApiError& e) {
        if (e.code() == 409 && attempt < 4) continue;
        log::error("webhook registration not restored", {{"object", id.kind + " " + name}, {"error", e.what()}});
        return;
      } catch (const std::exception& e) {
        log::error("webhook registration not restored", {{"object", id.kind + " " + name}, {"error", e.what()}});
        return;
      }
    }
  };
  undo(kMwc, kMwcName);
  undo(kVwc, kVwcName);
  undo(kCrds, kCollectorCrd);
}

struct WebhookServer::Impl {
  kube::Client& client;
  http::Registry& metrics;
  WebhookOptions opts;
  kube::Informer instrumentations, collectors, namespaces;
  // The files' content as read before the server loads them (members start in this order): a swap in
  // between makes the first check reload once more, never miss the new pair.
  std::string loaded;
  http::Server server;
  std::vector<std::jthread> threads;

  Impl(kube::Client& c, http::Registry& m, WebhookOptions o)
      : client(c),
        metrics(m),
        opts(std::move(o)),
        instrumentations(c, kInstrumentations, stripped()),
        collectors(c, kCollectors, stripped()),
        namespaces(c, kNamespaces, namespaceAnnotationsOnly()),
        loaded(readFileOrEmpty(opts.certFile) + readFileOrEmpty(opts.keyFile)),
        server(http::TlsOptions{opts.certFile, opts.keyFile, ""}) {
    auto byNamespace = [](const Json& o) { return std::vector<std::string>{api::str(o, {"metadata", "namespace"})}; };
    instrumentations.addIndexer("namespace", byNamespace);
    collectors.addIndexer("namespace", byNamespace);
  }

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
      // the cache; a namespace it has not seen yet (created a moment ago) is read from the API server
      std::optional<Json> cached = namespaces.get("", ns);
      Json n = cached ? std::move(*cached) : client.get(kNamespaces, "", ns);
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
    lk.catalog = [this](const webhook::CatalogScope& scope) {
      inject::Catalog c{instrumentations.byIndex("namespace", scope.ns), collectors.byIndex("namespace", scope.ns)};
      for (const auto& key : scope.named) {
        if (key.rfind(scope.ns + "/", 0) == 0) continue;  // in the namespace's already
        if (auto i = instrumentations.get(key)) c.instrumentations.push_back(std::move(*i));
        if (auto k = collectors.get(key)) c.collectors.push_back(std::move(*k));
      }
      return c;
    };
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
  // How far the pod webhook's catalog has read: the resourceVersion of the last event of each kind (a
  // writer that knows its write's resourceVersion can tell when the webhook injects from it).
  for (auto* inf : {&impl_->instrumentations, &impl_->collectors, &impl_->namespaces}) {
    const std::string kind = inf == &impl_->instrumentations ? "Instrumentation"
                             : inf == &impl_->collectors     ? "OpenTelemetryCollector"
                                                             : "Namespace";
    auto highest = std::make_shared<std::atomic<long long>>(0);  // a list delivers objects in name order
    auto seen = [this, kind, highest](const Json& obj) {
      const std::string rv = api::str(obj, {"metadata", "resourceVersion"});
      if (rv.empty() || rv.find_first_not_of("0123456789") != std::string::npos || rv.size() > 15) return;
      const long long v = std::stoll(rv);
      if (v <= highest->load()) return;
      highest->store(v);  // handlers of one informer run one at a time
      impl_->metrics.setGauge("kubectl_otel_webhook_catalog_resource_version",
                              "resourceVersion of the last event the pod webhook's catalog has read, by kind.", {{"kind", kind}},
                              static_cast<double>(v));
    };
    kube::EventHandlers h;
    h.onAdd = seen;
    h.onUpdate = [seen](const Json&, const Json& now) { seen(now); };
    h.onDelete = seen;
    inf->addHandlers(h);
  }
}

WebhookServer::~WebhookServer() { stop(); }

int WebhookServer::start(std::stop_token stop) {
  impl_->threads.emplace_back([this, stop](std::stop_token) { impl_->instrumentations.run(stop); });
  impl_->threads.emplace_back([this, stop](std::stop_token) { impl_->collectors.run(stop); });
  impl_->threads.emplace_back([this, stop](std::stop_token) { impl_->namespaces.run(stop); });
  int port = impl_->server.bind(impl_->opts.listenAddr);
  impl_->server.start();
  return port;
}

void WebhookServer::keepCertificateFresh(CertRefresh refresh, std::stop_token stop) {
  impl_->threads.emplace_back([this, r = std::move(refresh), stop](std::stop_token) {
    const std::string certFile = impl_->opts.certFile, keyFile = impl_->opts.keyFile;
    const std::string dir = std::filesystem::path(certFile).parent_path().string();
    auto current = [&] { return readFileOrEmpty(certFile) + readFileOrEmpty(keyFile); };
    // what the server loaded, not what the files hold when this thread gets to run: a swap before that
    // would otherwise count as served and never be loaded
    std::string served = impl_->loaded;
    auto expiry = [&](const std::string& pem) {
      try {
        impl_->metrics.setGauge("kubectl_otel_webhook_certificate_expiry_timestamp_seconds",
                                "When the served webhook certificate expires (seconds since the epoch).", {},
                                static_cast<double>(http::certNotAfter(pem)));
      } catch (const std::exception&) {
      }
    };
    expiry(readFileOrEmpty(certFile));
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      {
        std::unique_lock<std::mutex> lk(m);
        if (cv.wait_for(lk, stop, r.period, [] { return false; }) || stop.stop_requested()) break;
      }
      try {
        if (r.mode == "self")
          ensureSelfManagedCert(impl_->client, r.ns, r.sans, dir, r.policy, !r.mayWrite || r.mayWrite());
        std::string now = current();
        if (now == served) continue;
        impl_->server.reloadCertificate(certFile, keyFile);
        served = now;
        expiry(readFileOrEmpty(certFile));
        log::info("webhook certificate reloaded", {{"cert", certFile}});
      } catch (const std::exception& e) {
        log::warn("webhook certificate not refreshed; the previous one is still served", {{"error", e.what()}});
      }
    }
  });
}

bool WebhookServer::synced() const {
  return impl_->instrumentations.hasSynced() && impl_->collectors.hasSynced() && impl_->namespaces.hasSynced();
}

void WebhookServer::stop() {
  if (!impl_) return;
  if (impl_->server.running()) impl_->server.stop();
  impl_->threads.clear();  // joins; the informers end with the stop token given to start()
}

}  // namespace otel::plugin
