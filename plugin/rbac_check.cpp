#include "plugin/rbac_check.h"

#include <algorithm>

#include "lib/core/error.h"
#include "lib/inject/live.h"
#include "lib/kube/errors.h"
#include "lib/manifests/install.h"

namespace otel::plugin {

namespace {

const kube::ResourceId kSubjectAccessReviews{"authorization.k8s.io/v1", "subjectaccessreviews", false, "SubjectAccessReview"};
const kube::ResourceId kSelfSubjectAccessReviews{"authorization.k8s.io/v1", "selfsubjectaccessreviews", false,
                                                 "SelfSubjectAccessReview"};
const kube::ResourceId kSelfSubjectReviews{"authentication.k8s.io/v1", "selfsubjectreviews", false, "SelfSubjectReview"};
const kube::ResourceId kMutatingWebhookConfigurations{"admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations",
                                                      false, "MutatingWebhookConfiguration"};

Json attributes(const manifests::AccessCheck& c) {
  if (!c.path.empty()) return Json{{"nonResourceAttributes", {{"path", c.path}, {"verb", c.verb}}}};
  Json ra{{"verb", c.verb}, {"group", c.group}};
  auto slash = c.resource.find('/');
  ra["resource"] = c.resource.substr(0, slash);
  if (slash != std::string::npos) ra["subresource"] = c.resource.substr(slash + 1);
  return Json{{"resourceAttributes", ra}};
}

// The served resources of a group version; empty when the group version is not served.
std::vector<std::string> servedResources(kube::Client& client, const std::string& groupVersion) {
  try {
    Json list = client.requestJson({"GET", "/apis/" + groupVersion, "", "", "application/json"});
    std::vector<std::string> out;
    for (const auto& r : list.value("resources", Json::array()))
      if (r.is_object()) out.push_back(r.value("name", ""));
    return out;
  } catch (const kube::ApiError& e) {
    if (e.isNotFound()) return {};
    throw;
  }
}

}  // namespace

manifests::AccessReviewer clusterAccessReviewer(kube::Client& client) {
  return [&client](const manifests::AccessSubject& who, const std::vector<manifests::AccessCheck>& checks) {
    std::vector<bool> out;
    for (const auto& c : checks) {
      Json spec = attributes(c);
      if (!who.self) {
        spec["user"] = who.user;
        if (!who.groups.empty()) spec["groups"] = who.groups;
      }
      const auto& id = who.self ? kSelfSubjectAccessReviews : kSubjectAccessReviews;
      Json review{{"apiVersion", id.apiVersion}, {"kind", id.kind}, {"spec", spec}};
      Json answer = client.create(id, "", review);
      const Json* status = api::at(answer, {"status"});
      out.push_back(status && api::boolean(*status, {"allowed"}) && !api::boolean(*status, {"denied"}));
    }
    return out;
  };
}

manifests::RbacReviewOptions clusterRbacReviewOptions(kube::Client& client, const manifests::AccessReviewer& reviewer) {
  manifests::RbacReviewOptions o;
  const auto& cfg = client.config();
  o.requester = !cfg.impersonateUser.empty() ? cfg.impersonateUser : cfg.userName;
  try {
    Json self = client.create(kSelfSubjectReviews, "", Json{{"apiVersion", kSelfSubjectReviews.apiVersion},
                                                            {"kind", kSelfSubjectReviews.kind}});
    std::string name = api::str(self, {"status", "userInfo", "username"});
    if (!name.empty()) o.requester = name;
  } catch (const kube::ApiError&) {
    // a server before Kubernetes 1.28 (or one that refuses it): keep the kubeconfig's name
  }

  // The installed controller: its service account lives where its webhook Service does.
  try {
    Json mwc = client.get(kMutatingWebhookConfigurations, "", inject::kControllerMutatingWebhookConfiguration);
    std::string ns;
    for (const auto& w : mwc.value("webhooks", Json::array()))
      if (ns.empty()) ns = api::str(w, {"clientConfig", "service", "namespace"});
    if (!ns.empty()) {
      auto checks = manifests::accessChecks(manifests::operatorRbacRules());
      auto answers = reviewer({manifests::serviceAccountUser(ns, manifests::kControllerName), {}, false}, checks);
      for (bool a : answers) o.operatorCreatesRbac = o.operatorCreatesRbac && a;
    }
  } catch (const Error&) {
    // not installed, or not readable/askable by this user: as `kubectl otel install`'s controller, which may
  }

  auto v1 = servedResources(client, "monitoring.coreos.com/v1");
  auto v1alpha1 = servedResources(client, "monitoring.coreos.com/v1alpha1");
  auto served = [](const std::vector<std::string>& in, const char* r) { return std::find(in.begin(), in.end(), r) != in.end(); };
  for (const char* r : {"servicemonitors", "podmonitors", "probes"})
    if (served(v1, r)) o.monitoringResources.push_back(r);
  if (served(v1alpha1, "scrapeconfigs")) o.monitoringResources.push_back("scrapeconfigs");
  return o;
}

}  // namespace otel::plugin
