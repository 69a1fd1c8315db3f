#include "lib/core/files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/core/error.h"

namespace otel {
namespace {
namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("otel-files-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  fs::path dir_;
};

TEST_F(FilesTest, DirectoriesExpandInNameOrderRecursiveOnlyWithFlag) {
  write(dir_ / "b.yaml", "kind: B\napiVersion: v1\n");
  write(dir_ / "a.yml", "kind: A\napiVersion: v1\n---\nkind: A2\napiVersion: v1\n");
  write(dir_ / "notes.txt", "ignored");
  write(dir_ / "sub" / "c.json", R"({"kind":"C","apiVersion":"v1"})");
  auto flat = readManifests({dir_.string()}, false);
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0].value["kind"], "A");
  EXPECT_EQ(flat[1].value["kind"], "A2");
  EXPECT_EQ(flat[2].value["kind"], "B");
  auto rec = readManifests({dir_.string()}, true);
  ASSERT_EQ(rec.size(), 4u);
  EXPECT_EQ(rec[3].value["kind"], "C");
}

TEST_F(FilesTest, MissingPathIsAnErrorNamingIt) {
  try {
    readManifests({(dir_ / "nope.yaml").string()}, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.oneLine().find("nope.yaml"), std::string::npos);
  }
}

TEST_F(FilesTest, AtomicWriteReplacesWholeFile) {
  auto p = (dir_ / "out.yaml").string();
  writeFileAtomic(p, "one");
  writeFileAtomic(p, "two");
  EXPECT_EQ(readFile(p), "two");
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

}  // namespace
}  // namespace otel
