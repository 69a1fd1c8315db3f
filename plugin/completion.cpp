// `kubectl otel completion bash|zsh|fish`.
#include <iostream>

#include "plugin/verbs.h"

namespace otel::plugin {

void addCompletionVerb(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish)");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("shell", *shell, "bash|zsh|fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([shell] { std::cout << "# completion for " << *shell << " (todo)\n"; });
}

}  // namespace otel::plugin
