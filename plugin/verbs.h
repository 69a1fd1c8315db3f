// The verb table: each verb file adds its subcommand(s) to the root CLI11 app.
// A verb parses flags, calls one library entry point, prints. Add one line to registerVerbs() per verb.
#pragma once
#include <CLI/CLI.hpp>

#include "plugin/options.h"

namespace otel::plugin {

void registerVerbs(CLI::App& app, GlobalOptions& global);

void addVersionVerb(CLI::App& app, GlobalOptions& global);
void addCompletionVerb(CLI::App& app, GlobalOptions& global);
void addCreateVerb(CLI::App& app, GlobalOptions& global);
void addInstallVerb(CLI::App& app, GlobalOptions& global);
void addAllocationsVerb(CLI::App& app, GlobalOptions& global);
void addTargetAllocatorVerb(CLI::App& app, GlobalOptions& global);
void addInjectVerb(CLI::App& app, GlobalOptions& global);
void addRunVerb(CLI::App& app, GlobalOptions& global);
void addDoctorVerb(CLI::App& app, GlobalOptions& global);

}  // namespace otel::plugin
