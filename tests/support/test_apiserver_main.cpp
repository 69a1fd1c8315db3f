// otel-test-apiserver: runs the test API server until SIGINT/SIGTERM, after writing a kubeconfig.
//   otel-test-apiserver --kubeconfig PATH [--port N] [--namespace NS] [--token T] [--user TOKEN,NAME[,GROUP...]]...
//                       [--no-auth] [--log]
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "lib/core/error.h"
#include "tests/support/api_server.h"

namespace {
volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }
}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig = "kubeconfig.test.yaml", ns = "default";
  otel::testing::TestApiServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "otel-test-apiserver: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--kubeconfig") kubeconfig = next();
    else if (a == "--port") opts.port = std::atoi(next().c_str());
    else if (a == "--namespace") ns = next();
    else if (a == "--token") opts.token = next();
    else if (a == "--user") {
      // TOKEN,NAME[,GROUP...]: a user authorized by RBAC (names like system:serviceaccount:ns:sa contain colons).
      std::string v = next();
      std::vector<std::string> parts;
      for (size_t p = 0;;) {
        size_t c = v.find(',', p);
        parts.push_back(v.substr(p, c == std::string::npos ? std::string::npos : c - p));
        if (c == std::string::npos) break;
        p = c + 1;
      }
      if (parts.size() < 2 || parts[0].empty() || parts[1].empty()) {
        std::cerr << "otel-test-apiserver: --user needs TOKEN,NAME[,GROUP...]\n";
        return 2;
      }
      opts.users.push_back({parts[0], parts[1], std::vector<std::string>(parts.begin() + 2, parts.end())});
    }
    else if (a == "--no-auth") opts.requireToken = false;
    else if (a == "--log") opts.logRequests = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: otel-test-apiserver [--kubeconfig PATH] [--port N] [--namespace NS] [--token T]\n"
                   "                           [--user TOKEN,NAME[,GROUP...]]... [--no-auth] [--log]\n";
      return 0;
    } else {
      std::cerr << "otel-test-apiserver: unknown argument " << a << "\n";
      return 2;
    }
  }
  try {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    if (ns != "default") opts.namespaces = {"default", "kube-system", "kube-public", ns};  // --namespace NS exists
    otel::testing::TestApiServer server(opts);
    server.writeKubeconfig(kubeconfig, ns);
    std::cout << "serving " << server.url() << "; kubeconfig written to " << kubeconfig << std::endl;
    while (!gStop) pause();
    std::cout << "stopping" << std::endl;
  } catch (const otel::Error& e) {
    std::cerr << "otel-test-apiserver: " << e.oneLine() << "\n";
    return 1;
  }
  return 0;
}
