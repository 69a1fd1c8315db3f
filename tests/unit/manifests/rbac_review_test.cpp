// The collector webhook's RBAC checks (lib/manifests/rbac_review), with a table-driven reviewer.
#include "lib/manifests/rbac_review.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace {

using otel::Json;
using otel::manifests::AccessCheck;
using otel::manifests::AccessSubject;

// Grants per user: "verb group/resource" or "verb path"; "*" grants everything. Records every question.
struct TableReviewer {
  std::map<std::string, std::set<std::string>> grants;
  std::set<std::string> unreachable;  // users whose questions throw
  std::vector<std::pair<AccessSubject, AccessCheck>> asked;

  static std::string key(const AccessCheck& c) {
    return c.verb + " " + (c.path.empty() ? (c.group.empty() ? "" : c.group + "/") + c.resource : c.path);
  }
  otel::manifests::AccessReviewer fn() {
    return [this](const AccessSubject& s, const std::vector<AccessCheck>& checks) {
      if (unreachable.count(s.user)) throw otel::Error("subjectaccessreviews.authorization.k8s.io is forbidden");
      std::vector<bool> out;
      for (const auto& c : checks) {
        asked.push_back({s, c});
        const auto& g = grants[s.user];
        out.push_back(g.count("*") > 0 || g.count(key(c)) > 0);
      }
      return out;
    };
  }
  void grant(const std::string& user, const std::vector<std::string>& verbs, const std::string& resource) {
    for (const auto& v : verbs) grants[user].insert(v + " " + resource);
  }
};

Json collector(const std::string& specYaml) {
  Json c = otel::parseYaml("apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\n"
                           "metadata: {name: obs, namespace: team-a}\nspec:\n" + specYaml, "test");
  return c;
}

const char* kK8sAttributes =
    "  config:\n"
    "    receivers: {otlp: {protocols: {grpc: {}}}}\n"
    "    processors: {k8sattributes: {}}\n"
    "    exporters: {debug: {}}\n"
    "    service: {pipelines: {traces: {receivers: [otlp], processors: [k8sattributes], exporters: [debug]}}}\n";

const std::string kCollectorSa = "system:serviceaccount:team-a:obs-collector";

TEST(RbacReview, AccessChecksFlattenVerbsThenGroupsThenResourcesThenUrls) {
  std::vector<Json> rules = {
      Json{{"apiGroups", {"", "apps"}}, {"resources", {"pods", "replicasets"}}, {"verbs", {"get", "list"}}},
      Json{{"nonResourceURLs", {"/metrics", "/api/*"}}, {"verbs", {"get"}}},
  };
  std::vector<AccessCheck> want = {
      {"get", "", "pods", ""},     {"get", "", "replicasets", ""},     {"get", "apps", "pods", ""},
      {"get", "apps", "replicasets", ""}, {"list", "", "pods", ""},    {"list", "", "replicasets", ""},
      {"list", "apps", "pods", ""}, {"list", "apps", "replicasets", ""}, {"get", "", "", "/metrics"},
      {"get", "", "", "/api/*"},
  };
  EXPECT_EQ(otel::manifests::accessChecks(rules), want);
}

TEST(RbacReview, MissingRulesGroupedByResourceInFirstSeenOrder) {
  std::vector<AccessCheck> denied = {{"get", "", "pods", ""},         {"get", "apps", "replicasets", ""},
                                     {"watch", "", "pods", ""},       {"watch", "apps", "replicasets", ""},
                                     {"list", "", "pods", ""},        {"get", "", "", "/metrics"}};
  auto lines = otel::manifests::missingRulesByResource("alice", denied);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "missing the following rules for alice - pods: [get,watch,list]");
  EXPECT_EQ(lines[1], "missing the following rules for alice - apps/replicasets: [get,watch]");
  EXPECT_EQ(lines[2], "missing the following rules for alice - nonResourceURL: /metrics: [get]");
}

