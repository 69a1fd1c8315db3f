// Pure helpers of the test API server: Status bodies, selectors, patches, field ownership (managedFields),
// name validation and CRD schema validation/pruning. No I/O; tested through the server's unit tests.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::testing {

// A Status body (kind Status, apiVersion v1) as kube-apiserver writes it. details null = omitted.
Json statusBody(int code, const std::string& reason, const std::string& message, const Json& details = Json());
Json statusSuccess(const Json& details);

// Go's %q of a string (strconv.Quote, used in kube's messages): \" and \\, the escapes \a \b \f \n \r \t \v,
// other ASCII control bytes as lower-case \xHH. Bytes >= 0x80 are copied (Go also escapes invalid UTF-8 and
// non-printable runes; names in tests have neither).
std::string goQuote(const std::string& s);

// utilerrors.NewAggregate(errs).Error(): one message as is; several deduplicated, and in brackets
// ("[a, b]") when more than one remains.
std::string aggregateErrors(const std::vector<std::string>& messages);

// A boolean query parameter as kube decodes it (runtime.Convert_Slice_string_To_bool): false only for "0" and
// "false" in any case; any other value, the empty one included, is true. An absent parameter is false.
bool queryParamTrue(const std::string& value);

// A parse error in a selector or patch: the message for a 400/422 Status.
struct LogicError {
  std::string message;
};

// ---- selectors ----
struct LabelRequirement {
  std::string key;
  std::string op;  // "=", "!=", "in", "notin", "exists", "!exists"
  std::vector<std::string> values;
};
using LabelSelector = std::vector<LabelRequirement>;
// Parses "a=b,c!=d,e in (x,y),!f,g". Returns std::nullopt and sets error when invalid.
std::optional<LabelSelector> parseLabelSelector(const std::string& text, std::string& error);
bool matchLabels(const LabelSelector& selector, const Json& labels);
// metav1.LabelSelector in JSON form (matchLabels, matchExpressions); null/absent selects everything.
bool matchLabelSelectorJson(const Json& selector, const Json& labels);

struct FieldRequirement {
  std::string path;  // "metadata.name"
  bool equal = true;
  std::string value;
};
std::optional<std::vector<FieldRequirement>> parseFieldSelector(const std::string& text, std::string& error);
bool matchFields(const std::vector<FieldRequirement>& selector, const Json& object);

// ---- patches ----
// RFC 7386 merge patch (null deletes).
Json applyMergePatch(const Json& target, const Json& patch);
// A subset of Kubernetes strategic merge patch without schemas: maps merge as in a merge patch; a list of
// objects is merged by key when the patch names the key through `$setElementOrder/<field>` (as kubectl
// does) or when every patch element has a "name"; `{"$patch":"delete"}` elements remove, `$setElementOrder`
// orders, `$patch: replace` on a map replaces it, `$deleteFromPrimitiveList/<field>` removes values;
// every other list is replaced.
Json applyStrategicMergePatch(const Json& target, const Json& patch);
// RFC 6902 JSON patch. Throws LogicError on failure.
Json applyJsonPatch(const Json& target, const Json& patch);

// ---- field ownership (simplified structured-merge-diff: arrays are atomic) ----
using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;
// Leaf paths of the user-settable parts of an object (metadata.labels/annotations/finalizers/ownerReferences,
// and everything outside metadata except apiVersion/kind; status only when includeStatus).
FieldSet leafFields(const Json& object, bool includeStatus);
Json fieldsToJson(const FieldSet& fields);
FieldSet fieldsFromJson(const Json& fieldsV1);
// The value at a path, or nullptr when absent.
const Json* valueAt(const Json& object, const FieldPath& path);
void removeAt(Json& object, const FieldPath& path);
std::string fieldPathString(const FieldPath& path);  // ".data.a"
// Deep merge of an applied configuration into an object: maps merge, everything else replaces.
void deepMerge(Json& into, const Json& applied);

// ---- validation ----
// "" when valid, otherwise the validation message (without the "Invalid value" prefix).
std::string validateDnsSubdomain(const std::string& name);
std::string validateDnsLabel(const std::string& name);
// path.IsValidPathSegmentName (RBAC object names; the name a field selector may stand for in authorization):
// kube's messages ("may not be '.'", "may not contain '/'", "may not contain '%'"), none when valid.
std::vector<std::string> pathSegmentNameErrors(const std::string& name);

struct FieldError {
  std::string field;
  std::string message;  // full message, e.g. `Invalid value: 0: spec.size in body should be ...`
  std::string reason = "FieldValueInvalid";
};
// Validates an object against a CRD openAPIV3Schema (types, minimum/maximum, enum, required, pattern-free)
// and prunes unknown fields (honouring x-kubernetes-preserve-unknown-fields); metadata/apiVersion/kind kept.
// `pruned` (when given) receives the paths of the pruned fields ("spec.junk"), for fieldValidation.
std::vector<FieldError> validateAndPrune(Json& object, const Json& schema, std::vector<std::string>* pruned = nullptr);
// The 422 Invalid Status for a list of field errors, as apierrors.NewInvalid writes it:
// `<kindForMessage> "<name>" is invalid: <aggregate of "field: message">`, details {name, group, kind, causes}
// (empty name, group and kind omitted).
Json invalidStatus(const std::string& kindForMessage, const std::string& group, const std::string& kind,
                   const std::string& name, const std::vector<FieldError>& errors);

// ---- misc ----
std::string nowRfc3339();
std::string newUid();
std::string randomSuffix(int n);  // generateName suffix alphabet
std::string base64UrlNoPad(const std::string& data);
std::optional<std::string> base64UrlNoPadDecode(const std::string& data);
std::string base64Std(const std::string& data);
std::optional<std::string> base64StdDecode(const std::string& data);
// Kubernetes version priority comparison: true when a sorts before b (v1 > v1beta2 > v1beta1 > v1alpha1 > other).
bool versionBefore(const std::string& a, const std::string& b);
// A YAML or JSON document to JSON (JSON first; YAML via yaml-cpp with YAML 1.1 scalars). Throws LogicError.
Json parseJsonOrYaml(const std::string& text);

}  // namespace otel::testing
