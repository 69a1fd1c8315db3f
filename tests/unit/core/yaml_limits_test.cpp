// The YAML reader's bounds (issue 14): alias budget as go-yaml's, nesting depth, document and stream
// size, and the memory a legitimate large document with many anchors takes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lib/core/files.h"
#include "lib/core/yaml.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/peak_memory.h"

namespace otel {
namespace {

using testing::aliasBomb;
using testing::anchoredEntries;
using testing::deepBlock;
using testing::deepFlow;
using testing::measureInChild;

std::string refusal(std::string_view text, const std::string& source = "in.yaml", const YamlLimits& limits = {}) {
  try {
    parseYamlStream(text, source, limits);
  } catch (const YamlLimitError& e) {
    return "limit: " + e.oneLine();
  } catch (const Error& e) {
    return "error: " + e.oneLine();
  }
  return "accepted";
}

TEST(YamlLimits, GoYamlAliasRatio) {
  EXPECT_FALSE(yamlExcessiveAliasing(1000, 999));  // small documents are never refused
  EXPECT_FALSE(yamlExcessiveAliasing(100000, 100));
  EXPECT_TRUE(yamlExcessiveAliasing(1001, 992));   // 99.1% > 99%
  EXPECT_FALSE(yamlExcessiveAliasing(400000, 396000));
  EXPECT_TRUE(yamlExcessiveAliasing(400000, 396001));
  EXPECT_FALSE(yamlExcessiveAliasing(2200000, 0.544 * 2200000));  // 0.99 - 0.89 * 0.5 = 0.545
  EXPECT_TRUE(yamlExcessiveAliasing(2200000, 0.546 * 2200000));
  EXPECT_FALSE(yamlExcessiveAliasing(10000000, 1000000));
  EXPECT_TRUE(yamlExcessiveAliasing(10000000, 1000001));
}

TEST(YamlLimits, TheIssuesAliasBombIsRefusedAtOnceInLittleMemory) {
  std::string bomb = aliasBomb();
  EXPECT_EQ(bomb.size(), 282u);
  EXPECT_EQ(refusal(bomb, "bomb.yaml"),
            "limit: bomb.yaml (document 0) line 5 column 17: yaml: document contains excessive aliasing");
  auto m = measureInChild([&] { return refusal(bomb); });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result.rfind("limit: ", 0), 0u) << m.result;
  OTEL_EXPECT_MEMORY_LT(m.growthKb(), 2048) << "peak " << m.peakKb << " kB from " << m.baselineKb << " kB";
}

TEST(YamlLimits, AnchorsAndAliasesKeepTheirValues) {
  auto docs = parseYamlStream(R"(base: &base {a: 1, list: [x, &s "two", {deep: &d [1, 2]}]}
copy: *base
inner: *d
str: *s
? &k name
: value
---
- &top {num: 1}
- *top
)");
  ASSERT_EQ(docs.size(), 2u);
  const Json& v = docs[0].value;
  EXPECT_EQ(v["copy"], v["base"]);
  EXPECT_EQ(v["inner"], Json::parse("[1,2]"));
  EXPECT_EQ(v["str"], "two");
  EXPECT_EQ(v["name"], "value");
  EXPECT_EQ(v.size(), 5u) << v.dump();
  EXPECT_EQ(docs[1].value, Json::parse(R"([{"num":1},{"num":1}])"));
}

// Found by fuzz/scrape_config (a mutated JSON fixture): yaml-cpp made empty documents at one place forever.
TEST(YamlLimits, AStrayTokenAfterADocumentEndsTheStream) {
  EXPECT_EQ(refusal("[1]\n, 2\n", "s.yaml"), "error: s.yaml (document 1) line 2 column 1: yaml: did not find expected <document start>");
  EXPECT_EQ(refusal("a: 1\n---\n[1]\n, 2\n", "s.yaml").substr(0, 31), "error: s.yaml (document 2) line");
}

TEST(YamlLimits, AnAliasToItsOwnAnchorIsRefused) {
  EXPECT_NE(refusal("a: &a [1, *a]\n").find("anchor 'a' value contains itself"), std::string::npos);
}

TEST(YamlLimits, AliasesAsKeysAndDuplicates) {
  EXPECT_NE(refusal("? &k name\n: 1\n*k : 2\n").find("mapping key \"name\" already defined"), std::string::npos);
  EXPECT_NE(refusal("a: &m {x: 1}\n*m : 2\n").find("a mapping key must be a scalar"), std::string::npos);
}

TEST(YamlLimits, ManyKeysStayFastAndDuplicatesAreFound) {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  Json v = parseYaml(s);
  EXPECT_EQ(v.size(), 200000u);
  EXPECT_EQ(v["k199999"], 199999);
  EXPECT_NE(refusal(s + "k17: again\n").find("mapping key \"k17\" already defined"), std::string::npos);
}

TEST(YamlLimits, NestingDeeperThanKubectlsLimitGetsKubectlsWords) {
  EXPECT_EQ(refusal(deepFlow(100000), "deep.yaml"),
            "limit: deep.yaml (document 0): yaml: exceeded max depth of 10000");
  EXPECT_EQ(refusal(deepBlock(100000), "deep.yaml"),
            "limit: deep.yaml (document 0): yaml: exceeded max depth of 10000");
  auto m = measureInChild([&] { return refusal(deepFlow(100000)); });
  ASSERT_TRUE(m.ok);
  OTEL_EXPECT_MEMORY_LT(m.growthKb(), 10 * 200 + 4096);  // 10x its 200 kB, plus a constant
}

TEST(YamlLimits, NestingBeyondTheLibrarysLimitIsSaidSo) {
  EXPECT_EQ(parseYaml(deepFlow(kYamlLibraryMaxDepth)).dump().size(), 2u * kYamlLibraryMaxDepth);
  EXPECT_EQ(refusal(deepFlow(600), "d.yaml"),
            "limit: d.yaml (document 0) line 2 column 1: yaml: exceeded max depth of 499 (the YAML library's "
            "limit; kubectl's is 10000)");
  std::string docs = "a: 1\n---\n" + deepFlow(20000);
  EXPECT_NE(refusal(docs, "d.yaml").find("d.yaml (document 1): yaml: exceeded max depth of 10000"), std::string::npos) << refusal(docs);
}

TEST(YamlLimits, StreamLargerThanTheLimitIsRefusedBeforeParsing) {
  YamlLimits small;
  small.maxStreamBytes = 1000;
  EXPECT_EQ(refusal(std::string(1001, '#'), "s.yaml", small),
            "limit: s.yaml: the input is 0.0 MiB, more than 0.0 MiB (1000 bytes), the most one stream may have");
  EXPECT_EQ(refusal(std::string(1000, '#'), "s.yaml", small), "accepted");
}

TEST(YamlLimits, FilesPastTheLimitAreNotRead) {
  std::string dir = ::testing::TempDir() + "/yaml-limits-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string big = dir + "/big.yaml";
  { std::ofstream(big) << "a: 1\n"; }
  ASSERT_EQ(::truncate(big.c_str(), static_cast<off_t>(kYamlMaxStreamBytes + 1)), 0);  // sparse: no disk used
  auto m = measureInChild([&] {
    try {
      readFile(big);
    } catch (const YamlLimitError& e) {
      return e.oneLine();
    }
    return std::string("read");
  });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result, big + ": the input has more than 64 MiB (67108864 bytes), the most kubectl-otel reads from one file");
  OTEL_EXPECT_MEMORY_LT(m.growthKb(), 2048);
  // A stream of unknown size (a device here) is read no further than the bound.
  auto z = measureInChild([&] {
    try {
      readFile("/dev/zero", 1 << 20);
    } catch (const YamlLimitError& e) {
      return e.oneLine();
    }
    return std::string("read");
  });
  ASSERT_TRUE(z.ok);
  EXPECT_EQ(z.result.rfind("/dev/zero: the input has more than 1 MiB", 0), 0u) << z.result;
  EXPECT_EQ(readFile(big, kYamlMaxStreamBytes + 1).size(), kYamlMaxStreamBytes + 1);
  std::filesystem::remove_all(dir);
}

