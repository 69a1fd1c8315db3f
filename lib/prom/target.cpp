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
  std::vector<Label> seeds;
  seeds.push_back({std::string(kJobLabel), config.jobName});
  seeds.push_back({std::string(kScrapeIntervalLabel), config.scrapeInterval()});
  seeds.push_back({std::string(kScrapeTimeoutLabel), config.scrapeTimeout()});
  seeds.push_back({std::string(kMetricsPathLabel), config.metricsPath});
  seeds.push_back({std::string(kSchemeLabel), config.scheme});
  for (const auto& [k, v] : config.params)
    if (!v.empty()) seeds.push_back({std::string(kParamLabelPrefix) + k, v.front()});
  // Labels::fromPairs sorts, keeps the last duplicate and drops empty values (an empty seed is no seed).
  seeds_ = Labels::fromPairs(std::move(seeds)).items();
  disableSharding_ = {std::string(kDisableSharding), "true"};
}

namespace {
// Sorted union of group, target (wins over group) and seeds (only where absent), plus `extra` (wins
// over all) when given, as pointers into the sources.
void mergeSeeded(const Labels& group, const Labels& target, const std::vector<Label>& seeds, const Label* extra,
                 std::vector<const Label*>& out) {
  out.clear();
  auto g = group.begin(), t = target.begin();
  auto s = seeds.begin();
  bool extraDone = extra == nullptr;
  while (true) {
    const std::string* minName = nullptr;
    if (g != group.end()) minName = &g->name;
    if (t != target.end() && (!minName || t->name < *minName)) minName = &t->name;
    if (s != seeds.end() && (!minName || s->name < *minName)) minName = &s->name;
    if (!extraDone && (!minName || extra->name < *minName)) minName = &extra->name;
    if (!minName) break;
    std::string_view name = *minName;  // the sources do not move while we advance
    const Label* pick = nullptr;
    if (s != seeds.end() && s->name == name) pick = &*s++;
    if (g != group.end() && g->name == name) pick = &*g++;
    if (t != target.end() && t->name == name) pick = &*t++;
    if (!extraDone && extra->name == name) {
      pick = extra;
      extraDone = true;
    }
    out.push_back(pick);
  }
}
}  // namespace

Labels TargetBuilder::seeded(const Labels& merged) const {
  std::vector<const Label*> ptrs;
  mergeSeeded(merged, Labels{}, seeds_, nullptr, ptrs);
  Labels out;
  out.assignSorted(ptrs);
  return out;
}

std::uint64_t targetHash(const Labels& relabeled, std::string_view job) {
  std::string buf;
  return targetHash(relabeled, job, buf);
}

std::uint64_t targetHash(const Labels& relabeled, std::string_view job, std::string& buf) {
  buf.clear();
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

std::optional<Target> TargetBuilder::build(const Labels& group, const Labels& target) const {
  const bool rules = filter_ && !config_->relabelConfigs.empty();
  // With no rules the wrapper (set __tmp_disable_sharding, then drop it) is the identity.
  mergeSeeded(group, target, seeds_, rules ? &disableSharding_ : nullptr, merged_);
  std::uint64_t hash;
  if (!rules) {
    hashBuf_.clear();
    for (const Label* l : merged_) {
      if (std::string_view(l->name).starts_with(kMetaLabelPrefix)) continue;
      hashBuf_ += l->name;
      hashBuf_ += '\xff';
      hashBuf_ += l->value;
      hashBuf_ += '\xff';
    }
    hashBuf_ += config_->jobName;
    hash = XXH64(hashBuf_.data(), hashBuf_.size(), 0);
  } else {
    work_.assignSorted(merged_);
    if (!relabel(config_->relabelConfigs, work_, config_->nameValidation, scratch_)) return std::nullopt;
    work_.del(kDisableSharding);
    hash = targetHash(work_, config_->jobName, hashBuf_);
  }
  Target t;
  t.job = job_;
  t.hash = hash;
  t.labels = PackedLabels::merge(group, target, isServedOut);
  auto addr = t.address();
  t.addressHash = XXH64(addr.data(), addr.size(), 0);
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
  };  // (convenience for tests and tools; buildTargets streams without materializing)
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
    auto fileGroups = loadFileSd(sc, baseDir);
    Labels own;
    auto addGroup = [&](const TargetGroup& g) {
      for (const auto& addr : g.targets) {
        own.set(kAddressLabel, addr);
        auto t = b.build(g.labels, own);
        if (!t) continue;
        auto [it, inserted] = index.emplace(t->hash, out.size());
        if (inserted) {
          out.push_back(std::move(*t));
        } else {
          out[it->second] = std::move(*t);
        }
      }
    };
    for (const auto& g : sc.staticConfigs) addGroup(g);
    for (const auto& g : fileGroups) addGroup(g);
  }
  return out;
}

}  // namespace otel::prom