TEST(RbacReview, EscalationRefusedWhenTheRequesterLacksWhatTheOperatorWouldGrant) {
  TableReviewer t;
  t.grant("alice", {"get", "watch", "list"}, "namespaces");  // alice holds one of the three resources
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  auto d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn());
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0],
            "user \"alice\" is not allowed to create a collector whose config would grant permissions they do not hold: "
            "missing the following rules for alice - pods: [get,watch,list]; "
            "missing the following rules for alice - apps/replicasets: [get,watch,list]");
  EXPECT_TRUE(d.warnings.empty());
  // The service account is asked about with its user name and no groups; the requester as "self".
  bool askedSa = false, askedSelf = false;
  for (const auto& [who, c] : t.asked) {
    if (who.user == kCollectorSa) askedSa = !who.self && who.groups.empty();
    if (who.user == "alice") askedSelf = who.self;
  }
  EXPECT_TRUE(askedSa);
  EXPECT_TRUE(askedSelf);
}

TEST(RbacReview, EscalationChecksOnlyTheDeltaTheServiceAccountLacks) {
  TableReviewer t;
  // The collector's account already holds pods and namespaces: only apps/replicasets would be granted.
  t.grant(kCollectorSa, {"get", "watch", "list"}, "pods");
  t.grant(kCollectorSa, {"get", "watch", "list"}, "namespaces");
  t.grant("bob", {"get", "watch", "list"}, "apps/replicasets");
  otel::manifests::RbacReviewOptions o;
  o.requester = "bob";
  auto d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.errors.empty()) << (d.errors.empty() ? "" : d.errors[0]);
  std::vector<AccessCheck> selfQuestions;
  for (const auto& [who, c] : t.asked)
    if (who.self) selfQuestions.push_back(c);
  std::vector<AccessCheck> delta = {{"get", "apps", "replicasets", ""}, {"watch", "apps", "replicasets", ""},
                                    {"list", "apps", "replicasets", ""}};
  EXPECT_EQ(selfQuestions, delta) << "the requester is asked about the delta only";

  // Nothing to grant: the requester is not asked at all.
  TableReviewer full;
  full.grants[kCollectorSa] = {"*"};
  o.requester = "nobody";
  EXPECT_TRUE(otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, full.fn()).errors.empty());
  for (const auto& [who, c] : full.asked) EXPECT_FALSE(who.self);
}

TEST(RbacReview, EscalationUsesTheNamedServiceAccount) {
  TableReviewer t;
  t.grants["system:serviceaccount:team-a:custom"] = {"*"};
  otel::manifests::RbacReviewOptions o;
  o.requester = "carol";
  auto d = otel::manifests::reviewCollectorRbac(collector(std::string("  serviceAccount: custom\n") + kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.ok());
}

TEST(RbacReview, NoRulesNoRequesterOrNoConfigMeansNothingAsked) {
  TableReviewer t;
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  auto d = otel::manifests::reviewCollectorRbac(
      collector("  config:\n    receivers: {otlp: {protocols: {grpc: {}}}}\n    exporters: {debug: {}}\n"
                "    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"),
      o, t.fn());
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.warnings.empty());
  o.requester.reset();
  d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(t.asked.empty());
}

TEST(RbacReview, WithoutAutoRbacANamedServiceAccountGetsMissingRuleWarnings) {
  TableReviewer t;
  t.grant("system:serviceaccount:team-a:custom", {"get", "watch", "list"}, "pods");
  otel::manifests::RbacReviewOptions o;
  o.operatorCreatesRbac = false;
  o.requester = "alice";  // no escalation check without auto-RBAC
  auto d = otel::manifests::reviewCollectorRbac(collector(std::string("  serviceAccount: custom\n") + kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 2u);
  EXPECT_EQ(d.warnings[0], "RBAC rules are missing: missing the following rules for system:serviceaccount:team-a:custom - "
                           "namespaces: [get,watch,list]");
  EXPECT_EQ(d.warnings[1], "RBAC rules are missing: missing the following rules for system:serviceaccount:team-a:custom - "
                           "apps/replicasets: [get,watch,list]");
  for (const auto& [who, c] : t.asked) EXPECT_FALSE(who.self);

  // Without spec.serviceAccount upstream checks nothing (the account it creates has no rules anyway).
  TableReviewer none;
  EXPECT_TRUE(otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, none.fn()).warnings.empty());
  EXPECT_TRUE(none.asked.empty());
}

