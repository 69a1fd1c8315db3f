// Authorization over HTTP on the test API server: token users authorized by RBAC (403 Status as kube writes
// it), the bootstrap policy, and the access-review APIs (tests/support/access_review.h) with kube's shapes.
#include "tests/support/access_review.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/api_server.h"
#include "tests/unit/apiserver/test_client.h"

namespace otel::testing {
namespace {

const std::string kRbac = "/apis/rbac.authorization.k8s.io/v1";
const std::string kSar = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
const std::string kSsar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const std::string kSsr = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

TestApiServerOptions withUsers() {
  TestApiServerOptions o;
  o.forbiddenToken = "forbidden-token";
  o.users = {{"alice-token", "alice", {}},
             {"bob-token", "bob", {"devs"}},
             {"sa-token", "system:serviceaccount:ops:bot", {"system:serviceaccounts", "system:serviceaccounts:ops"}}};
  return o;
}

void create(TestClient& admin, const std::string& path, const std::string& json) {
  auto r = admin.post(path, Json::parse(json));
  ASSERT_EQ(r.status, 201) << r.raw;
}

void namespaceNamed(TestClient& admin, const std::string& name) {
  create(admin, "/api/v1/namespaces", R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + name + R"("}})");
}

// A Role in `ns` allowing every verb on configmaps, bound to `subjects`.
void configmapEditor(TestClient& admin, const std::string& ns, const std::string& subjects) {
  create(admin, kRbac + "/namespaces/" + ns + "/roles",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"cm-editor"},
             "rules":[{"verbs":["*"],"apiGroups":[""],"resources":["configmaps"]}]})");
  create(admin, kRbac + "/namespaces/" + ns + "/rolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"cm-editors"},
             "subjects":)" + subjects + R"(,
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-editor"}})");
}

Json cm(const std::string& name) {
  return Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
}

nlohmann::json plain(const Json& j) { return nlohmann::json::parse(j.dump()); }

TEST(Authorization, BootstrapPolicyIsStored) {
  TestApiServer server;
  TestClient admin(server);
  auto role = admin.get(kRbac + "/clusterroles/system:basic-user");
  ASSERT_EQ(role.status, 200) << role.raw;
  EXPECT_EQ(role.body["metadata"]["labels"], Json({{"kubernetes.io/bootstrapping", "rbac-defaults"}}));
  EXPECT_EQ(role.body["metadata"]["annotations"], Json({{"rbac.authorization.kubernetes.io/autoupdate", "true"}}));
  EXPECT_EQ(plain(role.body["rules"]), nlohmann::json::parse(R"([
      {"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"]},
      {"verbs":["create"],"apiGroups":["authentication.k8s.io"],"resources":["selfsubjectreviews"]}])"));
  auto binding = admin.get(kRbac + "/clusterrolebindings/system:public-info-viewer");
  ASSERT_EQ(binding.status, 200);
  EXPECT_EQ(plain(binding.body["subjects"]), nlohmann::json::parse(R"([
      {"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:authenticated"},
      {"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"system:unauthenticated"}])"));
  std::vector<std::string> names;
  for (const auto& o : server.listObjects("rbac.authorization.k8s.io/v1", "clusterrolebindings"))
    names.push_back(o["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"cluster-admin", "system:basic-user", "system:discovery",
                                             "system:public-info-viewer"}));
  EXPECT_EQ(server.listObjects("rbac.authorization.k8s.io/v1", "clusterroles").size(), 4u);
}

