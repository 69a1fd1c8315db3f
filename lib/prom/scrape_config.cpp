#include "lib/prom/scrape_config.h"

#include "lib/prom/kubernetes_sd.h"

#include <limits>


#include <set>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace otel::prom {

namespace {

std::string text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

std::string jobWhere(const std::string& source, const std::string& job, std::size_t index) {
  return source + ": job " + (job.empty() ? "#" + std::to_string(index) : "\"" + job + "\"");
}

std::vector<TargetGroup> parseGroups(const Json& list, const std::string& where, const std::string& key) {
  std::vector<TargetGroup> out;
  if (list.is_null()) return out;
  if (!list.is_array()) throw Error(key + " must be a list", where);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& g = list[i];
    std::string here = key + "[" + std::to_string(i) + "]";
    if (!g.is_object()) throw Error(here + " must be a mapping", where);
    TargetGroup tg;
    tg.source = here;
    for (auto it = g.begin(); it != g.end(); ++it) {
      if (it.key() == "targets") {
        if (it.value().is_null()) continue;
        if (!it.value().is_array()) throw Error(here + ".targets must be a list", where);
        for (const auto& t : it.value()) {
          std::string addr = text(t);
          tg.targets.push_back(addr);
        }
      } else if (it.key() == "labels") {
        if (it.value().is_null()) continue;
        if (!it.value().is_object()) throw Error(here + ".labels must be a mapping", where);
        tg.labels = Labels::fromJson(it.value());
        for (const auto& l : tg.labels)
          if (!isValidLabelName(l.name, NameValidation::Utf8))
            throw Error(here + ".labels: \"" + l.name + "\" is not a valid label name", where);
      } else {
        throw Error(here + ": field " + it.key() + " not found in type targetgroup.Group", where);
      }
    }
    out.push_back(std::move(tg));
  }
  return out;
}

}  // namespace

std::int64_t parseDuration(std::string_view s) {
  auto bad = [&] { return Error("not a valid duration string: \"" + std::string(s) + "\""); };
  if (s == "0") return 0;
  if (s.empty()) throw bad();
  struct Unit {
    std::string_view name;
    std::int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},       {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},              {"s", 1000},
                                    {"ms", 1}};
  std::int64_t total = 0;
  std::size_t i = 0, nextUnit = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i) throw bad();
    std::int64_t n = 0;
    for (std::size_t k = i; k < j; ++k) {
      n = n * 10 + (s[k] - '0');
      if (n > (1LL << 50)) throw bad();
    }
    std::size_t u = j;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9')) ++u;
    std::string_view unit = s.substr(j, u - j);
    bool found = false;
    for (std::size_t k = nextUnit; k < std::size(kUnits); ++k) {
      if (kUnits[k].name == unit) {
        // as Prometheus: a duration past int64 nanoseconds (~292 years) is out of range; here in ms,
        // and never a signed overflow
        constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max() / 1000000;
        if (n > kMaxMs / kUnits[k].ms || total > kMaxMs - n * kUnits[k].ms)
          throw Error("duration out of range: \"" + std::string(s) + "\"");
        total += n * kUnits[k].ms;
        nextUnit = k + 1;
        found = true;
        break;
      }
    }
    if (!found) throw bad();
    i = u;
  }
  return total;
}

std::string formatDuration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string r;
  auto f = [&](const char* unit, std::int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (std::int64_t v = ms / mult; v > 0) {
      r += std::to_string(v) + unit;
      ms -= v * mult;
    }
  };
  f("y", 365LL * 24 * 3600 * 1000, true);
  f("w", 7LL * 24 * 3600 * 1000, true);
  f("d", 24LL * 3600 * 1000, false);
  f("h", 3600LL * 1000, false);
  f("m", 60LL * 1000, false);
  f("s", 1000, false);
  f("ms", 1, false);
  return r;
}

