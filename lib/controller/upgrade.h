// PURE: upstream's automatic upgrade of collectors written by older operator versions
// (pkg/collector/upgrade, the routines that apply to v1beta1: 0.104.0, 0.105.0, 0.110.0, 0.111.0,
// 0.122.0), driven by status.version as upstream does.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::controller {

// Upstream's Warning event message when a routine fails.
inline constexpr const char* kUpgradeFailed =
    "automated update not possible. Configuration must be corrected manually and CR instance must be re-created.";

// status.version set and different from `operatorVersion`, managed, upgradeStrategy not "none".
bool needsUpgrade(const Json& collector, const std::string& operatorVersion);

struct UpgradeResult {
  Json collector;                     // upgraded (spec and status.version)
  bool specChanged = false;
  std::vector<std::string> warnings;  // Warning events "Upgrade" to record
  std::string error;                  // not upgradable (then `collector` is unchanged)
};

// Applies the routines with a version in (status.version, operatorVersion] and sets status.version to
// operatorVersion (an instance newer than the operator keeps its version).
UpgradeResult upgradeCollector(const Json& collector, const std::string& operatorVersion);

}  // namespace otel::controller
