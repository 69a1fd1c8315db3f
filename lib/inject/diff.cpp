#include "lib/inject/diff.h"

#include <algorithm>
#include <vector>

namespace otel::inject {
namespace {

// Lines without their '\n'. A last line that has none keeps a '\n' as a marker (no other line can
// contain one), so it differs from the same text with a newline, as it does for diff.
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string::npos) {
      out.push_back(s.substr(pos) + '\n');
      break;
    }
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

enum class Op { Keep, Del, Add };
struct Edit {
  Op op;
  size_t a, b;  // line indexes in a (Keep, Del) and b (Keep, Add)
};

// Longest common subsequence over lines after trimming the common prefix and suffix (workload YAML
// diffs are small islands in long texts, so the quadratic table stays small).
std::vector<Edit> edits(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  const size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  // Beyond kMaxCells the middle is shown as replaced (still a correct diff, just not a minimal one),
  // so a huge document cannot take quadratic memory.
  constexpr size_t kMaxCells = size_t{1} << 24;
  const bool minimal = n == 0 || m == 0 || (n + 1) * (m + 1) <= kMaxCells;
  std::vector<std::vector<unsigned>> lcs(minimal ? n + 1 : 0, std::vector<unsigned>(minimal ? m + 1 : 0, 0));
  if (minimal)
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  std::vector<Edit> out;
  for (size_t k = 0; k < pre; ++k) out.push_back({Op::Keep, k, k});
  size_t i = 0, j = 0;
  while (!minimal && i < n) out.push_back({Op::Del, pre + i++, pre});
  while (!minimal && j < m) out.push_back({Op::Add, pre + n, pre + j++});
  while (i < n || j < m) {
    if (i < n && j < m && a[pre + i] == b[pre + j]) {
      out.push_back({Op::Keep, pre + i++, pre + j++});
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push_back({Op::Add, pre + i, pre + j++});
    } else {
      out.push_back({Op::Del, pre + i++, pre + j});
    }
  }
  // Deletions before additions inside each changed run, as diff prints them.
  for (size_t s = 0; s < out.size();) {
    if (out[s].op == Op::Keep) {
      ++s;
      continue;
    }
    size_t e = s;
    while (e < out.size() && out[e].op != Op::Keep) ++e;
    std::stable_partition(out.begin() + static_cast<long>(s), out.begin() + static_cast<long>(e),
                          [](const Edit& x) { return x.op == Op::Del; });
    s = e;
  }
  for (size_t k = 0; k < suf; ++k) out.push_back({Op::Keep, a.size() - suf + k, b.size() - suf + k});
  return out;
}

std::string range(size_t start, size_t count) {
  // diff's convention: a 0-length range names the line before it.
  if (count == 0) return std::to_string(start) + ",0";
  if (count == 1) return std::to_string(start + 1);
  return std::to_string(start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unifiedDiff(const std::string& a, const std::string& b, const DiffLabels& labels, int context) {
  if (a == b) return "";
  const std::vector<std::string> la = split(a), lb = split(b);
  const auto es = edits(la, lb);
  const size_t ctx = static_cast<size_t>(std::max(context, 0));
  std::string out = "--- " + labels.from + "\n+++ " + labels.to + "\n";
  auto lineText = [&](const Edit& e) -> std::string {
    const std::string& line = e.op == Op::Add ? lb[e.b] : la[e.a];
    std::string s = (e.op == Op::Keep ? " " : e.op == Op::Del ? "-" : "+") + line;
    if (!line.empty() && line.back() == '\n') return s + "\\ No newline at end of file\n";
    return s + "\n";
  };
  // Lines of a and b consumed before each edit (hunk starts).
  std::vector<size_t> aBefore(es.size() + 1, 0), bBefore(es.size() + 1, 0);
  for (size_t x = 0; x < es.size(); ++x) {
    aBefore[x + 1] = aBefore[x] + (es[x].op != Op::Add ? 1 : 0);
    bBefore[x + 1] = bBefore[x] + (es[x].op != Op::Del ? 1 : 0);
  }
  size_t k = 0;
  while (k < es.size()) {
    if (es[k].op == Op::Keep) {
      ++k;
      continue;
    }
    // A hunk: from ctx lines before this change to ctx lines after the last change closer than 2*ctx.
    size_t start = k >= ctx ? k - ctx : 0;
    size_t end = k;
    while (true) {
      while (end < es.size() && es[end].op != Op::Keep) ++end;
      size_t keep = end;
      while (keep < es.size() && es[keep].op == Op::Keep) ++keep;
      if (keep < es.size() && keep - end <= 2 * ctx) {
        end = keep;
        continue;
      }
      end = std::min(es.size(), end + ctx);
      break;
    }
    size_t aStart = aBefore[start], bStart = bBefore[start], aCount = 0, bCount = 0;
    std::string body;
    for (size_t x = start; x < end; ++x) {
      if (es[x].op != Op::Add) ++aCount;
      if (es[x].op != Op::Del) ++bCount;
      body += lineText(es[x]);
    }
    out += "@@ -" + range(aStart, aCount) + " +" + range(bStart, bCount) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace otel::inject
