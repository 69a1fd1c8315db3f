// Shell completion: the cobra `__complete` protocol over the CLI11 command tree, and shell scripts.
#pragma once
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace otel::plugin {

// cobra's ShellCompDirective bits.
inline constexpr int kDirectiveDefault = 0;
inline constexpr int kDirectiveNoFileComp = 4;

struct CompletionItem {
  std::string value;
  std::string description;
};
struct Completion {
  std::vector<CompletionItem> items;
  int directive = kDirectiveDefault;
};

// args: the words after the program name, the last one being the (possibly empty) word to complete.
Completion complete(const CLI::App& root, const std::vector<std::string>& args);

std::string completionScript(const std::string& shell);

// The hidden `__complete` verb: prints one candidate per line ("value\tdescription") then ":<directive>".
// main() calls it before CLI11 parsing, since the words to complete are not a valid command line.
int runComplete(const CLI::App& root, const std::vector<std::string>& args, std::ostream& out);

}  // namespace otel::plugin