TEST(Authorization, TokenUserWithoutBindingsIsRefused) {
  TestApiServer server(withUsers());
  TestClient alice(server, "alice-token");
  // Discovery and public info through the bootstrap roles.
  EXPECT_EQ(alice.get("/version").status, 200);
  EXPECT_EQ(alice.get("/api").status, 200);
  EXPECT_EQ(alice.get("/apis").status, 200);
  EXPECT_EQ(alice.get("/apis/apps/v1").status, 200);
  EXPECT_EQ(alice.get("/openapi/v3").status, 200);

  auto list = alice.get("/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(list.status, 403);
  EXPECT_EQ(plain(list.body), nlohmann::json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure",
      "message":"configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"",
      "reason":"Forbidden","details":{"kind":"configmaps"},"code":403})"));
  auto get = alice.get("/api/v1/namespaces/default/configmaps/cfg");
  EXPECT_EQ(get.body["message"],
            "configmaps \"cfg\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the "
            "namespace \"default\"");
  EXPECT_EQ(plain(get.body["details"]), nlohmann::json::parse(R"({"name":"cfg","kind":"configmaps"})"));
  EXPECT_EQ(alice.post("/api/v1/namespaces/default/configmaps", cm("x")).body["message"],
            "configmaps is forbidden: User \"alice\" cannot create resource \"configmaps\" in API group \"\" in the "
            "namespace \"default\"");
  EXPECT_EQ(alice.get("/api/v1/nodes").body["message"],
            "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");
  auto scale = alice.patch("/apis/apps/v1/namespaces/default/deployments/web/scale", R"({"spec":{"replicas":2}})",
                           "application/merge-patch+json");
  EXPECT_EQ(scale.status, 403);
  EXPECT_EQ(scale.body["message"],
            "deployments.apps \"web\" is forbidden: User \"alice\" cannot patch resource \"deployments/scale\" in API "
            "group \"apps\" in the namespace \"default\"");
  EXPECT_EQ(plain(scale.body["details"]), nlohmann::json::parse(R"({"name":"web","group":"apps","kind":"deployments"})"));
  // Authorization comes before routing: an unknown resource is refused, not missing.
  EXPECT_EQ(alice.get("/apis/example.com/v1/widgets").status, 403);
  // A non-resource path no role grants.
  auto path = alice.get("/metrics");
  EXPECT_EQ(path.status, 403);
  EXPECT_EQ(plain(path.body), nlohmann::json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"forbidden: User \"alice\" cannot get path \"/metrics\"","reason":"Forbidden",
      "details":{},"code":403})"));
  // An unknown token is still 401.
  TestClient nobody(server, "nobody-token");
  EXPECT_EQ(nobody.get("/version").status, 401);
}

TEST(Authorization, RoleBindingGrantsInItsNamespace) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  namespaceNamed(admin, "dev");
  configmapEditor(admin, "dev", R"([{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}])");
  TestClient alice(server, "alice-token");
  EXPECT_EQ(alice.post("/api/v1/namespaces/dev/configmaps", cm("mine")).status, 201);
  EXPECT_EQ(alice.get("/api/v1/namespaces/dev/configmaps").status, 200);
  EXPECT_EQ(alice.del("/api/v1/namespaces/dev/configmaps/mine").status, 200);
  EXPECT_EQ(alice.get("/api/v1/namespaces/default/configmaps").status, 403);
  EXPECT_EQ(alice.get("/api/v1/configmaps").status, 403);  // all namespaces is the cluster scope
  EXPECT_EQ(alice.get("/api/v1/namespaces/dev/secrets").status, 403);
  EXPECT_TRUE(server.getObject("v1", "configmaps", "dev", "mine").is_null());
}

TEST(Authorization, ResourceNamesAndFieldSelectors) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  create(admin, kRbac + "/namespaces/default/roles",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"one-cm"},
             "rules":[{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["cfg"]}]})");
  create(admin, kRbac + "/namespaces/default/rolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"one-cm"},
             "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"one-cm"}})");
  ASSERT_EQ(admin.post("/api/v1/namespaces/default/configmaps", cm("cfg")).status, 201);
  TestClient alice(server, "alice-token");
  EXPECT_EQ(alice.get("/api/v1/namespaces/default/configmaps/cfg").status, 200);
  EXPECT_EQ(alice.get("/api/v1/namespaces/default/configmaps/other").status, 403);
  EXPECT_EQ(alice.get("/api/v1/namespaces/default/configmaps").status, 403);
  auto selected = alice.get("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dcfg");
  EXPECT_EQ(selected.status, 200) << selected.raw;
  EXPECT_EQ(selected.body["items"].size(), 1u);
  auto other = alice.get("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dother");
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(other.body["message"],
            "configmaps \"other\" is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in "
            "the namespace \"default\"");
}

