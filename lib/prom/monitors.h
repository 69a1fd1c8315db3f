// prometheus-operator's scrape config generator for ServiceMonitors and PodMonitors, pure: one Prometheus
// scrape config (its YAML form as Json, snake_case keys) per endpoint, with prometheus-operator's job names
// (serviceMonitor/<ns>/<name>/<i>, podMonitor/<ns>/<name>/<i>, probe/<ns>/<name>, scrapeConfig/<ns>/<name>), kubernetes_sd_configs (role endpointslice
// for ServiceMonitors, as the OpenTelemetry target allocator configures the generator, or endpoints with
// serviceDiscoveryRole: Endpoints; pod for PodMonitors; ingress for a Probe's ingress targets),
// and relabel rules in the generator's order (selector keeps, port filter, namespace/service/pod/container/
// node labels, running filter, targetLabels, job, endpoint, the user's relabelings, address sharding).
// Secrets (basic auth, bearer token, authorization, OAuth2, TLS) are inlined from the Secrets given. A
// monitor that cannot be generated throws otel::Error naming the object and field; the caller skips it.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/json.h"

namespace otel::prom {

struct MonitorOptions {
  // Looks a Secret up by namespace and name (prometheus-operator reads them from the monitor's own
  // namespace); empty: no secret is readable.
  std::function<std::optional<Json>(const std::string& ns, const std::string& name)> secret;
  std::string secretNamespacesHint;  // says where secrets are read from, in the not-found error
  bool denyFsAccess = false;         // deny_fs_access_through_sms: refuse file-reading fields
};

std::vector<Json> serviceMonitorScrapeConfigs(const Json& serviceMonitor, const MonitorOptions& o = {});
std::vector<Json> podMonitorScrapeConfigs(const Json& podMonitor, const MonitorOptions& o = {});
// Probe (monitoring.coreos.com/v1): job probe/<ns>/<name>, static targets or the selected ingresses'
// scheme://host/path through the prober's URL (staticConfig wins when both are given). One job.
std::vector<Json> probeScrapeConfigs(const Json& probe, const MonitorOptions& o = {});
// ScrapeConfig (monitoring.coreos.com/v1alpha1): job scrapeConfig/<ns>/<name> with its static and
// Kubernetes SD configs (other SD mechanisms are refused). One job, no sharding rules (one shard).
std::vector<Json> scrapeConfigCrScrapeConfigs(const Json& scrapeConfig, const MonitorOptions& o = {});

// A monitor's relabeling (camelCase RelabelConfig of monitoring.coreos.com) in Prometheus's form.
Json relabelingToPrometheus(const Json& relabeling);

}  // namespace otel::prom