const char* kTaPrometheusCR =
    "  mode: statefulset\n"
    "  targetAllocator: {enabled: true, prometheusCR: {enabled: true}}\n"
    "  config:\n"
    "    receivers: {prometheus: {config: {scrape_configs: []}}}\n"
    "    exporters: {debug: {}}\n"
    "    service: {pipelines: {metrics: {receivers: [prometheus], exporters: [debug]}}}\n";

TEST(RbacReview, TargetAllocatorPrometheusCRServiceAccountWarnings) {
  TableReviewer t;
  const std::string ta = "system:serviceaccount:team-a:obs-targetallocator";
  for (const char* r : {"nodes", "nodes/metrics", "services", "endpoints", "pods", "namespaces"})
    t.grant(ta, {"get", "list", "watch"}, r);
  t.grant(ta, {"get"}, "configmaps");
  t.grant(ta, {"get", "list", "watch"}, "discovery.k8s.io/endpointslices");
  t.grant(ta, {"get", "list", "watch"}, "networking.k8s.io/ingresses");
  t.grant(ta, {"get"}, "/metrics");
  otel::manifests::RbacReviewOptions o;
  o.monitoringResources = {"servicemonitors", "podmonitors"};
  auto d = otel::manifests::reviewCollectorRbac(collector(kTaPrometheusCR), o, t.fn());
  EXPECT_TRUE(d.ok());
  std::vector<std::string> want = {
      "missing the following rules for " + ta + " - nonResourceURL: /api: [get]",
      "missing the following rules for " + ta + " - nonResourceURL: /api/*: [get]",
      "missing the following rules for " + ta + " - nonResourceURL: /apis: [get]",
      "missing the following rules for " + ta + " - nonResourceURL: /apis/*: [get]",
      "missing the following rules for " + ta + " - monitoring.coreos.com/servicemonitors: [get,list,watch]",
      "missing the following rules for " + ta + " - monitoring.coreos.com/podmonitors: [get,list,watch]",
  };
  EXPECT_EQ(d.warnings, want);

  // Named TA service account; no monitoring CRDs served: no monitoring.coreos.com question.
  TableReviewer t2;
  t2.grants["system:serviceaccount:team-a:scraper"] = {"*"};
  o.monitoringResources.clear();
  std::string spec = kTaPrometheusCR;
  spec.replace(spec.find("prometheusCR"), 0, "serviceAccount: scraper, ");
  d = otel::manifests::reviewCollectorRbac(collector(spec), o, t2.fn());
  EXPECT_TRUE(d.warnings.empty()) << (d.warnings.empty() ? "" : d.warnings[0]);
  for (const auto& [who, c] : t2.asked) EXPECT_NE(c.group, "monitoring.coreos.com");
  EXPECT_FALSE(t2.asked.empty());
}

TEST(RbacReview, AnAccountTheClusterWillNotAnswerForMeansAskingTheRequesterAboutEverything) {
  TableReviewer t;
  t.unreachable = {kCollectorSa};
  t.grant("alice", {"get", "watch", "list"}, "pods");
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  auto d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.ok()) << "no verdict without knowing what the account holds";
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0],
            "user \"alice\" may be refused: the collector's service account team-a/obs-collector could not be checked "
            "(subjectaccessreviews.authorization.k8s.io is forbidden), and unless it holds them already the config would "
            "grant permissions the user does not hold: missing the following rules for alice - namespaces: [get,watch,list]; "
            "missing the following rules for alice - apps/replicasets: [get,watch,list]");
  size_t selfQuestions = 0;
  for (const auto& [who, c] : t.asked) selfQuestions += who.self ? 1 : 0;
  EXPECT_EQ(selfQuestions, 9u) << "every rule: 3 resources x 3 verbs";

  // Holding everything settles it: nothing to say.
  TableReviewer admin;
  admin.unreachable = {kCollectorSa};
  admin.grants["root"] = {"*"};
  o.requester = "root";
  d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, admin.fn());
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.warnings.empty());

  // The requester cannot be asked either: one warning naming the user.
  TableReviewer none;
  none.unreachable = {kCollectorSa, "carol"};
  o.requester = "carol";
  d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, none.fn());
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], "the RBAC of user \"carol\" was not checked: subjectaccessreviews.authorization.k8s.io is forbidden");
}