TEST(Authorization, GroupsServiceAccountsAndMissingRoles) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  namespaceNamed(admin, "ops");
  configmapEditor(admin, "ops",
                  R"([{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"},
                      {"kind":"ServiceAccount","name":"bot","namespace":"ops"}])");
  TestClient bob(server, "bob-token"), bot(server, "sa-token"), alice(server, "alice-token");
  EXPECT_EQ(bob.get("/api/v1/namespaces/ops/configmaps").status, 200);
  EXPECT_EQ(bot.get("/api/v1/namespaces/ops/configmaps").status, 200);
  EXPECT_EQ(alice.get("/api/v1/namespaces/ops/configmaps").status, 403);
  // A binding to a role that does not exist: kube names the missing role in the refusal.
  create(admin, kRbac + "/clusterrolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"dangling"},
             "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"missing"}})");
  EXPECT_EQ(alice.get("/api/v1/namespaces/ops/configmaps").body["message"],
            "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the "
            "namespace \"ops\": RBAC: clusterrole.rbac.authorization.k8s.io \"missing\" not found");
}

TEST(Authorization, SuperuserAndForbiddenToken) {
  TestApiServer server(withUsers());
  TestClient admin(server), forbidden(server, "forbidden-token");
  EXPECT_EQ(admin.get("/api/v1/nodes").status, 200);
  EXPECT_EQ(admin.get("/metrics").status, 404);  // allowed, then not served
  EXPECT_EQ(forbidden.get("/api/v1/namespaces/default/configmaps").body["message"],
            "configmaps is forbidden: User \"forbidden\" cannot list resource \"configmaps\" in API group \"\" in the "
            "namespace \"default\"");
  // Refused every resource request, whatever RBAC says; discovery still works.
  create(admin, kRbac + "/clusterrolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"forbidden-admin"},
             "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"forbidden"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}})");
  EXPECT_EQ(forbidden.get("/api/v1/namespaces/default/configmaps").status, 403);
  EXPECT_EQ(forbidden.post(kSsr, Json::object()).status, 403);
  EXPECT_EQ(forbidden.get("/apis").status, 200);
}

TEST(Authorization, RbacObjectNamesAreValidatedLikeKube) {
  TestApiServer server;
  TestClient admin(server);
  create(admin, kRbac + "/clusterroles",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"acme:viewer"},"rules":[]})");
  auto bad = admin.post(kRbac + "/clusterroles", Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1",
      "kind":"ClusterRole","metadata":{"name":"a%b"},"rules":[]})"));
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.body["message"],
            "ClusterRole.rbac.authorization.k8s.io \"a%b\" is invalid: metadata.name: Invalid value: \"a%b\": may not "
            "contain '%'");
  auto both = admin.post(kRbac + "/clusterroles", Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1",
      "kind":"ClusterRole","metadata":{"name":"a/b%"},"rules":[]})"));
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(both.body["message"],
            "ClusterRole.rbac.authorization.k8s.io \"a/b%\" is invalid: [metadata.name: Invalid value: \"a/b%\": may "
            "not contain '/', metadata.name: Invalid value: \"a/b%\": may not contain '%']");
  auto dots = admin.post(kRbac + "/clusterroles", Json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1",
      "kind":"ClusterRole","metadata":{"name":".."},"rules":[]})"));
  EXPECT_EQ(dots.body["message"],
            "ClusterRole.rbac.authorization.k8s.io \"..\" is invalid: metadata.name: Invalid value: \"..\": may not be "
            "'..'");
}

// ---------------------------------------------------------------- access reviews

