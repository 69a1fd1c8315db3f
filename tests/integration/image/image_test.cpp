// `make image`'s script builds the OCI image `install` deploys; unpacked, its root filesystem alone runs
// `kubectl-otel version` (chroot, as uid 65532) and its config says non-root, entrypoint and `run`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "lib/core/files.h"
#include "lib/core/json.h"
#include "tests/support/shell.h"

namespace {

using otel::clitest::sh;

TEST(Image, RootFilesystemAloneRunsTheBinary) {
  if (sh("command -v umoci").code != 0) GTEST_SKIP() << "umoci is not installed (bash scripts/install-deps installs it)";
  if (::geteuid() != 0) GTEST_SKIP() << "chroot needs root";
#if defined(__SANITIZE_ADDRESS__)
  // the sanitizer runtime reads its options and the executable's name from /proc, which a bare root has not
  GTEST_SKIP() << "an AddressSanitizer binary cannot run in the image's bare root (the normal build runs this test)";
#endif
  std::string dir = otel::clitest::tempDir("image");
  auto built = sh("bash " OTEL_SOURCE_DIR "/scripts/image " OTEL_CLI_BINARY " " + dir + "/out test");
  ASSERT_EQ(built.code, 0) << built.err;
  auto unpacked = sh("umoci unpack --image " + dir + "/out/oci:test " + dir + "/bundle");
  ASSERT_EQ(unpacked.code, 0) << unpacked.err;
  std::string rootfs = dir + "/bundle/rootfs";
  EXPECT_NE(access((rootfs + "/bin/sh").c_str(), F_OK), 0) << "the image has no shell";
  auto ran = sh("chroot --userspec=65532:65532 " + rootfs + " /usr/local/bin/kubectl-otel version --client");
  ASSERT_EQ(ran.code, 0) << ran.err;
  EXPECT_NE(ran.out.find("0."), std::string::npos) << ran.out;
  // runtime config: non-root, the binary as entrypoint, `run` as the default command
  otel::Json config = otel::Json::parse(otel::readFile(dir + "/bundle/config.json"));
  EXPECT_EQ(config["process"]["user"]["uid"], 65532);
  EXPECT_EQ(config["process"]["args"], otel::Json::array({"/usr/local/bin/kubectl-otel", "run"}));
  // install's container command is `kubectl-otel run`: found through the image's PATH
  bool path = false;
  for (const auto& e : config["process"]["env"])
    if (e.get<std::string>().rfind("PATH=/usr/local/bin:", 0) == 0) path = true;
  EXPECT_TRUE(path) << config["process"]["env"].dump();
  // the oci-archive tarball is an OCI layout
  EXPECT_EQ(sh("tar -tf " + dir + "/out/kubectl-otel.tar ./oci-layout").code, 0);
}

}  // namespace
