#include "lib/prom/regex.h"

#include <re2/re2.h>

#include "lib/core/error.h"

namespace otel::prom {

namespace {

std::shared_ptr<const re2::RE2> compile(const std::string& source) {
  std::string anchored = "^(?s:" + goToRe2Syntax(source) + ")$";
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>(anchored, opts);
  if (!re->ok()) {
    throw Error("invalid regex \"" + source + "\": " + re->error());
  }
  return re;
}

const std::shared_ptr<const re2::RE2>& defaultRegex() {
  static const std::shared_ptr<const re2::RE2> re = compile("(.*)");
  return re;
}

bool isNameByte(unsigned char c) {
  // Go's extract() accepts unicode letters, digits and '_'; non-ASCII bytes are treated as letters.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

}  // namespace

std::string goToRe2Syntax(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 4);
  bool inClass = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\' && i + 1 < in.size()) {
      if (in[i + 1] == 'C') throw Error("invalid regex \"" + std::string(in) + "\": invalid escape sequence: `\\C`");
      out += c;
      out += in[++i];
      continue;
    }
    if (inClass) {
      if (c == ']') inClass = false;
      out += c;
      continue;
    }
    if (c == '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < in.size() && in[i + 1] == '^') out += in[++i];
      if (i + 1 < in.size() && in[i + 1] == ']') out += in[++i];
      continue;
    }
    if (c == '(' && in.substr(i, 3) == "(?<" && i + 3 < in.size() && in[i + 3] != '=' && in[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

Regex::Regex() : source_("(.*)"), re_(defaultRegex()) {}

Regex::Regex(std::string source) : source_(std::move(source)) {
  default_ = source_ == "(.*)";
  re_ = default_ ? defaultRegex() : compile(source_);
  if (!default_) hasRange_ = re_->PossibleMatchRange(&min_, &max_, 16);
  if (hasRange_ && !max_.empty()) {  // an empty max means "no upper bound"
    std::size_t n = 0;
    while (n < min_.size() && n < max_.size() && min_[n] == max_[n]) ++n;
    prefix_ = min_.substr(0, n);
  }
}

bool Regex::excluded(std::string_view text) const {
  if (!hasRange_) return false;
  // Strings between min and max share their common prefix; without one, compare with the bounds.
  if (!prefix_.empty()) return !text.starts_with(prefix_);
  return text < std::string_view(min_) || (!max_.empty() && text > std::string_view(max_));
}

bool Regex::matches(std::string_view text) const {
  if (default_) return true;
  if (excluded(text)) return false;
  return re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::ANCHOR_BOTH, nullptr, 0);
}

int Regex::groupCount() const { return re_->NumberOfCapturingGroups(); }

bool Regex::match(std::string_view text, std::vector<std::string_view>& groups) const {
  if (default_) {  // ^(?s:(.*))$ always matches, group 1 is the whole text
    groups.assign({text.data() ? text : std::string_view("", 0), text.data() ? text : std::string_view("", 0)});
    return true;
  }
  if (excluded(text)) return false;
  int n = re_->NumberOfCapturingGroups() + 1;
  re2::StringPiece sp[16];
  std::vector<re2::StringPiece> heap;
  re2::StringPiece* subs = sp;
  if (n > 16) {
    heap.resize(n);
    subs = heap.data();
  }
  if (!re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::ANCHOR_BOTH, subs, n))
    return false;
  groups.resize(n);
  for (int i = 0; i < n; ++i) groups[i] = subs[i].data() ? std::string_view(subs[i].data(), subs[i].size()) : std::string_view();
  return true;
}

void Regex::expand(std::string& out, std::string_view tmpl, const std::vector<std::string_view>& groups) const {
  while (!tmpl.empty()) {
    auto pos = tmpl.find('$');
    if (pos == std::string_view::npos) break;
    out.append(tmpl.substr(0, pos));
    tmpl.remove_prefix(pos + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    // extract(): optional brace, a non-empty name of letters/digits/_, closing brace if opened.
    std::string_view s = tmpl;
    bool brace = false;
    if (!s.empty() && s[0] == '{') {
      brace = true;
      s.remove_prefix(1);
    }
    std::size_t i = 0;
    while (i < s.size() && isNameByte(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0 || (brace && (i >= s.size() || s[i] != '}'))) {
      out += '$';  // malformed: the '$' is literal text
      continue;
    }
    std::string_view name = s.substr(0, i);
    std::size_t consumed = (brace ? 1 : 0) + i + (brace ? 1 : 0);
    tmpl.remove_prefix(consumed);
    long num = 0;
    for (char ch : name) {
      if (ch < '0' || ch > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (ch - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num >= 0) {
      if (static_cast<std::size_t>(num) < groups.size() && groups[num].data() != nullptr) out.append(groups[num]);
    } else {
      const auto& named = re_->NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end() && static_cast<std::size_t>(it->second) < groups.size() &&
          groups[it->second].data() != nullptr)
        out.append(groups[it->second]);
    }
  }
  out.append(tmpl);
}

}  // namespace otel::prom
