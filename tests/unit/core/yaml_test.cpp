#include "lib/core/yaml.h"

#include <gtest/gtest.h>

#include "lib/core/error.h"

namespace otel {
namespace {

TEST(Yaml, Yaml11ScalarsAsKubectlReadsThem) {
  Json v = parseYaml(R"(
a: yes
b: on
c: "on"
d: 'true'
e: 10
f: "10"
g: 1.5
h: ~
i: null
j: 0x1F
k: 0777
l: Off
m: y
n1: 1e3
o: 2001-12-14
p: -7
q: hello world
r:
s: 1_000
)");
  EXPECT_EQ(v["a"], true);
  EXPECT_EQ(v["b"], true);
  EXPECT_EQ(v["c"], "on");
  EXPECT_EQ(v["d"], "true");
  EXPECT_TRUE(v["e"].is_number_integer());
  EXPECT_EQ(v["e"], 10);
  EXPECT_EQ(v["f"], "10");
  EXPECT_TRUE(v["g"].is_number_float());
  EXPECT_DOUBLE_EQ(v["g"].get<double>(), 1.5);
  EXPECT_TRUE(v["h"].is_null());
  EXPECT_TRUE(v["i"].is_null());
  EXPECT_EQ(v["j"], 31);
  EXPECT_EQ(v["k"], 511);
  EXPECT_EQ(v["l"], false);
  EXPECT_EQ(v["m"], true);
  EXPECT_TRUE(v["n1"].is_number_float());
  EXPECT_EQ(v["o"], "2001-12-14");  // go-yaml v2 keeps timestamps as strings for interface{}
  EXPECT_EQ(v["p"], -7);
  EXPECT_EQ(v["q"], "hello world");
  EXPECT_TRUE(v["r"].is_null());
  EXPECT_EQ(v["s"], 1000);
}

TEST(Yaml, KeepsKeyOrder) {
  Json v = parseYaml("z: 1\na: 2\nm: 3\n");
  std::vector<std::string> keys;
  for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
}

TEST(Yaml, NonStringKeysBecomeStrings) {
  Json v = parseYaml("on: 1\n8080: x\n");
  EXPECT_TRUE(v.contains("true"));
  EXPECT_TRUE(v.contains("8080"));
  // go-yaml v2 resolves the keys y and n as booleans too (a known kubectl gotcha).
  Json w = parseYaml("y: 1\nn: 2\n");
  EXPECT_TRUE(w.contains("true"));
  EXPECT_TRUE(w.contains("false"));
}

TEST(Yaml, ExplicitTags) {
  Json v = parseYaml("a: !!str 10\nb: !!int \"12\"\nc: !!float 3\n");
  EXPECT_EQ(v["a"], "10");
  EXPECT_EQ(v["b"], 12);
  EXPECT_TRUE(v["c"].is_number_float());
}

TEST(Yaml, MultiDocumentStreamAndLists) {
  auto docs = parseYamlStream(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  "
      "apiVersion: v1\n- kind: Service\n  apiVersion: v1\n",
      "f.yaml");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_TRUE(docs[1].value.is_null());
  EXPECT_EQ(docs[2].index, 2);
  EXPECT_EQ(docs[2].line, 6);
  auto flat = flattenLists(docs);
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0].value["kind"], "ConfigMap");
  EXPECT_EQ(flat[1].value["kind"], "Pod");
  EXPECT_EQ(flat[2].value["kind"], "Service");
  EXPECT_EQ(flat[2].source, "f.yaml");
}

TEST(Yaml, ErrorsNameFileDocumentLineAndColumn) {
  try {
    parseYamlStream("a: 1\n---\nb: [1, 2\nc: 3\n", "bad.yaml");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string w = e.oneLine();
    EXPECT_NE(w.find("bad.yaml"), std::string::npos) << w;
    EXPECT_NE(w.find("document 1"), std::string::npos) << w;
    EXPECT_NE(w.find("line "), std::string::npos) << w;
    EXPECT_NE(w.find("column "), std::string::npos) << w;
    EXPECT_EQ(w.find('\n'), std::string::npos);
  }
}

TEST(Yaml, DuplicateKeyIsAnError) {
  EXPECT_THROW(parseYaml("a: 1\na: 2\n", "dup.yaml"), Error);
}