ScrapeConfig parseScrapeConfig(const Json& job, const Json& global, const std::string& source, std::size_t index) {
  ScrapeConfig sc;
  std::string where = jobWhere(source, "", index);
  if (!job.is_object()) throw Error("a scrape config must be a mapping", where);
  if (job.contains("job_name")) sc.jobName = text(job["job_name"]);
  if (sc.jobName.empty()) throw Error("job_name is empty", where);
  where = jobWhere(source, sc.jobName, index);

  auto duration = [&](const Json& obj, const char* key, std::int64_t dflt) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return dflt;
    try {
      return parseDuration(text(obj[key]));
    } catch (const Error& e) {
      throw Error(std::string(key) + ": " + e.what(), where);
    }
  };
  std::int64_t gInterval = duration(global, "scrape_interval", 60000);
  std::int64_t gTimeout = duration(global, "scrape_timeout", std::min<std::int64_t>(10000, gInterval));
  sc.scrapeIntervalMs = duration(job, "scrape_interval", gInterval);
  std::int64_t dfltTimeout = gTimeout > sc.scrapeIntervalMs ? sc.scrapeIntervalMs : gTimeout;
  sc.scrapeTimeoutMs = duration(job, "scrape_timeout", dfltTimeout);
  if (sc.scrapeTimeoutMs > sc.scrapeIntervalMs)
    throw Error("scrape timeout greater than scrape interval for scrape config with job name \"" + sc.jobName + "\"",
                where);

  if (job.contains("metrics_path") && !job["metrics_path"].is_null()) sc.metricsPath = text(job["metrics_path"]);
  if (job.contains("scheme") && !job["scheme"].is_null()) sc.scheme = text(job["scheme"]);
  if (sc.scheme != "http" && sc.scheme != "https")
    throw Error("invalid scheme \"" + sc.scheme + "\": must be http or https", where);

  std::string scheme = job.value("metric_name_validation_scheme", std::string());
  if (scheme.empty()) scheme = global.is_object() ? global.value("metric_name_validation_scheme", std::string()) : "";
  if (scheme == "legacy") {
    sc.nameValidation = NameValidation::Legacy;
  } else if (!scheme.empty() && scheme != "utf8") {
    throw Error("unknown metric_name_validation_scheme \"" + scheme + "\" (want utf8 or legacy)", where);
  }

  if (job.contains("params") && !job["params"].is_null()) {
    const Json& p = job["params"];
    if (!p.is_object()) throw Error("params must be a mapping of lists", where);
    for (auto it = p.begin(); it != p.end(); ++it) {
      std::vector<std::string> vals;
      if (it.value().is_array()) {
        for (const auto& v : it.value()) vals.push_back(text(v));
      } else {
        vals.push_back(text(it.value()));
      }
      sc.params.emplace_back(it.key(), std::move(vals));
    }
  }
  if (job.contains("relabel_configs"))
    sc.relabelConfigs = parseRelabelConfigs(job["relabel_configs"], where, sc.nameValidation);
  if (job.contains("metric_relabel_configs"))  // validated, not used by the allocator
    (void)parseRelabelConfigs(job["metric_relabel_configs"], where, sc.nameValidation, "metric_relabel_configs");
  if (job.contains("static_configs")) sc.staticConfigs = parseGroups(job["static_configs"], where, "static_configs");
  if (job.contains("file_sd_configs")) sc.fileSdConfigs = job["file_sd_configs"];
  if (job.contains("http_sd_configs")) sc.httpSdConfigs = job["http_sd_configs"];
  if (job.contains("kubernetes_sd_configs")) sc.kubernetesSdConfigs = parseKubernetesSdConfigs(job["kubernetes_sd_configs"], where);

  sc.raw = job;
  sc.raw["scrape_interval"] = sc.scrapeInterval();
  sc.raw["scrape_timeout"] = sc.scrapeTimeout();
  sc.raw["metrics_path"] = sc.metricsPath;
  sc.raw["scheme"] = sc.scheme;
  if (!sc.relabelConfigs.empty()) {
    Json rc = Json::array();
    for (const auto& r : sc.relabelConfigs) rc.push_back(r.toJson());
    sc.raw["relabel_configs"] = rc;
  }
  return sc;
}

PromConfig parsePromConfig(const Json& root, const std::string& source) {
  PromConfig cfg;
  if (root.is_null()) return cfg;
  if (!root.is_object()) throw Error("a Prometheus config must be a mapping", source);
  if (root.contains("global") && root["global"].is_object()) cfg.global = root["global"];
  if (!root.contains("scrape_configs") || root["scrape_configs"].is_null()) return cfg;
  const Json& list = root["scrape_configs"];
  if (!list.is_array()) throw Error("scrape_configs must be a list", source);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ScrapeConfig sc = parseScrapeConfig(list[i], cfg.global, source, i);
    if (!seen.insert(sc.jobName).second)
      throw Error("found multiple scrape configs with job name \"" + sc.jobName + "\"", source,
                  "give every scrape config a unique job_name");
    cfg.scrapeConfigs.push_back(std::move(sc));
  }
  return cfg;
}

PromConfig loadPromConfig(const std::string& path) {
  std::string content = readFile(path);
  Json root = parseYaml(content, path);
  // An upstream targetallocator.yaml nests the Prometheus config under `config:`.
  if (root.is_object() && !root.contains("scrape_configs") && root.contains("config") && root["config"].is_object())
    return parsePromConfig(root["config"], path);
  return parsePromConfig(root, path);
}

std::vector<TargetGroup> parseFileSdGroups(const Json& doc, const std::string& source) {
  return parseGroups(doc, source, "groups");
}

}  // namespace otel::prom
