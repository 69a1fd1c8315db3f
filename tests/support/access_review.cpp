#include "tests/support/access_review.h"

#include <optional>
#include <vector>

#include "tests/support/api_logic.h"

namespace otel::testing {
namespace {

const char* kindName(ReviewKind k) {
  switch (k) {
    case ReviewKind::SubjectAccessReview: return "SubjectAccessReview";
    case ReviewKind::SelfSubjectAccessReview: return "SelfSubjectAccessReview";
    case ReviewKind::LocalSubjectAccessReview: return "LocalSubjectAccessReview";
  }
  return "";
}

// field.Invalid(path, value, detail): the value rendered as JSON (null for a nil pointer).
FieldError invalid(const std::string& field, const Json& value, const std::string& detail) {
  return {field, "Invalid value: " + value.dump() + ": " + detail, "FieldValueInvalid"};
}

FieldError required(const std::string& field, const std::string& detail) {
  return {field, "Required value: " + detail, "FieldValueRequired"};
}

bool present(const Json& obj, const char* field) {
  return obj.is_object() && obj.contains(field) && obj[field].is_object();
}

bool emptyValue(const Json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_object() && v.empty()) ||
         (v.is_array() && v.empty()) || (v.is_number() && v == 0);
}

// A selector attribute (fieldSelector / labelSelector) as the v1 type encodes it.
Json selectorOut(const Json& in) {
  Json out = Json::object();
  std::string raw = stringField(in, "rawSelector");
  if (!raw.empty()) out["rawSelector"] = raw;
  if (in.contains("requirements") && in["requirements"].is_array() && !in["requirements"].empty())
    out["requirements"] = in["requirements"];
  return out;
}

// v1.ResourceAttributes: namespace, verb, group, version, resource, subresource, name, fieldSelector,
// labelSelector (all omitempty).
Json resourceAttributesOut(const Json& in) {
  Json out = Json::object();
  for (const char* k : {"namespace", "verb", "group", "version", "resource", "subresource", "name"})
    if (!stringField(in, k).empty()) out[k] = stringField(in, k);
  for (const char* k : {"fieldSelector", "labelSelector"})
    if (present(in, k)) out[k] = selectorOut(in[k]);
  return out;
}

Json nonResourceAttributesOut(const Json& in) {
  Json out = Json::object();
  for (const char* k : {"path", "verb"})
    if (!stringField(in, k).empty()) out[k] = stringField(in, k);
  return out;
}

// The spec as kube re-encodes it: SubjectAccessReviewSpec {resourceAttributes, nonResourceAttributes, user,
// groups, extra, uid}; a SelfSubjectAccessReviewSpec has only the two attribute fields.
Json specOut(ReviewKind kind, const Json& spec) {
  Json out = Json::object();
  if (present(spec, "resourceAttributes"))
    out["resourceAttributes"] = resourceAttributesOut(spec["resourceAttributes"]);
  if (present(spec, "nonResourceAttributes"))
    out["nonResourceAttributes"] = nonResourceAttributesOut(spec["nonResourceAttributes"]);
  if (kind == ReviewKind::SelfSubjectAccessReview) return out;
  if (!stringField(spec, "user").empty()) out["user"] = stringField(spec, "user");
  auto groups = stringList(spec, "groups");
  if (!groups.empty()) out["groups"] = groups;
  if (present(spec, "extra") && !spec["extra"].empty()) out["extra"] = spec["extra"];
  if (!stringField(spec, "uid").empty()) out["uid"] = stringField(spec, "uid");
  return out;
}

void validateSelector(const Json& attrs, const char* name, std::vector<FieldError>& errs) {
  if (!present(attrs, name)) return;
  const Json& sel = attrs[name];
  std::string path = std::string("spec.resourceAttributes.") + name;
  std::string raw = stringField(sel, "rawSelector");
  bool hasRequirements = sel.contains("requirements") && sel["requirements"].is_array() && !sel["requirements"].empty();
  if (!raw.empty() && hasRequirements)
    errs.push_back(invalid(path + ".rawSelector", Json(raw), "may not specified at the same time as requirements"));
  if (raw.empty() && !hasRequirements)
    errs.push_back(
        required(path + ".requirements", "when " + path + " is specified, requirements or rawSelector is required"));
}

// The create handler's decoding of a body of another kind into the expected type.
std::optional<ReviewAnswer> kindMismatch(const Json& body, const std::string& expected,
                                         const std::string& internalGroup) {
  std::string kind = stringField(body, "kind");
  if (kind.empty() || kind == expected) return std::nullopt;
  std::string apiVersion = stringField(body, "apiVersion");
  std::string version = apiVersion.substr(apiVersion.find('/') == std::string::npos ? 0 : apiVersion.find('/') + 1);
  std::string msg = kind + " in version " + goQuote(version) + " cannot be handled as a " + expected +
                    ": converting (" + version + "." + kind + ") to (" + internalGroup + "." + expected +
                    "): unknown conversion";
  return ReviewAnswer{400, statusBody(400, "BadRequest", msg)};
}

}  // namespace

