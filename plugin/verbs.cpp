#include "plugin/verbs.h"

namespace otel::plugin {

void registerVerbs(CLI::App& app, GlobalOptions& global) {
  addVersionVerb(app, global);
  addCompletionVerb(app, global);
  addCreateVerb(app, global);
  addInstallVerb(app, global);
  addAllocationsVerb(app, global);
  addTargetAllocatorVerb(app, global);
  addInjectVerb(app, global);
  addRunVerb(app, global);
  addDoctorVerb(app, global);
}

}  // namespace otel::plugin
