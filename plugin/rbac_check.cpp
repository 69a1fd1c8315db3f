#include "plugin/rbac_check.h"

#include <algorithm>

#include "lib/core/error.h"
#include "lib/inject/live.h"
#include "lib/kube/discovery.h"
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

// The monitoring.coreos.com kinds upstream's target allocator reads that some served version has (from the
// client's discovery, which applying needs anyway).
std::vector<std::string> monitoringResources(kube::Client& client) {
  std::vector<std::string> served;
  for (const auto& r : client.mapper().resources())
    if (r.group == "monitoring.coreos.com") served.push_back(r.resource);
  std::vector<std::string> out;
  for (const char* r : {"servicemonitors", "podmonitors", "probes", "scrapeconfigs"})
    if (std::find(served.begin(), served.end(), r) != served.end()) out.push_back(r);
  return out;
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

manifests::RbacReviewOptions clusterRbacReviewOptions(kube::Client& client, const manifests::AccessReviewer& reviewer,
                                                      const manifests::RbacNeeds& needs, std::vector<std::string>& warnings) {
  manifests::RbacReviewOptions o;
  if (needs.configRules) {
    std::string name = client.config().impersonateUser;  // "" = unknown until the cluster says
    try {
      Json self = client.create(kSelfSubjectReviews, "", Json{{"apiVersion", kSelfSubjectReviews.apiVersion},
                                                              {"kind", kSelfSubjectReviews.kind}});
      if (!api::str(self, {"status", "userInfo", "username"}).empty()) name = api::str(self, {"status", "userInfo", "username"});
    } catch (const kube::ApiError&) {
      // before Kubernetes 1.28, or refused: the SelfSubjectAccessReviews need no name, only the messages do
    }
    o.requester = name;

    // The installed controller: its service account lives where its pod webhook's Service does.
    std::string ns;
    try {
      Json mwc = client.get(kMutatingWebhookConfigurations, "", inject::kControllerMutatingWebhookConfiguration);
      if (auto target = inject::podWebhookTarget(Json{{"items", Json::array({mwc})}})) ns = target->serviceNamespace;
    } catch (const kube::ApiError&) {
      // not installed (404), or not readable (403, as for namespace admins): as `kubectl otel install`'s
      // controller, which may
    }
    if (!ns.empty()) {
      try {
        auto answers = reviewer({manifests::serviceAccountUser(ns, manifests::kControllerName), {}, false},
                                manifests::accessChecks(manifests::operatorRbacRules()));
        for (bool a : answers) o.operatorCreatesRbac = o.operatorCreatesRbac && a;
      } catch (const Error& e) {
        warnings.push_back("the RBAC of the controller's service account " + ns + "/" + manifests::kControllerName +
                           " was not checked (" + e.what() + "): assuming it creates collectors' ClusterRoles");
      }
    }
  }
  if (needs.prometheusCR) {
    try {
      o.monitoringResources = monitoringResources(client);
    } catch (const Error& e) {
      warnings.push_back("the monitoring.coreos.com kinds served could not be read (" + std::string(e.what()) +
                         "): the target allocator's account is not asked about them");
    }
  }
  return o;
}

}  // namespace otel::plugin
