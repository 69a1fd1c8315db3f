// `kubectl otel completion bash|zsh|fish` and the hidden `__complete` verb (cobra's protocol, which
// kubectl uses through the `kubectl_complete-otel` helper to complete `kubectl otel ...`).
#include <iostream>
#include <map>
#include <vector>

#include "plugin/completion.h"
#include "plugin/verbs.h"

namespace otel::plugin {
namespace {

// Values offered for options and positionals whose set of values is fixed.
const std::map<std::string, std::vector<std::string>>& enumeratedValues() {
  static const std::map<std::string, std::vector<std::string>> values = {
      {"--output", {"yaml", "json", "wide", "diff", "name"}},
      {"--log-level", {"debug", "info", "warn", "error", "off"}},
      {"--log-format", {"text", "json"}},
      {"--mode", {"deployment", "daemonset", "statefulset", "sidecar"}},
      {"--strategy", {"consistent-hashing", "least-weighted", "per-node", "rendezvous"}},
      {"--lang", {"java", "nodejs", "python", "dotnet", "go", "apache-httpd", "nginx", "sdk"}},
      {"--dry-run", {"none", "client", "server"}},
      {"--preset", {"gateway", "agent", "sidecar"}},
      {"shell", {"bash", "zsh", "fish"}},
  };
  return values;
}

// The long name of an option ("--output"), or its first short name.
std::string optionKey(const CLI::Option* opt) {
  if (!opt->get_lnames().empty()) return "--" + opt->get_lnames().front();
  if (!opt->get_snames().empty()) return "-" + opt->get_snames().front();
  return opt->get_name();
}

const CLI::Option* findOption(const std::vector<const CLI::App*>& chain, const std::string& word) {
  std::string name = word;
  auto eq = name.find('=');
  if (eq != std::string::npos) name = name.substr(0, eq);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const CLI::Option* opt : (*it)->get_options()) {
      if (opt->get_positional()) continue;
      for (const auto& l : opt->get_lnames())
        if (name == "--" + l) return opt;
      for (const auto& s : opt->get_snames())
        if (name == "-" + s) return opt;
    }
  }
  return nullptr;
}

bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

Completion complete(const CLI::App& root, const std::vector<std::string>& args) {
  Completion result;
  if (args.empty()) return result;
  const std::string& partial = args.back();
  std::vector<const CLI::App*> chain{&root};
  const CLI::Option* pendingValue = nullptr;  // option whose value is the next word
  size_t positionalIndex = 0;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& w = args[i];
    if (pendingValue) {
      pendingValue = nullptr;
      continue;
    }
    if (startsWith(w, "-")) {
      const CLI::Option* opt = findOption(chain, w);
      if (opt && opt->get_type_size() != 0 && w.find('=') == std::string::npos) pendingValue = opt;
      continue;
    }
    bool descended = false;
    for (const CLI::App* sub : chain.back()->get_subcommands({})) {
      if (sub->check_name(w) && !sub->get_name().empty()) {
        chain.push_back(sub);
        positionalIndex = 0;
        descended = true;
        break;
      }
    }
    if (!descended) ++positionalIndex;
  }
  auto offer = [&](const std::string& value, const std::string& desc) {
    if (startsWith(value, partial)) result.items.push_back({value, desc});
  };
  if (pendingValue) {
    auto it = enumeratedValues().find(optionKey(pendingValue));
    if (it != enumeratedValues().end()) {
      for (const auto& v : it->second) offer(v, "");
      result.directive = kDirectiveNoFileComp;
    } else {
      result.directive = kDirectiveDefault;  // file names and free values
    }
    return result;
  }
  if (startsWith(partial, "-")) {
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
      for (const CLI::Option* opt : (*it)->get_options()) {
        if (opt->get_positional() || opt->get_group().empty()) continue;
        for (const auto& l : opt->get_lnames()) offer("--" + l, opt->get_description());
      }
    result.directive = kDirectiveNoFileComp;
    return result;
  }
  for (const CLI::App* sub : chain.back()->get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden
    offer(sub->get_name(), sub->get_description());
  }
  // Positionals with fixed values.
  std::vector<const CLI::Option*> positionals;
  for (const CLI::Option* opt : chain.back()->get_options())
    if (opt->get_positional()) positionals.push_back(opt);
  if (positionalIndex < positionals.size()) {
    auto it = enumeratedValues().find(positionals[positionalIndex]->get_name());
    if (it != enumeratedValues().end())
      for (const auto& v : it->second) offer(v, "");
  }
  result.directive = result.items.empty() ? kDirectiveDefault : kDirectiveNoFileComp;
  return result;
}

int runComplete(const CLI::App& root, const std::vector<std::string>& args, std::ostream& out) {
  Completion c = complete(root, args);
  for (const auto& item : c.items) {
    out << item.value;
    if (!item.description.empty()) out << '\t' << item.description;
    out << '\n';
  }
  out << ':' << c.directive << '\n';
  return 0;
}

std::string completionScript(const std::string& shell) {
  if (shell == "bash") {
    return R"(# bash completion for kubectl-otel; source it: source <(kubectl-otel completion bash)
_kubectl_otel() {
  local cur="${COMP_WORDS[COMP_CWORD]}" out directive line
  out=$(kubectl-otel __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=${out##*:}
  out=${out%:*}
  COMPREPLY=()
  while IFS=$'\t' read -r line _; do
    [ -n "$line" ] && COMPREPLY+=("$line")
  done <<< "$out"
  if [ ${#COMPREPLY[@]} -eq 0 ] && [ $((directive & 4)) -eq 0 ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _kubectl_otel kubectl-otel
)";
  }
  if (shell == "zsh") {
    return R"(#compdef kubectl-otel
# zsh completion for kubectl-otel; source it: source <(kubectl-otel completion zsh)
_kubectl_otel() {
  local -a words_ completions
  local out directive
  out=$(kubectl-otel __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return
  directive=${out##*:}
  for line in ${(f)${out%:*}}; do
    completions+=("${line%%$'\t'*}")
  done
  if (( ${#completions} )); then
    compadd -- "${completions[@]}"
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
compdef _kubectl_otel kubectl-otel
)";
  }
  return R"(# fish completion for kubectl-otel; source it: kubectl-otel completion fish | source
function __kubectl_otel_complete
  set -l args (commandline -opc)[2..-1] (commandline -ct)
  kubectl-otel __complete $args 2>/dev/null | string match -v -r '^:[0-9]+$'
end
complete -c kubectl-otel -f -a '(__kubectl_otel_complete)'
)";
}

void addCompletionVerb(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish)");
  auto shell = std::make_shared<std::string>();
  cmd->add_option("shell", *shell, "bash|zsh|fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([shell] { std::cout << completionScript(*shell); });

}

}  // namespace otel::plugin
