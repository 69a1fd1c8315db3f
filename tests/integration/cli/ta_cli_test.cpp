// `kubectl otel target-allocator` as a process: it serves the upstream HTTP API and, every
// --reload-interval, reads the file SD files again, so a target added to a file is served without a
// restart. HTTP requests go through bash's /dev/tcp (no curl needed on the CI machine).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "lib/core/files.h"
#include "tests/support/shell.h"

namespace {

using otel::clitest::eventually;
using otel::clitest::Result;
using otel::clitest::sh;
using otel::clitest::tempDir;

const std::string kBin = OTEL_CLI_BINARY;

std::string httpGet(int port, const std::string& path) {
  Result r = sh("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + " && printf \"GET " + path +
                " HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n\" >&3 && timeout 10 cat <&3'");
  return r.out;
}

// The file's content, "" while it does not exist yet (the background shell creates its log files).
std::string readIfThere(const std::string& path) { return std::filesystem::exists(path) ? otel::readFile(path) : ""; }

void writeTargets(const std::string& path, const std::string& json) {
  std::ofstream(path + ".tmp") << json;
  std::filesystem::rename(path + ".tmp", path);  // atomic, as a file SD writer should
}

TEST(TargetAllocatorProcess, FileSdChangesAreServedAfterTheReloadInterval) {
  std::string dir = tempDir("ta-reload");
  writeTargets(dir + "/apps.json", R"([{"targets": ["10.0.0.1:9100"], "labels": {"team": "a"}}])");
  std::ofstream(dir + "/targetallocator.yaml") << "allocation_strategy: consistent-hashing\n"
                                                  "config:\n  scrape_configs:\n  - job_name: apps\n"
                                                  "    file_sd_configs:\n    - files: ['apps.json']\n";
  Result started = sh(kBin + " target-allocator --config-file " + dir + "/targetallocator.yaml --listen-addr 127.0.0.1:0" +
                      " --collectors 2 --reload-interval 1 >" + dir + "/out.log 2>" + dir + "/err.log & echo $!");
  ASSERT_EQ(started.code, 0) << started.err;
  const std::string pid = started.out.substr(0, started.out.find('\n'));
  struct Stop {  // the server is stopped however the test ends
    std::string pid;
    ~Stop() { sh("kill " + pid + " 2>/dev/null"); }
  } stop{pid};
  int port = 0;
  ASSERT_TRUE(eventually([&] {
    std::smatch m;
    std::string log = readIfThere(dir + "/err.log");
    static const std::regex listening("target allocator listening.*port=\"?([0-9]+)");
    if (!std::regex_search(log, m, listening)) return false;
    port = std::stoi(m[1].str());
    return true;
  })) << readIfThere(dir + "/err.log");
  EXPECT_NE(httpGet(port, "/jobs/apps/targets").find("10.0.0.1:9100"), std::string::npos);
  writeTargets(dir + "/apps.json", R"([{"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"team": "a"}}])");
  bool served = eventually([&] { return httpGet(port, "/jobs/apps/targets").find("10.0.0.2:9100") != std::string::npos; });
  // a broken file is logged and the previous targets stay
  std::ofstream(dir + "/apps.json") << "[{not json";
  bool warned = eventually([&] { return readIfThere(dir + "/err.log").find("target reload failed") != std::string::npos; });
  std::string after = httpGet(port, "/jobs/apps/targets");
  EXPECT_TRUE(served) << readIfThere(dir + "/err.log");
  EXPECT_TRUE(warned) << readIfThere(dir + "/err.log");
  EXPECT_NE(after.find("10.0.0.2:9100"), std::string::npos) << after;
}

}  // namespace
