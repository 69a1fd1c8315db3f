// Prometheus relabel regexes on RE2 with Go regexp semantics: fully anchored as `^(?s:re)$`,
// Go-only syntax translated or rejected, and replacement templates expanded by Go's Expand rules.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace otel::prom {

class Regex {
 public:
  // The default relabel regex "(.*)".
  Regex();
  // Compiles `source` (as written in the config, without anchors). Throws otel::Error with the reason.
  explicit Regex(std::string source);

  const std::string& source() const { return source_; }
  bool isDefault() const { return default_; }
  // Whole-string match (the anchored form).
  bool matches(std::string_view text) const;
  // Whole-string match filling `groups` (group 0 = whole match; unmatched groups have data()==nullptr).
  // Returns false when there is no match.
  bool match(std::string_view text, std::vector<std::string_view>& groups) const;
  // Go's Regexp.ExpandString: `$1`, `${1}`, `$name`, `${name}`, `$$`; `$1x` names group "1x".
  void expand(std::string& out, std::string_view tmpl, const std::vector<std::string_view>& groups) const;
  int groupCount() const;  // capturing groups, not counting group 0

 private:
  bool excluded(std::string_view text) const;  // cheap pre-filter: true when `text` cannot match

  std::string source_;
  std::shared_ptr<const re2::RE2> re_;
  bool default_ = true;
  // RE2::PossibleMatchRange bounds: a text outside [min_, max_] cannot match (cheap pre-filter).
  bool hasRange_ = false;
  std::string min_, max_;
  std::string prefix_;  // common prefix of min_ and max_: every match starts with it
};

// Translates Go regexp syntax RE2 does not accept: `(?<name>` becomes `(?P<name>`; `\C` (accepted by RE2,
// rejected by Go) is refused. Throws otel::Error.
std::string goToRe2Syntax(std::string_view goRegex);

}  // namespace otel::prom
