// The operator itself: CRDs and their conversion webhook, webhook Services without ready endpoints,
// certificates (expired, CA bundle stale), the controller not running, two operators on the same CRs.
#include <algorithm>
#include <cstring>
#include <set>

#include "lib/api/collector.h"
#include "lib/core/hash.h"
#include "lib/doctor/checks.h"
#include "lib/http/certs.h"
#include "lib/manifests/install.h"

namespace otel::doctor::detail {

namespace {

const char* kCollectorCrd = "opentelemetrycollectors.opentelemetry.io";
const char* kInstrumentationCrd = "instrumentations.opentelemetry.io";

struct WebhookUse {
  const Json* config;  // Mutating/ValidatingWebhookConfiguration
  const Json* webhook;
};

std::vector<WebhookUse> ourWebhooks(const Ctx& c) {
  std::vector<WebhookUse> out;
  for (const char* kind : {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
    for (const Json* m : c.view.of(kind))
      if (const Json* whs = api::at(*m, {"webhooks"}); whs && whs->is_array())
        for (const auto& w : *whs) {
          if (!w.is_object()) continue;
          const std::string path = api::str(w, {"clientConfig", "service", "path"}) + api::str(w, {"clientConfig", "url"});
          if (path.find("opentelemetry-io") != std::string::npos || path.find("/mutate-v1-pod") != std::string::npos)
            out.push_back({m, &w});
        }
  return out;
}

// A pod asks for instrumentation (inject-<lang>) or, unless instrumentationOnly, for a sidecar.
bool anyPodAsksForInjection(const Ctx& c, bool instrumentationOnly) {
  for (const Json* p : c.view.of("Pod"))
    for (const auto& [k, v] : annotationsOf(*p).items())
      if ((k.rfind("instrumentation.opentelemetry.io/inject-", 0) == 0 ||
           (!instrumentationOnly && k == "sidecar.opentelemetry.io/inject")) &&
          v.is_string() && v.get<std::string>() != "false")
        return true;
  return false;
}

void serviceChecks(Ctx& c) {
  std::set<std::string> done;
  for (const auto& u : ourWebhooks(c)) {
    const Json* svc = api::at(*u.webhook, {"clientConfig", "service"});
    if (!svc || !svc->is_object()) continue;
    const std::string ns = svc->value("namespace", ""), name = svc->value("name", "");
    const bool podHook = api::str(*u.webhook, {"clientConfig", "service", "path"}) == "/mutate-v1-pod";
    const std::string key = ObjectRef::of(*u.config).display() + "|" + ns + "/" + name + (podHook ? "|pod" : "");
    if (done.count(key)) continue;
    done.insert(key);
    const std::string policy = api::str(*u.webhook, {"failurePolicy"}, "Fail");
    const bool svcKnown = c.view.listed("Service");
    const Json* s = c.view.find("Service", ns, name);
    int ready = s ? readyEndpoints(c.view, ns, name) : (svcKnown ? 0 : -1);
    if (ready != 0) continue;
    Finding& f = c.add(Severity::Error, "webhook-no-endpoints", *u.config, 2);
    f.cause = "the webhooks of " + ObjectRef::of(*u.config).display() + " call Service " + ns + "/" + name + ", which has " +
              (s ? "no ready endpoint" : "not been created") + ": " +
              (podHook && policy == "Ignore"
                   ? "pods are admitted without injection, silently (failurePolicy: Ignore)"
                   : "every create and update of the resources they guard fails with \"failed calling webhook ... no endpoints available\"");
    f.evidence.push_back("webhook " + api::str(*u.webhook, {"name"}) + ": clientConfig.service = " + ns + "/" + name +
                         ", failurePolicy = " + policy);
    f.evidence.push_back(s ? "EndpointSlices of Service " + ns + "/" + name + ": 0 ready endpoints"
                           : "Service " + ns + "/" + name + ": not found");
    if (c.errorWith("no endpoints available") || c.errorWith("failed calling webhook")) f.explainsError = true;
    f.fix = "start the operator that serves them: kubectl -n " + ns + " get deploy,pods (see controller-not-running), or "
            "kubectl otel install; a controller outside the cluster: kubectl otel run --webhook-host HOST";
  }
}

// The conversion clientConfig of the operator whose webhooks the cluster has (its Service or URL, its CA
// bundle, path /convert); {} when there is none.
Json operatorConversionClient(const Ctx& c) {
  for (const auto& u : ourWebhooks(c))
    if (const Json* cc = api::at(*u.webhook, {"clientConfig"}); cc && cc->is_object()) {
      Json client = *cc;
      if (client.contains("service") && client["service"].is_object()) client["service"]["path"] = "/convert";
      if (client.contains("url") && client["url"].is_string()) {
        std::string url = client["url"].get<std::string>();
        client["url"] = url.substr(0, url.find('/', url.find("://") + 3)) + "/convert";
      }
      return client;
    }
  return Json::object();
}

void crdChecks(Ctx& c) {
  if (!c.view.listed("CustomResourceDefinition")) {
    c.skipped.push_back("CRDs: no CustomResourceDefinitions in the input");
    return;
  }
  const bool wanted = !c.operators.empty() || !c.view.desired.empty() || anyPodAsksForInjection(c, false) ||
                      c.errorWith("no matches for kind") || c.errorWith("the server could not find the requested resource");
  if (!c.view.hasCrd(kCollectorCrd)) {
    if (!wanted) return;
    Finding& f = c.add(Severity::Error, "crd-missing", ObjectRef{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "", kCollectorCrd}, 0);
    f.cause = "the OpenTelemetryCollector CRD is not installed: collectors cannot be created and no operator can run";
    f.evidence.push_back(std::string("CustomResourceDefinition ") + kCollectorCrd + ": not found");
    if (c.errorWith("no matches for kind")) f.explainsError = true;
    f.fix = "kubectl otel install (or kubectl otel install --crds-only)";
    for (auto crd : manifests::crdObjects()) {
      if (c.view.find("CustomResourceDefinition", "", metaOf(crd, "name"))) continue;
      if (api::has(crd, {"spec", "conversion", "webhook", "clientConfig"})) {
        Json client = operatorConversionClient(c);
        if (!client.empty()) crd["spec"]["conversion"]["webhook"]["clientConfig"] = std::move(client);
      }
      f.fixObjects.push_back(std::move(crd));
    }
  } else if (const Json* crd = c.view.find("CustomResourceDefinition", "", kCollectorCrd)) {
    const ObjectRef ref = ObjectRef::of(*crd);
    const bool alpha = c.view.hasCrd(kCollectorCrd, "v1alpha1");
    const std::string strategy = api::str(*crd, {"spec", "conversion", "strategy"}, "None");
    if (alpha && strategy != "Webhook") {
      Finding& f = c.add(Severity::Error, "conversion-webhook-missing", *crd, 0);
      f.cause = "v1alpha1 is served without a conversion webhook: v1alpha1 collectors (config as a string) are relabelled, not "
                "converted, so reading or writing them in the other version fails schema validation or loses fields";
      f.evidence.push_back(ev(ref, "spec.versions[v1alpha1].served", "true"));
      f.evidence.push_back(ev(ref, "spec.conversion.strategy", strategy));
      // The conversion webhook of the operator whose webhooks the cluster has (its Service and CA bundle).
      Json o = *crd;
      o.erase("status");
      Json conv = {{"strategy", "Webhook"},
                   {"webhook", {{"conversionReviewVersions", Json::array({"v1"})}, {"clientConfig", operatorConversionClient(c)}}}};
      o["spec"]["conversion"] = conv;
      f.fix = "kubectl otel install (installs the CRD with its conversion webhook), or set spec.conversion to the operator's "
              "webhook (/convert)";
      if (!conv["webhook"]["clientConfig"].empty()) f.fixObjects.push_back(std::move(o));
    } else if (alpha) {
      const Json* svc = api::at(*crd, {"spec", "conversion", "webhook", "clientConfig", "service"});
      if (svc && svc->is_object() && c.view.listed("Service")) {
        const std::string ns = svc->value("namespace", ""), name = svc->value("name", "");
        const Json* s = c.view.find("Service", ns, name);
        int ready = s ? readyEndpoints(c.view, ns, name) : 0;
        if (ready == 0) {
          Finding& f = c.add(Severity::Error, "conversion-webhook-unavailable", *crd, 1);
          f.cause = "the conversion webhook's Service " + ns + "/" + name + " has " + (s ? "no ready endpoint" : "not been created") +
                    ": every read of a collector in the other version (kubectl get with v1alpha1, a list by the operator) fails "
                    "with \"conversion webhook for opentelemetry.io/v1beta1, Kind=OpenTelemetryCollector failed\"";
          f.evidence.push_back(ev(ref, "spec.conversion.webhook.clientConfig.service", ns + "/" + name));
          f.evidence.push_back(s ? "EndpointSlices of Service " + ns + "/" + name + ": 0 ready endpoints"
                                 : "Service " + ns + "/" + name + ": not found");
          if (c.errorWith("conversion webhook")) f.explainsError = true;
          f.fix = "start the operator (see controller-not-running), or kubectl otel install";
        }
      }
    }
  }
  if (anyPodAsksForInjection(c, true) && !c.view.hasCrd(kInstrumentationCrd)) {
    Finding& f = c.add(Severity::Error, "crd-missing", ObjectRef{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "", kInstrumentationCrd}, 0);
    f.cause = "pods ask for auto-instrumentation but the Instrumentation CRD is not installed";
    f.evidence.push_back(std::string("CustomResourceDefinition ") + kInstrumentationCrd + ": not found");
    f.fix = "kubectl otel install";
  }
}

// PEM certificates of a base64 value (a Secret's data or a caBundle); empty when it does not decode.
std::vector<std::string> pemsOf(const Json* b64) {
  if (!b64 || !b64->is_string()) return {};
  try {
    return http::splitPemCertificates(base64Decode(b64->get<std::string>()));
  } catch (const std::exception&) {
    return {};
  }
}

std::string normalize(std::string pem) {
  pem.erase(std::remove_if(pem.begin(), pem.end(), [](char ch) { return ch == '\n' || ch == '\r' || ch == ' '; }), pem.end());
  return pem;
}

void certChecks(Ctx& c) {
  std::set<std::string> nss;
  for (const auto& u : ourWebhooks(c))
    if (const Json* svc = api::at(*u.webhook, {"clientConfig", "service"}); svc && svc->is_object())
      nss.insert(svc->value("namespace", ""));
  for (const std::string& ns : nss) {
    for (const Json* s : c.view.of("Secret", ns)) {
      const std::string name = metaOf(*s, "name");
      const auto& names = webhookCertificateSecrets();
      bool known = std::any_of(names.begin(), names.end(), [&](const std::string& k) {
        return name == k || (name.size() > k.size() && name.compare(name.size() - k.size(), std::string::npos, k) == 0);
      });
      if (!known) continue;
      const ObjectRef sref = ObjectRef::of(*s);
      auto crt = pemsOf(api::at(*s, {"data", "tls.crt"}));
      if (!crt.empty()) {
        std::int64_t notAfter = 0;
        try {
          notAfter = http::certNotAfter(crt.front());
        } catch (const std::exception&) {
          notAfter = 0;
        }
        if (notAfter > 0 && c.view.now > 0 && notAfter <= c.view.now) {
          Finding& f = c.add(Severity::Error, "webhook-cert-expired", *s, 1);
          f.cause = "the webhooks' serving certificate has expired: the API server refuses the TLS handshake (\"x509: "
                    "certificate has expired or is not yet valid\"), so collector changes fail and pods go uninjected";
          f.evidence.push_back(ev(sref, "data[tls.crt] notAfter", std::to_string(notAfter) + " (seconds since the epoch; now " +
                                                                     std::to_string(c.view.now) + ")"));
          if (c.errorWith("x509")) f.explainsError = true;
          f.fix = "renew it: kubectl otel run renews its own certificate (restart the controller: kubectl -n " + ns +
                  " rollout restart deployment/kubectl-otel-controller); with cert-manager: cmctl renew -n " + ns +
                  " <certificate>";
        }
      }
      auto ca = pemsOf(api::at(*s, {"data", "ca.crt"}));
      if (ca.empty()) continue;
      const std::string want = normalize(ca.front());
      for (const auto& u : ourWebhooks(c)) {
        const Json* svc = api::at(*u.webhook, {"clientConfig", "service"});
        if (!svc || !svc->is_object() || svc->value("namespace", "") != ns) continue;
        auto bundle = pemsOf(api::at(*u.webhook, {"clientConfig", "caBundle"}));
        bool ok = std::any_of(bundle.begin(), bundle.end(), [&](const std::string& p) { return normalize(p) == want; });
        if (ok) continue;
        Finding& f = c.add(Severity::Error, "webhook-cabundle-stale", *u.config, 1);
        f.cause = "the caBundle of webhook " + api::str(*u.webhook, {"name"}) + " does not hold the CA that signed the serving "
                  "certificate in Secret " + ns + "/" + name + ": the API server rejects it (\"x509: certificate signed by unknown authority\")";
        f.evidence.push_back(ev(*u.config, "webhooks[" + api::str(*u.webhook, {"name"}) + "].clientConfig.caBundle",
                                bundle.empty() ? "<empty>" : std::to_string(bundle.size()) + " certificate(s), none the Secret's CA"));
        f.evidence.push_back(ev(sref, "data[ca.crt]", "the CA of the serving certificate"));
        if (c.errorWith("x509")) f.explainsError = true;
        Json o = *u.config;
        for (auto& w : o["webhooks"])
          if (api::at(w, {"clientConfig", "service"})) w["clientConfig"]["caBundle"] = api::at(*s, {"data", "ca.crt"})->get<std::string>();
        f.fix = "write the Secret's ca.crt into the caBundle of the webhooks (kubectl otel run does it at start; with cert-manager "
                "check the cert-manager.io/inject-ca-from annotation)";
        f.fixObjects.push_back(std::move(o));
        break;
      }
    }
  }
}

void controllerChecks(Ctx& c) {
  const bool ours = std::any_of(c.operators.begin(), c.operators.end(), [](const Operator& o) { return o.ours && o.ready > 0; });
  const bool upstream = std::any_of(c.operators.begin(), c.operators.end(), [](const Operator& o) { return !o.ours && o.ready > 0; });
  if (ours && upstream) {
    const Operator* up = nullptr;
    for (const auto& o : c.operators)
      if (!o.ours && o.ready > 0) up = &o;
    Finding& f = c.add(Severity::Error, "two-operators", *up->deployment, 0);
    f.cause = "both the upstream opentelemetry-operator and kubectl-otel's controller are running: both reconcile the same "
              "collectors and fight over their objects, and both webhooks mutate each pod";
    for (const auto& o : c.operators)
      if (o.ready > 0) f.evidence.push_back(ev(*o.deployment, "status.readyReplicas", std::to_string(o.ready)));
    f.fix = "keep one: kubectl scale deployment " + metaOf(*up->deployment, "name") + " -n " + metaOf(*up->deployment, "namespace") +
            " --replicas=0 (and remove its webhook configurations), or kubectl otel uninstall";
    Json o = *up->deployment;
    o.erase("status");
    o["spec"]["replicas"] = 0;
    f.fixObjects.push_back(std::move(o));
  }
  for (const auto& o : c.operators) {
    if (o.ready > 0 || o.wanted == 0) continue;
    Finding& f = c.add(Severity::Error, "controller-not-running", *o.deployment, 1);
    const ObjectRef ref = ObjectRef::of(*o.deployment);
    f.cause = std::string(o.ours ? "kubectl-otel's controller" : "the opentelemetry-operator") +
              " has no ready pod: nothing reconciles collectors and its webhooks do not answer";
    f.evidence.push_back(ev(ref, "status.readyReplicas", std::to_string(o.ready) + " of " + std::to_string(o.wanted)));
    const Json* sel = api::at(*o.deployment, {"spec", "selector"});
    for (const Json* p : c.view.of("Pod", ref.ns)) {
      if (!selectorMatches(sel, labelsOf(*p), false)) continue;
      if (const Json* st = api::at(*p, {"status", "containerStatuses"}); st && st->is_array())
        for (const auto& cs : *st) {
          std::string why = api::str(cs, {"state", "waiting", "reason"});
          if (!why.empty())
            f.evidence.push_back(ev(*p, "status.containerStatuses[" + cs.value("name", "") + "].state.waiting.reason", why));
        }
    }
    for (const auto& l : c.view.logs())
      if (l.ns == ref.ns && l.pod.rfind(ref.name, 0) == 0 && !l.lines.empty())
        f.evidence.push_back("log of pod " + l.ns + "/" + l.pod + ": " + l.lines.back());
    f.fix = "kubectl -n " + ref.ns + " describe deployment " + ref.name + " and kubectl -n " + ref.ns + " logs deploy/" + ref.name;
  }
  // Collectors exist, no operator Deployment at all, and the webhooks are not registered by URL (run outside).
  if (c.operators.empty() && !c.allCollectors.empty() && c.view.listed("Deployment")) {
    bool byUrl = false;
    for (const auto& u : ourWebhooks(c))
      if (!api::str(*u.webhook, {"clientConfig", "url"}).empty()) byUrl = true;
    bool anyOwned = false;
    for (const auto& col : c.allCollectors)
      if (c.view.find(api::CollectorView(col.beta).mode() == "daemonset" ? "DaemonSet"
                      : api::CollectorView(col.beta).mode() == "statefulset" ? "StatefulSet" : "Deployment",
                      col.ns, col.name + "-collector"))
        anyOwned = true;
    if (!byUrl && !anyOwned) {
      const Collector& col = c.allCollectors.front();
      Finding& f = c.add(Severity::Error, "controller-not-running", col.ref, 1);
      f.cause = "collectors exist but no operator is deployed and none of their workloads exists: nothing reconciles them";
      f.evidence.push_back("Deployments: none of kubectl-otel-controller or opentelemetry-operator");
      f.evidence.push_back(col.ref.display() + ": no " + col.name + "-collector workload");
      f.fix = "kubectl otel install (or run the controller from a terminal: kubectl otel run --webhook-host HOST)";
    }
  }
}

}  // namespace

}  // namespace otel::doctor::detail

namespace otel::doctor {

const std::vector<std::string>& webhookCertificateSecrets() {
  static const std::vector<std::string> names = {manifests::kSelfManagedCertSecret, manifests::kServingCertSecret,
                                                 manifests::kUpstreamCertSecret};
  return names;
}

}  // namespace otel::doctor

namespace otel::doctor::detail {

void checkOperator(Ctx& c) {
  crdChecks(c);
  controllerChecks(c);
  serviceChecks(c);
  certChecks(c);
}

}  // namespace otel::doctor::detail
