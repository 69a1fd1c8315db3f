// `kubectl otel version`: client version, and the server's /version when a cluster is reachable.
#include <iostream>

#include "lib/core/error.h"
#include "lib/core/json.h"
#include "lib/core/version.h"
#include "lib/kube/client.h"
#include "lib/kube/kubeconfig.h"
#include "plugin/kube_options.h"
#include "plugin/verbs.h"

namespace otel::plugin {

void addVersionVerb(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("version", "Print the client (and server) version");
  auto client = std::make_shared<bool>(false);
  cmd->add_flag("--client", *client, "Client version only (do not contact the cluster)");
  cmd->callback([&global, client] {
    Json v = {{"clientVersion", {{"version", otel::version()}, {"gitCommit", otel::gitCommit()}}}};
    std::string warning;
    if (!*client) {
      try {
        auto cfg = otel::kube::loadRestConfig(kubeLoadOptions(global));
        cfg.timeout = std::chrono::seconds(10);
        cfg.maxRetries = 0;
        otel::kube::Client c(cfg);
        v["serverVersion"] = c.version();
      } catch (const otel::Error& e) {
        // Like kubectl: the client part is still printed and the exit code stays 0.
        warning = e.oneLine();
      }
    }
    if (global.output == "json") {
      std::cout << v.dump(2) << "\n";
    } else {
      std::cout << "Client Version: " << otel::version() << " (" << otel::gitCommit() << ")\n";
      if (v.contains("serverVersion"))
        std::cout << "Server Version: " << v["serverVersion"].value("gitVersion", "unknown") << "\n";
    }
    if (!warning.empty()) std::cerr << "Warning: could not read the server version: " << warning << "\n";
  });
}

}  // namespace otel::plugin