TEST(RbacReview, AServiceAccountTheClusterWillNotAnswerForIsAWarningWithoutAutoRbac) {
  TableReviewer t;
  t.unreachable = {"system:serviceaccount:team-a:custom"};
  otel::manifests::RbacReviewOptions o;
  o.operatorCreatesRbac = false;
  auto d = otel::manifests::reviewCollectorRbac(collector(std::string("  serviceAccount: custom\n") + kK8sAttributes), o, t.fn());
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], "the RBAC of the service account team-a/custom was not checked: "
                           "subjectaccessreviews.authorization.k8s.io is forbidden");
}

TEST(RbacReview, StandaloneTargetAllocatorWithPrometheusCR) {
  Json ta = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: TargetAllocator\n"
                            "metadata: {name: shared, namespace: mon}\nspec: {prometheusCR: {enabled: true}}\n",
                            "test");
  TableReviewer t;
  t.grants["system:serviceaccount:mon:shared-targetallocator"] = {"*"};
  otel::manifests::RbacReviewOptions o;
  o.monitoringResources = {"podmonitors"};
  auto d = otel::manifests::reviewTargetAllocatorRbac(ta, o, t.fn());
  EXPECT_TRUE(d.ok());
  EXPECT_TRUE(d.warnings.empty());
  ASSERT_FALSE(t.asked.empty());
  EXPECT_EQ(t.asked.back().second, (AccessCheck{"watch", "monitoring.coreos.com", "podmonitors", ""}));

  ta["spec"]["serviceAccount"] = "custom";
  d = otel::manifests::reviewTargetAllocatorRbac(ta, o, t.fn());
  ASSERT_EQ(d.warnings.size(), 15u) << "custom holds nothing: 10 resources, /metrics and 4 discovery paths";
  EXPECT_EQ(d.warnings.front(), "missing the following rules for system:serviceaccount:mon:custom - nodes: [get,list,watch]");

  // prometheusCR off: nothing asked
  TableReviewer quiet;
  ta["spec"]["prometheusCR"]["enabled"] = false;
  EXPECT_TRUE(otel::manifests::reviewTargetAllocatorRbac(ta, o, quiet.fn()).warnings.empty());
  EXPECT_TRUE(quiet.asked.empty());
}

TEST(RbacReview, NeedsReviewOnlyWhenAQuestionWouldBeAsked) {
  EXPECT_TRUE(otel::manifests::rbacNeeds(collector(kK8sAttributes)).any());
  EXPECT_TRUE(otel::manifests::rbacNeeds(collector(kTaPrometheusCR)).any());
  EXPECT_FALSE(otel::manifests::rbacNeeds(
      collector("  config:\n    receivers: {otlp: {protocols: {grpc: {}}}}\n    exporters: {debug: {}}\n"
                "    service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n")).any());
  // v1alpha1: the config is a string
  Json alpha = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: OpenTelemetryCollector\nmetadata: {name: a}\n"
                               "spec:\n  config: |\n    receivers: {kubeletstats: {}}\n    exporters: {debug: {}}\n"
                               "    service: {pipelines: {metrics: {receivers: [kubeletstats], exporters: [debug]}}}\n",
                               "test");
  EXPECT_TRUE(otel::manifests::rbacNeeds(alpha).any());
  EXPECT_TRUE(otel::manifests::rbacNeeds(Json{{"kind", "TargetAllocator"}, {"spec", {{"prometheusCR", {{"enabled", true}}}}}}).any());
  EXPECT_FALSE(otel::manifests::rbacNeeds(Json{{"kind", "TargetAllocator"}, {"spec", Json::object()}}).any());
}

TEST(RbacReview, ARequesterWithoutAKnownNameIsStillAsked) {
  TableReviewer t;
  otel::manifests::RbacReviewOptions o;
  o.requester = "";  // the cluster did not say who we are: the SelfSubjectAccessReviews need no name
  auto d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn());
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].rfind("the current user is not allowed to create a collector whose config would grant permissions "
                              "they do not hold: missing the following rules for the current user - pods: [get,watch,list]",
                              0),
            0u)
      << d.errors[0];
}

TEST(RbacReview, ANamespaceIsRequired) {
  TableReviewer t;
  Json c = collector(kK8sAttributes);
  c["metadata"].erase("namespace");
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  EXPECT_THROW(otel::manifests::reviewCollectorRbac(c, o, t.fn()), otel::Error);
  EXPECT_TRUE(t.asked.empty()) << "no question about system:serviceaccount::obs-collector";
}