TEST(AccessReview, SubjectAccessReviewAnswersLikeKube) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  namespaceNamed(admin, "dev");
  configmapEditor(admin, "dev", R"([{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}])");
  auto allowed = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"user":"alice","resourceAttributes":{"verb":"create","resource":"configmaps","namespace":"dev"}}})"));
  ASSERT_EQ(allowed.status, 201) << allowed.raw;
  EXPECT_EQ(allowed.raw,
            R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{},)"
            R"("spec":{"resourceAttributes":{"namespace":"dev","verb":"create","resource":"configmaps"},"user":"alice"},)"
            R"("status":{"allowed":true,"reason":"RBAC: allowed by RoleBinding \"cm-editors/dev\" of Role \"cm-editor\" to User \"alice\""}})");
  auto denied = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"user":"alice","groups":["g1"],"resourceAttributes":{"verb":"create","resource":"configmaps","namespace":"prod"}}})"));
  ASSERT_EQ(denied.status, 201);
  EXPECT_EQ(plain(denied.body["status"]), nlohmann::json::parse(R"({"allowed":false})"));
  EXPECT_EQ(plain(denied.body["spec"]["groups"]), nlohmann::json::parse(R"(["g1"])"));
  // Only the groups given count: no system:authenticated is added.
  auto alone = admin.post(kSar, Json::parse(R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
      "spec":{"user":"alice","nonResourceAttributes":{"path":"/apis","verb":"get"}}})"));
  EXPECT_EQ(plain(alone.body["status"]), nlohmann::json::parse(R"({"allowed":false})"));
  auto withGroup = admin.post(kSar, Json::parse(R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
      "spec":{"user":"alice","groups":["system:authenticated"],"nonResourceAttributes":{"path":"/apis","verb":"get"}}})"));
  EXPECT_EQ(plain(withGroup.body["status"]), nlohmann::json::parse(R"({"allowed":true,
      "reason":"RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole \"system:discovery\" to Group \"system:authenticated\""})"));
  EXPECT_EQ(plain(withGroup.body["spec"]["nonResourceAttributes"]), nlohmann::json::parse(R"({"path":"/apis","verb":"get"})"));
  // system:masters is allowed by the privileged-group authorizer: no reason.
  auto master = admin.post(kSar, Json::parse(R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
      "spec":{"groups":["system:masters"],"resourceAttributes":{"verb":"delete","resource":"nodes","name":"n1"}}})"));
  EXPECT_EQ(plain(master.body["status"]), nlohmann::json::parse(R"({"allowed":true})"));
  // Service accounts by their user name; unknown fields are dropped from the echo.
  namespaceNamed(admin, "ops");
  configmapEditor(admin, "ops", R"([{"kind":"ServiceAccount","name":"bot"}])");
  auto sa = admin.post(kSar, Json::parse(R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
      "spec":{"user":"system:serviceaccount:ops:bot","unknown":1,
              "resourceAttributes":{"verb":"get","resource":"configmaps","namespace":"ops","name":"c","x":"y"}}})"));
  EXPECT_EQ(plain(sa.body["spec"]), nlohmann::json::parse(R"({"resourceAttributes":{"namespace":"ops","verb":"get",
      "resource":"configmaps","name":"c"},"user":"system:serviceaccount:ops:bot"})"));
  EXPECT_EQ(sa.body["status"]["reason"],
            "RBAC: allowed by RoleBinding \"cm-editors/ops\" of Role \"cm-editor\" to ServiceAccount \"bot/ops\"");
  // Never stored, create only.
  EXPECT_EQ(admin.get(kSar).status, 405);
  EXPECT_THROW(server.putObject(Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "metadata":{"name":"x"}})")),
               std::exception);
}

TEST(AccessReview, CreatingSubjectAccessReviewsNeedsPermission) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  namespaceNamed(admin, "dev");
  // A namespace admin: everything in "dev", nothing at the cluster scope.
  create(admin, kRbac + "/namespaces/dev/rolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"alice-admin"},
             "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}})");
  TestClient alice(server, "alice-token");
  EXPECT_EQ(alice.get("/api/v1/namespaces/dev/secrets").status, 200);
  auto r = alice.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods","namespace":"dev"}}})"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(plain(r.body), nlohmann::json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":"subjectaccessreviews.authorization.k8s.io is forbidden: User \"alice\" cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope",
      "reason":"Forbidden","details":{"group":"authorization.k8s.io","kind":"subjectaccessreviews"},"code":403})"));
  // In her namespace she may ask with a LocalSubjectAccessReview.
  auto local = alice.post("/apis/authorization.k8s.io/v1/namespaces/dev/localsubjectaccessreviews",
                          Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview",
      "spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods","namespace":"dev"}}})"));
  ASSERT_EQ(local.status, 201) << local.raw;
  EXPECT_EQ(plain(local.body), nlohmann::json::parse(R"({"kind":"LocalSubjectAccessReview","apiVersion":"authorization.k8s.io/v1",
      "metadata":{"namespace":"dev"},"spec":{"resourceAttributes":{"namespace":"dev","verb":"get","resource":"pods"},"user":"bob"},
      "status":{"allowed":false}})"));
  // The granting of a superuser ClusterRoleBinding makes the SAR pass.
  create(admin, kRbac + "/clusterrolebindings",
         R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"alice-delegator"},
             "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}})");
  EXPECT_EQ(alice.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods","namespace":"dev"}}})"))
                .status,
            201);
}