TEST(Yaml, ScalarsAtTopLevelOfAStreamAreRejectedByFlatten) {
  auto docs = parseYamlStream("just a string\n", "s.yaml");
  EXPECT_THROW(flattenLists(docs), Error);
}

TEST(YamlWrite, QuotesStringsThatWouldChangeType) {
  for (const char* s : {"on", "yes", "y", "N", "off", "true", "123", "1.0", "0x10", "08", ".inf", "2001-12-14", "null",
                        "~", "", "1e3", "-", "- x", "a: b", "#x", " lead", "trail ", "@x", "*x", "&x", "!x", "%x", "[x",
                        "{x", "x #y", "12:30"}) {
    EXPECT_TRUE(yamlNeedsQuotes(s)) << s;
    Json v = {{"k", s}};
    std::string out = toYaml(v);
    Json back = parseYaml(out);
    EXPECT_EQ(back["k"], s) << out;
  }
  for (const char* s : {"hello", "otc-container", "http://x:4317", "a-b_c.d", "0.0.0.0:4317", "${env:X}"}) {
    EXPECT_FALSE(yamlNeedsQuotes(s)) << s;
  }
}

// gopkg.in/yaml.v2 (kubectl, sigs.k8s.io/yaml, upstream's targetallocator.yaml): double quotes when the
// text would read back as another type, single quotes when it only cannot be plain.
TEST(YamlWrite, QuoteStylesAsYamlV2) {
  Json v = Json::parse(R"j({"a":"8080","b":"yes","c":"a: b","d":"#x","e":"-x","f":"","g":"null","h":"1e3","i":"~",
    "j":" lead","k":"*star","l":"it's: here","m":"tab\there","n":"--- doc","o":"(.*)","p":"$1"})j");
  EXPECT_EQ(toYaml(v),
            "a: \"8080\"\nb: \"yes\"\nc: 'a: b'\nd: '#x'\ne: -x\nf: \"\"\ng: \"null\"\nh: \"1e3\"\ni: \"~\"\n"
            "j: ' lead'\nk: '*star'\nl: 'it''s: here'\nm: \"tab\\there\"\n\"n\": '--- doc'\no: (.*)\np: $1\n");
  EXPECT_EQ(parseYaml(toYaml(v)), v);
  EXPECT_EQ(toYaml(Json{{"a: b", 1}, {"true", 2}}), "'a: b': 1\n\"true\": 2\n");
  EXPECT_EQ(toYaml(Json{{"k\tx", 1}, {"plain", 2}}), "\"k\\tx\": 1\nplain: 2\n");  // keys: same styles
}

TEST(YamlWrite, KubectlStyleLayout) {
  Json v = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"annotations":{}},
    "spec":{"containers":[{"name":"c","ports":[{"containerPort":80}],"args":["--x","on"]}],"volumes":[]}})");
  std::string expected = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    a: b
  annotations: {}
spec:
  containers:
  - name: c
    ports:
    - containerPort: 80
    args:
    - --x
    - "on"
  volumes: []
)";
  EXPECT_EQ(toYaml(v), expected);
}

TEST(YamlWrite, MultilineStringsAsLiteralBlocks) {
  Json v = {{"config", "receivers:\n  otlp:\n    protocols:\n      grpc: {}\n"}, {"noeol", "a\nb"}, {"two", "x\n\n"}};
  std::string out = toYaml(v);
  EXPECT_NE(out.find("config: |\n  receivers:\n    otlp:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("noeol: |-\n  a\n  b\n"), std::string::npos) << out;
  Json back = parseYaml(out);
  EXPECT_EQ(back, v);
}

TEST(YamlWrite, RoundTripKeepsTypesAndOrder) {
  Json v = Json::parse(R"({"z":1,"a":[1,2.5,"3",true,null,{"q":"yes"}],"n":{"x":[[1,2],[]],"y":{}},
    "s":"tab\there","u":"naïve ✓","neg":-3})");
  Json back = parseYaml(toYaml(v));
  EXPECT_EQ(back, v);
  EXPECT_EQ(back.begin().key(), "z");
}

TEST(YamlWrite, Stream) {
  std::string s = toYamlStream({Json{{"a", 1}}, Json{{"b", 2}}});
  EXPECT_EQ(s, "a: 1\n---\nb: 2\n");
  auto docs = parseYamlStream(s);
  ASSERT_EQ(docs.size(), 2u);
}

}  // namespace
}  // namespace otel