TEST(RbacReview, AReviewerAnsweringTheWrongNumberOfQuestionsIsNotTrusted) {
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  auto shortAnswer = [](const AccessSubject&, const std::vector<AccessCheck>&) { return std::vector<bool>{true}; };
  auto d = otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, shortAnswer);
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u) << "the account's answer is unusable, then so is the requester's";
  EXPECT_EQ(d.warnings[0], "the RBAC of user \"alice\" was not checked: the access review answered 1 of 9 questions");
}

TEST(RbacReview, TargetAllocatorAccountTheClusterWillNotAnswerForAndPrometheusCRWithoutATargetAllocator) {
  TableReviewer t;
  t.unreachable = {"system:serviceaccount:team-a:obs-targetallocator"};
  otel::manifests::RbacReviewOptions o;
  auto d = otel::manifests::reviewCollectorRbac(collector(kTaPrometheusCR), o, t.fn());
  EXPECT_TRUE(d.ok());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], "the RBAC of the target allocator's service account team-a/obs-targetallocator was not checked: "
                           "subjectaccessreviews.authorization.k8s.io is forbidden");

  // prometheusCR set with the target allocator off: upstream checks nothing
  std::string off = kTaPrometheusCR;
  off.replace(off.find("enabled: true, prometheusCR"), 13, "enabled: false");
  TableReviewer quiet;
  d = otel::manifests::reviewCollectorRbac(collector(off), o, quiet.fn());
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_TRUE(quiet.asked.empty());
  EXPECT_FALSE(otel::manifests::rbacNeeds(collector(off)).any());
}

TEST(RbacReview, ReviewRbacDispatchesByKindAndConvertsV1alpha1) {
  TableReviewer t;
  otel::manifests::RbacReviewOptions o;
  o.requester = "alice";
  Json alpha = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: OpenTelemetryCollector\n"
                               "metadata: {name: obs, namespace: team-a}\nspec:\n  config: |\n"
                               "    receivers: {otlp: {protocols: {grpc: {}}}}\n    processors: {k8sattributes: {}}\n"
                               "    exporters: {debug: {}}\n    service: {pipelines: {traces: {receivers: [otlp], "
                               "processors: [k8sattributes], exporters: [debug]}}}\n",
                               "test");
  EXPECT_EQ(otel::manifests::reviewRbac(alpha, o, t.fn()).errors,
            otel::manifests::reviewCollectorRbac(collector(kK8sAttributes), o, t.fn()).errors)
      << "the string config is read as the v1beta1 form's";
  Json ta = otel::parseYaml("apiVersion: opentelemetry.io/v1alpha1\nkind: TargetAllocator\n"
                            "metadata: {name: shared, namespace: mon}\nspec: {prometheusCR: {enabled: true}}\n",
                            "test");
  EXPECT_EQ(otel::manifests::reviewRbac(ta, o, t.fn()).warnings,
            otel::manifests::reviewTargetAllocatorRbac(ta, o, t.fn()).warnings);
  EXPECT_FALSE(otel::manifests::reviewRbac(ta, o, t.fn()).warnings.empty());
}

TEST(RbacReview, NeedsOfSeveralObjectsAreTheirUnion) {
  otel::manifests::RbacNeeds n;
  EXPECT_FALSE(n.any());
  n |= otel::manifests::rbacNeeds(collector(kTaPrometheusCR));
  EXPECT_TRUE(n.prometheusCR);
  EXPECT_FALSE(n.configRules);
  n |= otel::manifests::rbacNeeds(collector(kK8sAttributes));
  EXPECT_TRUE(n.prometheusCR);
  EXPECT_TRUE(n.configRules);
}

TEST(RbacReview, OperatorRulesAreUpstreamsAutodetectQuestions) {
  auto checks = otel::manifests::accessChecks(otel::manifests::operatorRbacRules());
  EXPECT_EQ(checks.size(), 12u);
  EXPECT_EQ(checks.front(), (AccessCheck{"create", "rbac.authorization.k8s.io", "clusterrolebindings", ""}));
  EXPECT_EQ(checks.back(), (AccessCheck{"update", "rbac.authorization.k8s.io", "clusterroles", ""}));
}

}  // namespace
