// Small helpers over container env lists (arrays of {name, value|valueFrom}) used by the injectors,
// mirroring upstream's getIndexOfEnv / appendIfNotSet / appendOrReplace / moveEnvToListEnd.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::inject {

int indexOfEnv(const Json& env, const std::string& name);
// Appends each entry of `add` whose name is not in `env` yet.
void appendIfNotSet(Json& env, const Json& add);
void appendEnv(Json& env, const std::string& name, const std::string& value);
void appendEnvFieldRef(Json& env, const std::string& name, const std::string& fieldPath, bool apiVersion);
void moveEnvToEnd(Json& env, const std::string& name);
// The env array of a container, created when missing.
Json& containerEnv(Json& container);

}  // namespace otel::inject
