// Shared fixture: a TestApiServer and a Client configured through a written kubeconfig.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "tests/support/api_server.h"

namespace kubetest {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kubeint-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline otel::kube::RestConfig configFor(const otel::testing::TestApiServer& server, const TempDir& dir,
                                        const std::string& ns = "default") {
  std::string kc = dir.path() + "/kubeconfig";
  server.writeKubeconfig(kc, ns);
  otel::kube::LoadOptions o;
  o.kubeconfig = kc;
  auto rc = otel::kube::loadRestConfig(o);
  rc.qps = 0;  // tests are not rate limited unless they say so
  return rc;
}

inline const otel::kube::ResourceId kConfigMaps{"v1", "configmaps", true, "ConfigMap"};

inline otel::Json configMap(const std::string& ns, const std::string& name, otel::Json data = otel::Json::object(),
                            otel::Json labels = otel::Json::object()) {
  otel::Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", data}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  return cm;
}

}  // namespace kubetest
