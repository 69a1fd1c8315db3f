// The lib/kube load options for the global flags (--kubeconfig, --context, --cluster, --user, -n),
// shared by every verb that talks to a cluster.
#pragma once
#include "lib/kube/kubeconfig.h"
#include "plugin/options.h"

namespace otel::plugin {

// stdinUsed: the verb reads data from stdin (-f -), so exec credential plugins must not prompt.
inline kube::LoadOptions kubeLoadOptions(const GlobalOptions& g, bool stdinUsed = false) {
  kube::LoadOptions lo;
  lo.kubeconfig = g.kubeconfig;
  lo.context = g.context;
  lo.cluster = g.cluster;
  lo.user = g.user;
  lo.ns = g.ns;
  lo.stdinUnavailable = stdinUsed;
  return lo;
}

}  // namespace otel::plugin
