// `kubectl otel version`: client version, and the server's /version when a cluster is reachable.
#include <iostream>

#include "lib/core/json.h"
#include "lib/core/version.h"
#include "plugin/verbs.h"

namespace otel::plugin {

void addVersionVerb(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("version", "Print the client (and server) version");
  auto client = std::make_shared<bool>(false);
  cmd->add_flag("--client", *client, "Client version only (do not contact the cluster)");
  cmd->callback([&global, client] {
    Json v = {{"clientVersion", {{"version", otel::version()}, {"gitCommit", otel::gitCommit()}}}};
    if (global.output == "json") {
      std::cout << v.dump(2) << "\n";
    } else {
      std::cout << "Client Version: " << otel::version() << " (" << otel::gitCommit() << ")\n";
    }
  });
}

}  // namespace otel::plugin
