// Relabeling: every action and default, Go regexp/Expand semantics, validation messages, hashmod.
#include "lib/prom/relabel.h"

#include <gtest/gtest.h>

#include "lib/core/error.h"
#include "lib/core/yaml.h"

namespace otel::prom {
namespace {

Labels L(std::initializer_list<std::pair<const char*, const char*>> kv) {
  std::vector<Label> v;
  for (auto& [k, val] : kv) v.push_back({k, val});
  return Labels::fromPairs(v);
}

RelabelConfig rule(const std::string& yaml) { return parseRelabelConfig(parseYaml(yaml)); }

std::string errorOf(const std::string& yaml) {
  try {
    rule(yaml);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Labels, SetGetDeleteKeepSorted) {
  Labels l = L({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(l.items()[0].name, "a");
  l.set("c", "3");
  l.set("a", "");  // empty value deletes
  EXPECT_FALSE(l.has("a"));
  EXPECT_EQ(l.get("c"), "3");
  EXPECT_EQ(l.get("zz"), "");
  EXPECT_EQ(l.toJson().dump(), R"({"b":"2","c":"3"})");
}

TEST(Labels, MergeTargetOverridesGroup) {
  Labels m = mergeLabels(L({{"a", "g"}, {"z", "g"}}), L({{"a", "t"}, {"__address__", "x"}}));
  EXPECT_EQ(m.toJson().dump(), R"({"__address__":"x","a":"t","z":"g"})");
}

TEST(Relabel, Defaults) {
  auto r = rule("target_label: x");
  EXPECT_EQ(r.action, RelabelAction::Replace);
  EXPECT_EQ(r.separator, ";");
  EXPECT_EQ(r.regex.source(), "(.*)");
  EXPECT_EQ(r.replacement, "$1");
  EXPECT_EQ(r.toJson().dump(),
            R"j({"separator":";","regex":"(.*)","modulus":0,"target_label":"x","replacement":"$1","action":"replace"})j");
}

TEST(Relabel, ReplaceWithGroups) {
  Labels l = L({{"a", "foo"}, {"b", "bar"}});
  auto r = rule("{source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b${1}${2}m'}");
  ASSERT_TRUE(relabelOne(r, l));
  EXPECT_EQ(l.get("a"), "boobam");
}

TEST(Relabel, RegexIsFullyAnchored) {
  Labels l = L({{"a", "foo"}});
  auto r = rule("{source_labels: [a], regex: 'f|o', action: drop}");
  EXPECT_TRUE(relabelOne(r, l));  // 'f|o' must match the whole value: no drop
  auto r2 = rule("{source_labels: [a], regex: 'fo+', action: drop}");
  EXPECT_FALSE(relabelOne(r2, l));
}

TEST(Relabel, DotMatchesNewline) {
  Labels l = L({{"a", "line1\nline2"}});
  auto r = rule("{source_labels: [a], regex: 'line1.*line2', target_label: d, replacement: 'm${1}'}");
  ASSERT_TRUE(relabelOne(r, l));
  EXPECT_EQ(l.get("d"), "m");
}

TEST(Relabel, GoExpandRules) {
  Regex re("(?P<first>a)(b)");
  std::vector<std::string_view> g;
  ASSERT_TRUE(re.match("ab", g));
  auto ex = [&](const std::string& t) {
    std::string out;
    re.expand(out, t, g);
    return out;
  };
  EXPECT_EQ(ex("$1"), "a");
  EXPECT_EQ(ex("${1}x"), "ax");
  EXPECT_EQ(ex("$1x"), "");  // group named "1x" does not exist
  EXPECT_EQ(ex("$first-$2"), "a-b");
  EXPECT_EQ(ex("${first}"), "a");
  EXPECT_EQ(ex("$$1"), "$1");
  EXPECT_EQ(ex("${1"), "${1");  // missing brace: literal
  EXPECT_EQ(ex("$"), "$");
  EXPECT_EQ(ex("$9"), "");
  EXPECT_EQ(ex("$01"), "");  // leading zero: a name, not a number
}

TEST(Relabel, GoNamedGroupSyntaxAndRejectedEscapes) {
  Regex re("(?<x>a+)");
  std::vector<std::string_view> g;
  ASSERT_TRUE(re.match("aa", g));
  std::string out;
  re.expand(out, "$x", g);
  EXPECT_EQ(out, "aa");
  EXPECT_THROW(Regex("a\\C"), Error);
  EXPECT_THROW(Regex("(a"), Error);
  EXPECT_THROW(Regex("a{1001}"), Error);
  EXPECT_NO_THROW(Regex("[(?<x>]"));
}

TEST(Relabel, PrefilterNeverRejectsAMatch) {
  // The PossibleMatchRange pre-filter must agree with RE2 on prefixes, alternations, classes, case folding.
  for (const char* re : {"__meta_kubernetes_pod_label_(.+)", "abc|abd", "(?i)foo.*", "[a-c]x", "\\xff.*", "a+",
                         "", "x*", "ab?c", "\\.well-known/.*", "\xc3\xa9t\xc3\xa9"}) {
    Regex r(re);
    for (const char* text : {"__meta_kubernetes_pod_label_app", "__meta_kubernetes_pod_label_", "abd", "abe", "FOObar",
                             "foo", "bx", "dx", "\xff\xff", "aaa", "", "xx", "ac", "abc", ".well-known/x",
                             "\xc3\xa9t\xc3\xa9", "zzz"}) {
      std::vector<std::string_view> g;
      EXPECT_EQ(r.matches(text), r.match(text, g)) << re << " ~ " << text;
    }
  }
  EXPECT_TRUE(Regex("(?i)foo.*").matches("FOObar"));
  EXPECT_TRUE(Regex("\\xff.*").matches("\xc3\xbf!"));  // \xff is U+00FF, as in Go
  EXPECT_FALSE(Regex("__meta_(.+)").matches("job"));
}

TEST(Relabel, EmptyRegexMatchesOnlyEmpty) {
  auto r = rule("{source_labels: [missing], regex: '', action: keep}");
  Labels l = L({{"a", "x"}});
  EXPECT_TRUE(relabelOne(r, l));  // missing label reads as ""
  Labels l2 = L({{"missing", "x"}});
  EXPECT_FALSE(relabelOne(r, l2));
}

TEST(Relabel, MissingSourceLabelsJoinAsEmpty) {
  Labels l = L({{"b", "x"}});
  auto r = rule("{source_labels: [a, b, c], target_label: t, regex: '(.*)'}");
  ASSERT_TRUE(relabelOne(r, l));
  EXPECT_EQ(l.get("t"), ";x;");
}

TEST(Relabel, ReplaceFastPathAndDelete) {
  Labels l = L({{"a", "x"}});
  ASSERT_TRUE(relabelOne(rule("{target_label: b, replacement: val}"), l));
  EXPECT_EQ(l.get("b"), "val");
  ASSERT_TRUE(relabelOne(rule("{source_labels: [a], target_label: a, regex: 'x', replacement: ''}"), l));
  EXPECT_FALSE(l.has("a"));
}

TEST(Relabel, ReplaceNoMatchIsNoop) {
  Labels l = L({{"a", "boo"}});
  ASSERT_TRUE(relabelOne(rule("{source_labels: [a], regex: f, target_label: b, replacement: bar}"), l));
  EXPECT_FALSE(l.has("b"));
}

TEST(Relabel, InvalidTargetAfterExpansionIsSkipped) {
  Labels l = L({{"a", "1bad"}});
  // Legacy names: "1bad" is not a valid name, so nothing is set.
  auto r = parseRelabelConfig(parseYaml("{source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: v}"),
                              NameValidation::Legacy);
  ASSERT_TRUE(relabelOne(r, l, NameValidation::Legacy));
  EXPECT_FALSE(l.has("1bad"));
  // UTF-8 names (Prometheus 3 default) accept it.
  ASSERT_TRUE(relabelOne(r, l, NameValidation::Utf8));
  EXPECT_EQ(l.get("1bad"), "v");
  // An empty expanded target is never valid.
  Labels e = L({{"a", ""}});
  auto r2 = rule("{source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: v}");
  ASSERT_TRUE(relabelOne(r2, e));
  EXPECT_EQ(e.size(), 0u);
}

TEST(Relabel, KeepDropEqual) {
  Labels l = L({{"p", "1"}, {"q", "1"}, {"r", "2"}});
  EXPECT_TRUE(relabelOne(rule("{source_labels: [p], action: keepequal, target_label: q}"), l));
  EXPECT_FALSE(relabelOne(rule("{source_labels: [p], action: keepequal, target_label: r}"), l));
  EXPECT_FALSE(relabelOne(rule("{source_labels: [p], action: dropequal, target_label: q}"), l));
  EXPECT_TRUE(relabelOne(rule("{source_labels: [p], action: dropequal, target_label: r}"), l));
}

TEST(Relabel, HashModMatchesPrometheus) {
  // Values from Prometheus model/relabel/relabel_test.go (also in ta-conformance/relabel-hashmod).
  EXPECT_EQ(hashMod("baz", 1000), 976u);
  EXPECT_EQ(hashMod("foo\nbar", 1000), 734u);
  Labels l = L({{"c", "baz"}});
  ASSERT_TRUE(relabelOne(rule("{source_labels: [c], target_label: d, action: hashmod, modulus: 1000}"), l));
  EXPECT_EQ(l.get("d"), "976");
}

TEST(Relabel, LabelMapDropKeep) {
  Labels l = L({{"__meta_my_bar", "aaa"}, {"__meta_other", "c"}, {"a", "foo"}});
  ASSERT_TRUE(relabelOne(rule("{regex: '__meta_(my.*)', replacement: '${1}', action: labelmap}"), l));
  EXPECT_EQ(l.get("my_bar"), "aaa");
  ASSERT_TRUE(relabelOne(rule("{regex: '__meta_.*', action: labeldrop}"), l));
  EXPECT_FALSE(l.has("__meta_other"));
  ASSERT_TRUE(relabelOne(rule("{regex: 'my_.*', action: labelkeep}"), l));
  EXPECT_EQ(l.toJson().dump(), R"({"my_bar":"aaa"})");
}

TEST(Relabel, LowerUpperCase) {
  Labels l = L({{"foo", "bAr123Foo"}});
  ASSERT_TRUE(relabelOne(rule("{source_labels: [foo], action: uppercase, target_label: u}"), l));
  ASSERT_TRUE(relabelOne(rule("{source_labels: [foo], action: Lowercase, target_label: d}"), l));
  EXPECT_EQ(l.get("u"), "BAR123FOO");
  EXPECT_EQ(l.get("d"), "bar123foo");
}

TEST(Relabel, ValidationMessages) {
  EXPECT_EQ(errorOf("{action: foo}"), "unknown relabel action \"foo\"");
  EXPECT_EQ(errorOf("{action: ''}"), "relabel action cannot be empty");
  EXPECT_EQ(errorOf("{action: hashmod, target_label: x}"), "relabel configuration for hashmod requires non-zero modulus");
  EXPECT_EQ(errorOf("{action: replace}"), "relabel configuration for replace action requires 'target_label' value");
  EXPECT_EQ(errorOf("{action: uppercase, target_label: x, replacement: y}"),
            "'replacement' can not be set for uppercase action");
  EXPECT_EQ(errorOf("{action: keepequal, target_label: x, separator: ','}"),
            "keepequal action requires only 'source_labels' and `target_label`, and no other fields");
  EXPECT_EQ(errorOf("{action: labeldrop, regex: x, target_label: y}"),
            "labeldrop action requires only 'regex', and no other fields");
  EXPECT_EQ(errorOf("{action: labelmap, replacement: ''}"), "\"\" is invalid 'replacement' for labelmap action");
  EXPECT_EQ(errorOf("{regex: '(a', target_label: x}").rfind("invalid regex \"(a\": ", 0), 0u);
  EXPECT_EQ(errorOf("{target_label: x, bogus: 1}"), "field bogus not found in type relabel.plain");
  EXPECT_EQ(parseRelabelConfig(parseYaml("{target_label: '1x'}"), NameValidation::Utf8).targetLabel, "1x");
  try {
    parseRelabelConfig(parseYaml("{target_label: '1x'}"), NameValidation::Legacy);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "\"1x\" is invalid 'target_label' for replace action");
  }
}

TEST(Relabel, ListErrorsNameRuleIndex) {
  try {
    parseRelabelConfigs(parseYaml("[{target_label: x}, {action: nope}]"), "p.yaml: job \"j\"");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.oneLine(), "p.yaml: job \"j\": relabel_configs[1] (action nope): unknown relabel action \"nope\"");
  }
}

}  // namespace
}  // namespace otel::prom
