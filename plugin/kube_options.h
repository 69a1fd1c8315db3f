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

// The connection of a one-shot CLI verb: the kubeconfig's, at the client-side rate kubectl uses (50 QPS):
// client-go's default 5/10 suits long-running controllers, and makes a verb that asks a burst of
// questions (create's access reviews, doctor's lists) wait seconds.
inline kube::RestConfig cliRestConfig(const GlobalOptions& g, bool stdinUsed = false) {
  kube::RestConfig rc = kube::loadRestConfig(kubeLoadOptions(g, stdinUsed));
  rc.qps = 50;
  rc.burst = 100;
  return rc;
}

}  // namespace otel::plugin