TEST(AccessReview, SelfSubjectAccessReviewUsesTheRequester) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  namespaceNamed(admin, "dev");
  configmapEditor(admin, "dev", R"([{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}])");
  TestClient bob(server, "bob-token");
  auto yes = bob.post(kSsar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"resourceAttributes":{"verb":"update","resource":"configmaps","namespace":"dev","name":"c"},"user":"ignored"}})"));
  ASSERT_EQ(yes.status, 201) << yes.raw;
  EXPECT_EQ(yes.raw,
            R"({"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{},)"
            R"("spec":{"resourceAttributes":{"namespace":"dev","verb":"update","resource":"configmaps","name":"c"}},)"
            R"("status":{"allowed":true,"reason":"RBAC: allowed by RoleBinding \"cm-editors/dev\" of Role \"cm-editor\" to Group \"devs\""}})");
  auto no = bob.post(kSsar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"resourceAttributes":{"verb":"list","resource":"secrets","namespace":"dev"}}})"));
  EXPECT_EQ(plain(no.body["status"]), nlohmann::json::parse(R"({"allowed":false})"));
  // The user's own groups count, system:authenticated included.
  auto discovery = bob.post(kSsar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"nonResourceAttributes":{"path":"/version","verb":"get"}}})"));
  EXPECT_EQ(discovery.body["status"]["allowed"], true);
  // The superuser: allowed without a reason.
  auto root = admin.post(kSsar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"resourceAttributes":{"verb":"*","group":"*","resource":"*"}}})"));
  EXPECT_EQ(plain(root.body["status"]), nlohmann::json::parse(R"({"allowed":true})"));
}

TEST(AccessReview, ValidationErrorsAreKubes422) {
  TestApiServer server(withUsers());
  TestClient admin(server);
  auto empty = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{}})"));
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(plain(empty.body), nlohmann::json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
      "message":".authorization.k8s.io \"\" is invalid: [spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: \"\": at least one of user or group must be specified]",
      "reason":"Invalid","details":{"group":"authorization.k8s.io","causes":[
        {"reason":"FieldValueInvalid","message":"Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified","field":"spec"},
        {"reason":"FieldValueInvalid","message":"Invalid value: \"\": at least one of user or group must be specified","field":"spec.user"}]},
      "code":422})"));
  auto both = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"user":"alice","resourceAttributes":{"verb":"get","resource":"pods"},"nonResourceAttributes":{"path":"/apis","verb":"get"}}})"));
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(both.body["message"],
            ".authorization.k8s.io \"\" is invalid: spec: Invalid value: {\"path\":\"/apis\",\"verb\":\"get\"}: exactly one of "
            "nonResourceAttributes or resourceAttributes must be specified");
  auto noUser = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
      "spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}})"));
  EXPECT_EQ(noUser.body["message"],
            ".authorization.k8s.io \"\" is invalid: spec.user: Invalid value: \"\": at least one of user or group must be "
            "specified");
  TestClient alice(server, "alice-token");
  auto self = alice.post(kSsar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{}})"));
  EXPECT_EQ(self.status, 422);
  EXPECT_EQ(self.body["message"],
            ".authorization.k8s.io \"\" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or "
            "resourceAttributes must be specified");
  auto local = admin.post("/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews",
                          Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview",
      "spec":{"user":"alice","resourceAttributes":{"verb":"get","resource":"pods","namespace":"other"}}})"));
  EXPECT_EQ(local.status, 422);
  EXPECT_EQ(local.body["message"],
            ".authorization.k8s.io \"\" is invalid: spec.resourceAttributes.namespace: Invalid value: \"other\": must "
            "match metadata.namespace");
  auto wrongKind = admin.post(kSar, Json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
      "spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}})"));
  EXPECT_EQ(wrongKind.status, 400);
}

