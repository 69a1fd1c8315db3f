// otel-test-apiserver: runs the test API server until SIGINT/SIGTERM, after writing a kubeconfig.
//   otel-test-apiserver --kubeconfig PATH [--port N] [--namespace NS] [--token T] [--user TOKEN,NAME[,GROUP...]]...
//                       [--no-auth] [--log] [--load FILE]... [--pods-for-deployments DIR] [--service NS/NAME:PORT=URL]...
// --load stores a file's objects at start (in NS when they name none; no admission, as if they were there
// already). --pods-for-deployments stands in for the Deployment and ReplicaSet controllers: for every new
// Deployment pod template it creates one pod through the API (so admission webhooks run) and writes the
// stored pod to DIR/<pod name>.yaml. --service stands in for a Service's endpoints (webhook calls and the
// service proxy go to URL; @FILE reads the URL from FILE at each call, for a backend started later).
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/hash.h"
#include "lib/core/yaml.h"
#include "tests/support/api_server.h"

namespace {
using otel::Json;
volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

// One pod per Deployment pod template, created through the server's own API with the superuser's token.
void podsForDeployments(otel::testing::TestApiServer& server, const std::string& dir, const std::atomic<bool>& stop) {
  const std::string caFile = dir + "/.ca.crt";
  std::ofstream(caFile) << server.caPem();
  std::set<std::string> done;
  while (!stop) {
    for (const auto& d : server.listObjects("apps/v1", "deployments")) {
      const Json& tmpl = d["spec"]["template"];
      const std::string ns = d["metadata"].value("namespace", "default"), name = d["metadata"].value("name", "");
      const std::string hash = otel::sha256Hex(tmpl.dump()).substr(0, 10);
      if (!done.insert(ns + "/" + name + "/" + hash).second) continue;
      Json pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", tmpl.value("metadata", Json::object())}, {"spec", tmpl["spec"]}};
      pod["metadata"]["name"] = name + "-" + hash + "-demo1";
      pod["metadata"]["namespace"] = ns;
      httplib::SSLClient cli("127.0.0.1", server.port());
      cli.set_ca_cert_path(caFile.c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_bearer_token_auth(server.token().c_str());
      auto r = cli.Post(("/api/v1/namespaces/" + ns + "/pods").c_str(), pod.dump(), "application/json");
      if (!r || r->status != 201) {
        std::cerr << "otel-test-apiserver: creating the pod of deployment " << ns << "/" << name << " failed: "
                  << (r ? std::to_string(r->status) + " " + r->body : std::string("no answer")) << std::endl;
        continue;
      }
      Json stored = Json::parse(r->body);
      std::ofstream(dir + "/" + pod["metadata"]["name"].get<std::string>() + ".yaml") << otel::toYaml(stored);
    }
    for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling period
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig = "kubeconfig.test.yaml", ns = "default";
  otel::testing::TestApiServerOptions opts;
  std::vector<std::string> loads;
  std::string podDir;
  std::map<std::string, std::string> services;  // "ns/name:port" -> URL
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
    else if (a == "--load") loads.push_back(next());
    else if (a == "--pods-for-deployments") podDir = next();
    else if (a == "--service") {
      std::string v = next();
      auto eq = v.find('=');
      if (eq == std::string::npos || v.find('/') > eq || v.find(':') > eq) {
        std::cerr << "otel-test-apiserver: --service needs NS/NAME:PORT=URL\n";
        return 2;
      }
      services[v.substr(0, eq)] = v.substr(eq + 1);
    }
    else if (a == "--no-auth") opts.requireToken = false;
    else if (a == "--log") opts.logRequests = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: otel-test-apiserver [--kubeconfig PATH] [--port N] [--namespace NS] [--token T]\n"
                   "                           [--user TOKEN,NAME[,GROUP...]]... [--no-auth] [--log]\n"
                   "                           [--load FILE]... [--pods-for-deployments DIR] [--service NS/NAME:PORT=URL]...\n";
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
    if (!services.empty())
      server.setServiceResolver([services](const std::string& ns, const std::string& name, int port, const std::string& path) {
        auto it = services.find(ns + "/" + name + ":" + std::to_string(port));
        if (it == services.end()) return std::string();
        std::string url = it->second;
        if (!url.empty() && url[0] == '@') {  // @FILE: the URL is read from FILE at each call ("" until it exists)
          std::ifstream in(url.substr(1));
          std::getline(in, url);
        }
        return url.empty() ? url : url + path;
      });
    for (const auto& file : loads)
      for (auto& d : otel::parseYamlStream(otel::readFile(file), file)) {
        if (!d.value.is_object()) continue;
        const std::string kind = d.value.value("kind", "");
        if (kind != "Namespace" && !d.value["metadata"].contains("namespace")) d.value["metadata"]["namespace"] = ns;
        server.putObject(d.value);
      }
    std::atomic<bool> stop{false};
    std::thread pods;
    if (!podDir.empty()) pods = std::thread([&] { podsForDeployments(server, podDir, stop); });
    server.writeKubeconfig(kubeconfig, ns);
    std::cout << "serving " << server.url() << "; kubeconfig written to " << kubeconfig << std::endl;
    while (!gStop) pause();
    stop = true;
    if (pods.joinable()) pods.join();
    std::cout << "stopping" << std::endl;
  } catch (const otel::Error& e) {
    std::cerr << "otel-test-apiserver: " << e.oneLine() << "\n";
    return 1;
  }
  return 0;
}
