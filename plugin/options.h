// Global flags shared by every verb (kubectl conventions).
#pragma once
#include <string>

namespace otel::plugin {

struct GlobalOptions {
  std::string kubeconfig;     // --kubeconfig: exactly this file, no merging
  std::string context;        // --context
  std::string cluster;        // --cluster: the kubeconfig cluster to use instead of the context's
  std::string user;           // --user: the kubeconfig user to use instead of the context's
  std::string ns;             // -n/--namespace ("" = from kubeconfig context, else "default")
  bool allNamespaces = false; // -A/--all-namespaces
  std::string output;         // -o/--output (verb-specific meaning; "" = default human output)
  std::string logLevel = "info";
  std::string logFormat = "text";
};

// Exit codes (docs/cli.md): 0 ok, 1 error (or "problems found" for doctor), 2 usage error / could not run.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// Thrown by a verb to end with a given exit code after it printed what it had to say.
struct ExitCode {
  int code;
};

}  // namespace otel::plugin