TEST(AccessReview, SelfSubjectReviewShowsTheUser) {
  TestApiServer server(withUsers());
  TestClient bob(server, "bob-token");
  auto r = bob.post(kSsr, Json::parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})"));
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["kind"], "SelfSubjectReview");
  EXPECT_EQ(r.body["apiVersion"], "authentication.k8s.io/v1");
  EXPECT_TRUE(r.body["metadata"]["creationTimestamp"].is_string());
  EXPECT_EQ(plain(r.body["status"]),
            nlohmann::json::parse(R"({"userInfo":{"username":"bob","groups":["devs","system:authenticated"]}})"));
  TestClient admin(server);
  auto me = admin.post(kSsr, Json::object());
  EXPECT_EQ(plain(me.body["status"]["userInfo"]),
            nlohmann::json::parse(R"({"username":"admin","groups":["system:masters","system:authenticated"]})"));
}

TEST(AccessReview, DiscoveryListsTheReviewsCreateOnly) {
  TestApiServer server;
  TestClient c(server);
  auto authz = c.get("/apis/authorization.k8s.io/v1");
  ASSERT_EQ(authz.status, 200);
  EXPECT_EQ(plain(authz.body), nlohmann::json::parse(R"({"kind":"APIResourceList","apiVersion":"v1",
      "groupVersion":"authorization.k8s.io/v1","resources":[
      {"name":"localsubjectaccessreviews","singularName":"localsubjectaccessreview","namespaced":true,"kind":"LocalSubjectAccessReview","verbs":["create"]},
      {"name":"selfsubjectaccessreviews","singularName":"selfsubjectaccessreview","namespaced":false,"kind":"SelfSubjectAccessReview","verbs":["create"]},
      {"name":"subjectaccessreviews","singularName":"subjectaccessreview","namespaced":false,"kind":"SubjectAccessReview","verbs":["create"]}]})"));
  auto authn = c.get("/apis/authentication.k8s.io/v1");
  ASSERT_EQ(authn.status, 200);
  EXPECT_EQ(plain(authn.body["resources"]), nlohmann::json::parse(R"([
      {"name":"selfsubjectreviews","singularName":"selfsubjectreview","namespaced":false,"kind":"SelfSubjectReview","verbs":["create"]}])"));
  auto agg = c.get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  bool found = false;
  for (const auto& item : agg.body["items"])
    if (item["metadata"]["name"] == "authorization.k8s.io") {
      found = true;
      std::vector<std::string> names;
      for (const auto& r : item["versions"][0]["resources"]) {
        names.push_back(r["resource"].get<std::string>());
        EXPECT_EQ(r["verbs"], Json::array({"create"}));
      }
      EXPECT_EQ(names, (std::vector<std::string>{"localsubjectaccessreviews", "selfsubjectaccessreviews",
                                                 "subjectaccessreviews"}));
    }
  EXPECT_TRUE(found);
}

TEST(AccessReview, KubeconfigForAUserToken) {
  TestApiServer server(withUsers());
  std::string y = server.kubeconfigYaml("dev", "bob-token");
  EXPECT_NE(y.find("server: " + server.url()), std::string::npos);
  EXPECT_NE(y.find("certificate-authority-data: "), std::string::npos);
  EXPECT_NE(y.find("- name: bob\n  user:\n    token: bob-token\n"), std::string::npos) << y;
  EXPECT_NE(y.find("user: bob\n    namespace: dev\n"), std::string::npos) << y;
  EXPECT_EQ(y.find(server.token()), std::string::npos);
  auto path = std::filesystem::temp_directory_path() / ("kc-sa-" + std::to_string(server.port()) + ".yaml");
  server.writeKubeconfig(path.string(), "ops", "sa-token");
  std::ifstream f(path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("- name: \"system:serviceaccount:ops:bot\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("token: sa-token\n"), std::string::npos);
  std::filesystem::remove(path);
  // The superuser's kubeconfig is unchanged.
  EXPECT_EQ(server.kubeconfigYaml("dev", server.token()), server.kubeconfigYaml("dev"));
  EXPECT_NE(server.kubeconfigYaml().find("- name: test\n  user:\n    token: " + server.token()), std::string::npos);
}

}  // namespace
}  // namespace otel::testing