ReviewAnswer accessReview(ReviewKind kind, const Json& body, const std::string& urlNamespace,
                          const UserInfo& requester, const RbacPolicy& policy) {
  if (auto e = kindMismatch(body, kindName(kind), "authorization")) return *e;
  Json metadata = body.is_object() && body.contains("metadata") && body["metadata"].is_object() ? body["metadata"]
                                                                                                : Json::object();
  metadata.erase("managedFields");
  std::string bodyNs = stringField(metadata, "namespace");
  if (kind == ReviewKind::LocalSubjectAccessReview) {
    // EnsureObjectNamespaceMatchesRequestNamespace
    if (!bodyNs.empty() && bodyNs != urlNamespace)
      return {400, statusBody(400, "BadRequest",
                              "the namespace of the provided object does not match the namespace sent on the request")};
    metadata["namespace"] = urlNamespace;
  } else {
    metadata.erase("namespace");
  }
  Json spec = body.is_object() && body.contains("spec") && body["spec"].is_object() ? body["spec"] : Json::object();
  Json out = specOut(kind, spec);

  std::vector<FieldError> errs;
  const char* unionMsg = "exactly one of nonResourceAttributes or resourceAttributes must be specified";
  bool hasResource = out.contains("resourceAttributes"), hasNonResource = out.contains("nonResourceAttributes");
  if (hasResource && hasNonResource) errs.push_back(invalid("spec", out["nonResourceAttributes"], unionMsg));
  if (!hasResource && !hasNonResource) errs.push_back(invalid("spec", Json(), unionMsg));
  if (kind != ReviewKind::SelfSubjectAccessReview && !out.contains("user") && !out.contains("groups"))
    errs.push_back(invalid("spec.user", Json(""), "at least one of user or group must be specified"));
  if (hasResource) {
    validateSelector(out["resourceAttributes"], "fieldSelector", errs);
    validateSelector(out["resourceAttributes"], "labelSelector", errs);
  }
  Json metaRest = metadata;
  if (kind == ReviewKind::LocalSubjectAccessReview) metaRest.erase("namespace");
  bool metaEmpty = true;
  for (auto& [k, v] : metaRest.items()) metaEmpty = metaEmpty && emptyValue(v);
  if (!metaEmpty)
    errs.push_back(invalid("metadata", metadata,
                           kind == ReviewKind::LocalSubjectAccessReview ? "must be empty except for namespace"
                                                                        : "must be empty"));
  if (kind == ReviewKind::LocalSubjectAccessReview) {
    if (hasResource && stringField(out["resourceAttributes"], "namespace") != urlNamespace)
      errs.push_back(invalid("spec.resourceAttributes.namespace", Json(stringField(out["resourceAttributes"], "namespace")),
                             "must match metadata.namespace"));
    if (hasNonResource)
      errs.push_back(
          invalid("spec.nonResourceAttributes", out["nonResourceAttributes"], "disallowed on this kind of request"));
  }
  // NewInvalid(authorization.Kind(""), "", errs): the review decoded into the internal type has no kind, so the
  // message starts with ".authorization.k8s.io".
  if (!errs.empty()) return {422, invalidStatus(".authorization.k8s.io", "authorization.k8s.io", "", "", errs)};

  UserInfo subject = requester;
  if (kind != ReviewKind::SelfSubjectAccessReview) {
    subject = UserInfo{stringField(out, "user"), stringList(out, "groups"), {}};
  }
  AuthzAttributes a;
  if (hasResource) {
    const Json& ra = out["resourceAttributes"];
    a.resourceRequest = true;
    a.verb = stringField(ra, "verb");
    a.ns = stringField(ra, "namespace");
    a.apiGroup = stringField(ra, "group");
    a.apiVersion = stringField(ra, "version").empty() ? "*" : stringField(ra, "version");
    a.resource = stringField(ra, "resource");
    a.subresource = stringField(ra, "subresource");
    a.name = stringField(ra, "name");
  } else {
    const Json& na = out["nonResourceAttributes"];
    a.path = stringField(na, "path");
    a.verb = stringField(na, "verb");
  }
  AuthzDecision d = authorize(policy, subject, a);
  Json status = Json::object();
  status["allowed"] = d.allowed;
  if (!d.reason.empty()) status["reason"] = d.reason;
  Json review = Json::object();
  review["kind"] = kindName(kind);
  review["apiVersion"] = "authorization.k8s.io/v1";
  Json m = Json::object();
  if (kind == ReviewKind::LocalSubjectAccessReview) m["namespace"] = urlNamespace;
  review["metadata"] = m;
  review["spec"] = out;
  review["status"] = status;
  return {201, review};
}

ReviewAnswer selfSubjectReview(const Json& body, const UserInfo& requester, const std::string& now) {
  if (auto e = kindMismatch(body, "SelfSubjectReview", "authentication")) return *e;
  Json review = Json::object();
  review["kind"] = "SelfSubjectReview";
  review["apiVersion"] = "authentication.k8s.io/v1";
  review["metadata"] = Json{{"creationTimestamp", now}};
  review["status"] = Json{{"userInfo", userInfoJson(requester)}};
  return {201, review};
}

}  // namespace otel::testing
