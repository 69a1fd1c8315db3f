// Exact reversal of a pod-template mutation: a compact "undo" computed from (before, after) that,
// applied to `after`, gives `before` back byte for byte, while leaving fields the mutation did not touch
// (and later edits to them) alone. Lists of named objects (containers, env, volumes; volumeMounts by
// mountPath) are diffed element by element, so the undo names what was added instead of copying lists.
#pragma once
#include "lib/core/json.h"

namespace otel::inject {

// A JSON array of operations, applied in order:
//   {"op":"remove","path":P}          remove the key / named element at P (it was added)
//   {"op":"set","path":P,"value":V}   put the original value V at P (changed or removed)
//   {"op":"order","path":P,"keys":[...]}  restore the order of a named list / of an object's keys
// A path is an array of object keys (strings) and named-element selectors ({"name":"x"} or {"mountPath":"/p"}).
Json makeUndo(const Json& before, const Json& after);

// Applies an undo made by makeUndo. Operations whose target is gone are skipped.
void applyUndo(Json& doc, const Json& undo);

}  // namespace otel::inject
