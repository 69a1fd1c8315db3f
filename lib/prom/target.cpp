#include "lib/prom/target.h"

#include <glob.h>
#include <xxhash.h>

#include <filesystem>
#include <unordered_map>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/yaml.h"

namespace otel::prom {

namespace {
constexpr std::string_view kDisableSharding = "__tmp_disable_sharding";

bool isServedOut(std::string_view name) {
  return name == kJobLabel || name == kSchemeLabel || name == kMetricsPathLabel || name == kScrapeIntervalLabel ||
         name == kScrapeTimeoutLabel;
}
}  // namespace

TargetBuilder::TargetBuilder(const ScrapeConfig& config, std::uint32_t jobIndex, bool relabelFilter)
    : config_(&config), job_(jobIndex), filter_(relabelFilter) {
  seeds_.push_back({std::string(kJobLabel), config.jobName});
  seeds_.push_back({std::string(kScrapeIntervalLabel), config.scrapeInterval()});
  seeds_.push_back({std::string(kScrapeTimeoutLabel), config.scrapeTimeout()});
  seeds_.push_back({std::string(kMetricsPathLabel), config.metricsPath});
  seeds_.push_back({std::string(kSchemeLabel), config.scheme});
  for (const auto& [k, v] : config.params)
    if (!v.empty()) seeds_.push_back({std::string(kParamLabelPrefix) + k, v.front()});
  if (filter_) {
    RelabelConfig on;
    on.targetLabel = kDisableSharding;
    on.replacement = "true";
    wrapped_.push_back(on);
    wrapped_.insert(wrapped_.end(), config.relabelConfigs.begin(), config.relabelConfigs.end());
    RelabelConfig off;
    off.action = RelabelAction::LabelDrop;
    off.regex = Regex(std::string(kDisableSharding));
    wrapped_.push_back(off);
  }
}

Labels TargetBuilder::seeded(const Labels& merged) const {
  Labels lb = merged;
  for (const auto& s : seeds_)
    if (lb.get(s.name).empty()) lb.set(s.name, s.value);
  return lb;
}

std::uint64_t targetHash(const Labels& relabeled, std::string_view job) {
  std::string buf;
  std::size_t n = job.size();
  for (const auto& l : relabeled) n += l.name.size() + l.value.size() + 2;
  buf.reserve(n);
  for (const auto& l : relabeled) {
    if (std::string_view(l.name).starts_with(kMetaLabelPrefix)) continue;
    buf += l.name;
    buf += '\xff';
    buf += l.value;
    buf += '\xff';
  }
  buf += job;
  return XXH64(buf.data(), buf.size(), 0);
}

std::optional<Target> TargetBuilder::build(const Labels& merged) const {
  Labels lb = seeded(merged);
  if (filter_ && !relabel(wrapped_, lb, config_->nameValidation)) return std::nullopt;
  Target t;
  t.job = job_;
  t.hash = targetHash(lb, config_->jobName);
  t.labels = merged;
  t.labels.eraseIf([](const Label& l) { return isServedOut(l.name); });
  return t;
}

std::optional<Labels> TargetBuilder::finalLabels(const Labels& merged) const {
  Labels lb = seeded(merged);
  if (!relabel(config_->relabelConfigs, lb, config_->nameValidation)) return std::nullopt;
  std::string addr(lb.get(kAddressLabel));
  if (addr.empty()) return std::nullopt;
  lb.eraseIf([](const Label& l) { return std::string_view(l.name).starts_with(kMetaLabelPrefix); });
  if (lb.get(kInstanceLabel).empty()) lb.set(kInstanceLabel, addr);
  return lb;
}

std::vector<Labels> discoveredLabelSets(const ScrapeConfig& config, const std::vector<TargetGroup>& fileGroups) {
  std::vector<Labels> out;
  auto add = [&](const TargetGroup& g) {
    for (const auto& addr : g.targets) {
      Labels t;
      t.set(kAddressLabel, addr);
      out.push_back(mergeLabels(g.labels, t));
    }
  };
  for (const auto& g : config.staticConfigs) add(g);
  for (const auto& g : fileGroups) add(g);
  return out;
}

std::vector<TargetGroup> loadFileSd(const ScrapeConfig& config, const std::string& baseDir) {
  std::vector<TargetGroup> out;
  if (!config.fileSdConfigs.is_array()) return out;
  for (const auto& sd : config.fileSdConfigs) {
    if (!sd.is_object() || !sd.contains("files") || !sd["files"].is_array()) continue;
    for (const auto& f : sd["files"]) {
      if (!f.is_string()) continue;
      std::filesystem::path p(f.get<std::string>());
      if (p.is_relative()) p = std::filesystem::path(baseDir) / p;
      glob_t g{};
      std::vector<std::string> files;
      if (::glob(p.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
      }
      globfree(&g);
      for (const auto& file : files) {
        Json doc = parseYaml(readFile(file), file);
        auto groups = parseFileSdGroups(doc, file);
        for (auto& grp : groups) {
          grp.labels.set("__meta_filepath", file);
          out.push_back(std::move(grp));
        }
      }
    }
  }
  return out;
}

std::vector<Target> buildTargets(const PromConfig& config, const std::string& baseDir, bool relabelFilter) {
  std::vector<Target> out;
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (std::size_t j = 0; j < config.scrapeConfigs.size(); ++j) {
    const auto& sc = config.scrapeConfigs[j];
    TargetBuilder b(sc, static_cast<std::uint32_t>(j), relabelFilter);
    for (const auto& merged : discoveredLabelSets(sc, loadFileSd(sc, baseDir))) {
      auto t = b.build(merged);
      if (!t) continue;
      auto [it, inserted] = index.emplace(t->hash, out.size());
      if (inserted) {
        out.push_back(std::move(*t));
      } else {
        out[it->second] = std::move(*t);
      }
    }
  }
  return out;
}

}  // namespace otel::prom
