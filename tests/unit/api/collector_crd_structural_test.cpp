// deploy/crds are structural schemas, which kube-apiserver requires of apiextensions.k8s.io/v1 CRDs
// (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
// #specifying-a-structural-schema): a type on every node unless int-or-string or preserve-unknown-fields,
// no properties together with additionalProperties, no type/default/nullable/additionalProperties inside
// allOf/anyOf/oneOf/not, metadata restricted at most in name and generateName, enum values and defaults
// of the node's type, and list-type map keys that are required or defaulted.
#include <gtest/gtest.h>

#include <filesystem>

#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace fs = std::filesystem;

namespace otel {
namespace {

bool ofType(const Json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

void check(const Json& s, const std::string& path, bool inJunctor, std::vector<std::string>& errors) {
  auto fail = [&](const std::string& what) { errors.push_back(path + ": " + what); };
  if (!s.is_object()) return fail("schema is not an object");
  bool intOrString = s.value("x-kubernetes-int-or-string", false);
  bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
  std::string type = s.value("type", "");
  if (inJunctor) {
    for (const char* k : {"type", "default", "nullable", "additionalProperties", "description"})
      if (s.contains(k)) fail(std::string(k) + " inside allOf/anyOf/oneOf/not");
  } else if (type.empty() && !intOrString && !preserve) {
    fail("no type");
  }
  if (intOrString && !type.empty()) fail("x-kubernetes-int-or-string with a type");
  if (s.contains("properties") && s.contains("additionalProperties"))
    fail("properties and additionalProperties together");
  if (s.contains("enum"))
    for (const auto& e : s["enum"])
      if (!type.empty() && !ofType(e, type)) fail("enum value " + e.dump() + " is not of type " + type);
  if (s.contains("default") && !type.empty() && !ofType(s["default"], type))
    fail("default " + s["default"].dump() + " is not of type " + type);
  if (s.value("x-kubernetes-list-type", "") == "map") {
    const Json items = s.value("items", Json::object());
    const Json keys = s.value("x-kubernetes-list-map-keys", Json::array());
    const Json req = items.value("required", Json::array());
    for (const auto& key : keys) {
      std::string k = key.get<std::string>();
      bool required = false;
      for (const auto& r : req) required = required || r == k;
      bool defaulted = items.contains("properties") && items["properties"].contains(k) &&
                       items["properties"][k].contains("default");
      if (!required && !defaulted) fail("list map key " + k + " is neither required nor defaulted");
    }
  }
  if (s.contains("properties"))
    for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
      check(it.value(), path + "." + it.key(), inJunctor, errors);
  if (s.contains("additionalProperties") && s["additionalProperties"].is_object())
    check(s["additionalProperties"], path + ".*", inJunctor, errors);
  if (s.contains("items")) check(s["items"], path + "[]", inJunctor, errors);
  for (const char* j : {"allOf", "anyOf", "oneOf"})
    if (s.contains(j))
      for (const auto& sub : s[j])
        if (!(intOrString && sub.size() == 1 && sub.contains("type")))  // the int-or-string anyOf pattern
          check(sub, path + "(" + j + ")", true, errors);
  if (s.contains("not")) check(s["not"], path + "(not)", true, errors);
}

TEST(Crds, StructuralCheckFindsViolations) {
  Json bad = parseYaml(R"({type: object, properties: {
      a: {description: no type},
      b: {type: object, properties: {x: {type: string}}, additionalProperties: {type: string}},
      c: {type: string, enum: [x, 1], default: 2},
      d: {x-kubernetes-int-or-string: true, type: string},
      e: {type: object, anyOf: [{type: object}]},
      f: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [name],
          items: {type: object, properties: {name: {type: string}}}},
      ok: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]},
      free: {x-kubernetes-preserve-unknown-fields: true}}})");
  std::vector<std::string> errors;
  check(bad, "t", false, errors);
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_EQ(all,
            "t.a: no type\n"
            "t.b: properties and additionalProperties together\n"
            "t.c: enum value 1 is not of type string\n"
            "t.c: default 2 is not of type string\n"
            "t.d: x-kubernetes-int-or-string with a type\n"
            "t.e(anyOf): type inside allOf/anyOf/oneOf/not\n"
            "t.f: list map key name is neither required nor defaulted\n");
}

TEST(Crds, SchemasAreStructural) {
  int crds = 0;
  for (const auto& e : fs::directory_iterator(fs::path(OTEL_SOURCE_DIR) / "deploy" / "crds")) {
    for (const auto& d : readManifests({e.path().string()}, false)) {
      ++crds;
      const Json& crd = d.value;
      EXPECT_EQ(crd["apiVersion"], "apiextensions.k8s.io/v1") << e.path();
      int storage = 0;
      for (const auto& v : crd["spec"]["versions"]) {
        storage += v.value("storage", false) ? 1 : 0;
        const Json& root = v["schema"]["openAPIV3Schema"];
        std::vector<std::string> errors;
        check(root, e.path().filename().string() + ":" + v.value("name", ""), false, errors);
        if (root.contains("properties") && root["properties"].contains("metadata")) {
          const Json mp = root["properties"]["metadata"].value("properties", Json::object());
          for (auto it = mp.begin(); it != mp.end(); ++it)
            if (it.key() != "name" && it.key() != "generateName")
              errors.push_back(e.path().filename().string() + ": metadata restricts " + it.key());
        }
        EXPECT_EQ(root.value("type", ""), "object") << e.path();
        for (const auto& err : errors) ADD_FAILURE() << err;
      }
      EXPECT_EQ(storage, 1) << e.path() << ": exactly one storage version";
    }
  }
  EXPECT_EQ(crds, 4);
}

}  // namespace
}  // namespace otel