TEST(YamlLimits, DocumentLargerThanThreeMiBIsRefused) {
  std::string doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n" +
                    anchoredEntries(kYamlMaxDocumentBytes + 100, 2);
  std::string r = refusal("a: 1\n---\n" + doc, "big.yaml");
  EXPECT_EQ(r.rfind("limit: big.yaml (document 1) line ", 0), 0u) << r;
  EXPECT_NE(r.find(": the document has more than 3 MiB (3145728 bytes), the most one object may have"),
            std::string::npos)
      << r;
  // The last document, measured to the end of the stream.
  std::string tail = "a: 1\n---\nb: \"" + std::string(kYamlMaxDocumentBytes, 'x') + "\"\n";
  EXPECT_NE(refusal(tail).find("(document 1): the document has more than 3 MiB"), std::string::npos) << refusal(tail);
}

TEST(YamlLimits, AListsBoundIsPerItem) {
  std::string item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: NAME}\n  data:\n" +
                     anchoredEntries(1 << 20, 4);
  std::string list = "apiVersion: v1\nitems:\n";
  for (int i = 0; i < 5; ++i) list += item;  // 5 MiB in one document
  list += "kind: List\nmetadata: {}\n";
  auto docs = parseYamlStream(list);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].value["items"].size(), 5u);
  EXPECT_EQ(flattenLists(docs).size(), 5u);
  // An item of more than 3 MiB is refused as soon as it passes the bound.
  std::string huge = "apiVersion: v1\nkind: List\nitems:\n- " + item.substr(2) + "- data:\n" +
                     anchoredEntries(kYamlMaxDocumentBytes + 10, 4) + "- {}\n";
  EXPECT_NE(refusal(huge).find("item 1 of the List has more than 3 MiB"), std::string::npos) << refusal(huge);
  // Not a List: the whole document counts.
  std::string notList = list;
  notList.replace(notList.find("kind: List"), 10, "kind: Lisp");
  EXPECT_NE(refusal(notList).find("the document has more than 3 MiB"), std::string::npos) << refusal(notList);
}

