// kubectl-otel: builds the verb table, maps exceptions to exit codes. Errors go to stderr as one line.
#include <iostream>

#include "lib/core/error.h"
#include "lib/core/log.h"
#include "plugin/completion.h"
#include "plugin/options.h"
#include "plugin/verbs.h"

int main(int argc, char** argv) {
  using namespace otel::plugin;
  CLI::App app{"kubectl-otel: OpenTelemetry collectors, instrumentation and target allocation for Kubernetes",
               "kubectl-otel"};
  app.fallthrough();  // global flags are accepted after the verb too (kubectl passes them after the plugin name)
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--kubeconfig", global.kubeconfig, "Path to the kubeconfig file (no merging)");
  app.add_option("--context", global.context, "The kubeconfig context to use");
  app.add_option("--cluster", global.cluster, "The kubeconfig cluster to use (instead of the context's)");
  app.add_option("--user", global.user, "The kubeconfig user to use (instead of the context's)");
  app.add_option("-n,--namespace", global.ns, "Namespace (default: the context's, else \"default\")");
  app.add_flag("-A,--all-namespaces", global.allNamespaces, "Act on all namespaces");
  app.add_option("-o,--output", global.output, "Output format (verb specific: yaml, json, wide, diff ...)");
  app.add_option("--log-level", global.logLevel, "debug|info|warn|error|off")->capture_default_str();
  app.add_option("--log-format", global.logFormat, "text|json")->capture_default_str();
  registerVerbs(app, global);
  if (argc >= 2 && std::string(argv[1]) == "__complete") {
    return runComplete(app, std::vector<std::string>(argv + 2, argv + argc), std::cout);
  }
  app.parse_complete_callback([&] {
    otel::log::configure(otel::log::parseLevel(global.logLevel), otel::log::parseFormat(global.logFormat));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const ExitCode& e) {
    return e.code;
  } catch (const otel::Error& e) {
    std::cerr << "error: " << e.oneLine() << "\n";
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitError;
  }
  return kExitOk;
}
