// Prometheus scrape configuration model for the target allocator: the fields the allocator uses
// (job, intervals, path, scheme, params, relabel rules, static/file/http SD) and every other field
// kept verbatim so /scrape_configs can serve it back. Parsing errors name file, job and rule.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/core/json.h"
#include "lib/prom/kubernetes_sd_config.h"
#include "lib/prom/labels.h"
#include "lib/prom/relabel.h"

namespace otel::prom {

// Prometheus model.Duration: parse ("1m30s", "90s", "0") and print ("1m30s") in milliseconds.
std::int64_t parseDuration(std::string_view s);  // throws otel::Error `not a valid duration string: "x"`
std::string formatDuration(std::int64_t ms);

// One `static_configs` entry (or file_sd group): targets share the group labels.
struct TargetGroup {
  std::vector<std::string> targets;  // __address__ values
  Labels labels;
  std::string source;  // "<job>/static/<i>" for diagnostics
};

struct ScrapeConfig {
  std::string jobName;
  std::int64_t scrapeIntervalMs = 60000;
  std::int64_t scrapeTimeoutMs = 10000;
  std::string metricsPath = "/metrics";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::vector<std::string>>> params;  // in config order
  std::vector<RelabelConfig> relabelConfigs;
  std::vector<TargetGroup> staticConfigs;
  Json fileSdConfigs;  // null or the configured list (pass-through)
  Json httpSdConfigs;  // null or the configured list (pass-through)
  std::vector<KubernetesSdConfig> kubernetesSdConfigs;
  NameValidation nameValidation = NameValidation::Utf8;
  Json raw;  // the job as configured (every field, defaults filled) for /scrape_configs

  std::string scrapeInterval() const { return formatDuration(scrapeIntervalMs); }
  std::string scrapeTimeout() const { return formatDuration(scrapeTimeoutMs); }
};

struct PromConfig {
  Json global = Json::object();
  std::vector<ScrapeConfig> scrapeConfigs;
};

// Parses a Prometheus config object ({global, scrape_configs}). `source` names the file in errors:
// "<source>: job \"x\": relabel_configs[2] (action foo): unknown relabel action \"foo\"".
PromConfig parsePromConfig(const Json& root, const std::string& source);
// Parses one scrape config with the global defaults (scrape_interval 1m, scrape_timeout 10s unless set).
ScrapeConfig parseScrapeConfig(const Json& job, const Json& global, const std::string& source, std::size_t index);
// Reads and parses a YAML file: a Prometheus config, or a targetallocator.yaml (its `config:`).
// Throws otel::Error naming the file.
PromConfig loadPromConfig(const std::string& path);

// Groups from a file_sd file (JSON or YAML list of {targets, labels}).
std::vector<TargetGroup> parseFileSdGroups(const Json& doc, const std::string& source);

}  // namespace otel::prom