TEST(YamlLimits, ExcessiveAliasingOverAStreamOfSmallDocuments) {
  // Each document decodes fewer than 1000 nodes (never refused alone), 95% of them from aliases.
  std::string doc = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]\nb: [";
  for (int i = 0; i < 45; ++i) doc += (i ? ",*a" : "*a");
  doc += "]\n---\n";
  std::string few, many;
  for (int i = 0; i < 100; ++i) few += doc;
  for (int i = 0; i < 1000; ++i) many += doc;
  EXPECT_EQ(refusal(few), "accepted");
  std::string r = refusal(many, "s.yaml");
  EXPECT_NE(r.find("yaml: the stream contains excessive aliasing (counted over all its documents)"), std::string::npos)
      << r;
  // The same budget shared by calls on one stream's documents.
  YamlBudget budget;
  std::string last;
  for (int i = 0; i < 1000 && last.empty(); ++i) {
    try {
      parseYaml(doc.substr(0, doc.size() - 4), "d", {}, &budget);
    } catch (const YamlLimitError& e) {
      last = e.what();
    }
  }
  EXPECT_EQ(last, "yaml: the stream contains excessive aliasing (counted over all its documents)");
}

TEST(YamlLimits, ALegitimateThreeMiBDocumentWithManyAnchorsLoadsInBoundedMemory) {
  std::string doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  labels: &labels {app: big, tier: web}\n"
                    "data:\n" + anchoredEntries(kYamlMaxDocumentBytes - 4096, 2) + "copy:\n  labels: *labels\n";
  ASSERT_LE(doc.size(), kYamlMaxDocumentBytes);
  auto m = measureInChild([&] {
    Json v = parseYaml(doc, "big.yaml");
    return std::to_string(v["data"].size()) + " " + v["data"]["example.com/key-000150-map"].dump();
  });
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.result.substr(m.result.find(' ')), " {\"team\":\"observability\",\"tier\":\"backend\",\"id\":\"100\"}")
      << m.result;
  long inputKb = static_cast<long>(doc.size() / 1024);
  OTEL_EXPECT_MEMORY_LT(m.growthKb(), 10 * inputKb) << "input " << inputKb << " kB, peak growth " << m.growthKb() << " kB";
  std::printf("3 MiB document with anchors: input %ld kB, peak growth %ld kB (%.1fx)\n", inputKb, m.growthKb(),
              static_cast<double>(m.growthKb()) / static_cast<double>(inputKb));
}

}  // namespace
}  // namespace otel
