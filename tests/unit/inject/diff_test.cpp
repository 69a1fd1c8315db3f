// unifiedDiff: hunks, context, headers and edge cases, checked against what GNU diff -u prints.
#include <gtest/gtest.h>

#include "lib/inject/diff.h"

using otel::inject::DiffLabels;
using otel::inject::unifiedDiff;

TEST(UnifiedDiff, EqualTextsGiveNothing) {
  EXPECT_EQ(unifiedDiff("a\nb\n", "a\nb\n"), "");
  EXPECT_EQ(unifiedDiff("", ""), "");
}

TEST(UnifiedDiff, OneChangedLineWithContext) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(unifiedDiff(a, b, DiffLabels{"live/x", "injected/x"}),
            "--- live/x\n+++ injected/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, InsertionsDeletionsAndSeparateHunks) {
  std::string a = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
  std::string b = "a\nB\nb\nc\nd\ne\nf\ng\nh\ni\nj\nl\n";
  EXPECT_EQ(unifiedDiff(a, b, {}, 1),
            "--- live\n+++ injected\n@@ -1,2 +1,3 @@\n a\n+B\n b\n@@ -10,3 +11,2 @@\n j\n-k\n l\n");
  // Close changes share one hunk.
  EXPECT_EQ(unifiedDiff("a\nb\nc\nd\n", "A\nb\nc\nD\n", {}, 1),
            "--- live\n+++ injected\n@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n-d\n+D\n");
}

TEST(UnifiedDiff, FromAndToEmpty) {
  EXPECT_EQ(unifiedDiff("", "x\ny\n"), "--- live\n+++ injected\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  EXPECT_EQ(unifiedDiff("x\n", ""), "--- live\n+++ injected\n@@ -1 +0,0 @@\n-x\n");
}

TEST(UnifiedDiff, ReplacedRunPrintsDeletionsFirst) {
  EXPECT_EQ(unifiedDiff("k\nx\ny\nk\n", "k\np\nq\nk\n", {}, 0),
            "--- live\n+++ injected\n@@ -2,2 +2,2 @@\n-x\n-y\n+p\n+q\n");
}

TEST(UnifiedDiff, MissingFinalNewlineIsMarked) {
  EXPECT_EQ(unifiedDiff("a\nb", "a\nc"),
            "--- live\n+++ injected\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n");
}

// A final newline added or lost is a change of the last line (GNU diff -u output).
TEST(UnifiedDiff, FinalNewlineAddedOrLostIsAChange) {
  EXPECT_EQ(unifiedDiff("a\n", "a"), "--- live\n+++ injected\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
  EXPECT_EQ(unifiedDiff("a", "a\n"), "--- live\n+++ injected\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n");
  EXPECT_EQ(unifiedDiff("x\na\nb\nc\nd", "y\na\nb\nc\nd\n"),
            "--- live\n+++ injected\n@@ -1,5 +1,5 @@\n-x\n+y\n a\n b\n c\n-d\n\\ No newline at end of file\n+d\n");
  // Both sides without it: a kept last line, marked once.
  EXPECT_EQ(unifiedDiff("x\nk", "y\nk"),
            "--- live\n+++ injected\n@@ -1,2 +1,2 @@\n-x\n+y\n k\n\\ No newline at end of file\n");
}

TEST(UnifiedDiff, HugeTextsStayCorrectWithoutQuadraticMemory) {
  // Changes at both ends of 5,000 lines: the middle exceeds the LCS budget and is shown as replaced.
  std::string a, b;
  for (int i = 0; i < 5000; ++i) {
    a += "line " + std::to_string(i) + "\n";
    b += (i == 0 ? std::string("first") : i == 4999 ? std::string("last") : "line " + std::to_string(i)) + "\n";
  }
  std::string d = unifiedDiff(a, b);
  // Applying the diff's - and + lines in order gives back both texts.
  std::string fromA, fromB;
  size_t pos = d.find("@@");
  while (pos < d.size()) {
    size_t end = d.find('\n', pos);
    std::string line = d.substr(pos, end - pos);
    if (line[0] == '-' || line[0] == ' ') fromA += line.substr(1) + "\n";
    if (line[0] == '+' || line[0] == ' ') fromB += line.substr(1) + "\n";
    pos = end + 1;
  }
  EXPECT_EQ(fromA, a);
  EXPECT_EQ(fromB, b);
  EXPECT_EQ(d.rfind("--- live\n+++ injected\n@@ -1,5000 +1,5000 @@\n", 0), 0u) << d.substr(0, 80);
}
