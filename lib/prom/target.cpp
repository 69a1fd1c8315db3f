#include "lib/prom/target.h"

#include <glob.h>
#include <xxhash.h>

#include <algorithm>
#include <filesystem>

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

// One label of the identity-hash input (targetHash): name, 0xff, value, 0xff.
void appendHashEntry(std::string& buf, std::string_view name, std::string_view value) {
  buf += name;
  buf += '\xff';
  buf += value;
  buf += '\xff';
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
  touchesAddress_.reserve(config.relabelConfigs.size());
  for (const auto& r : config.relabelConfigs) {
    using A = RelabelAction;
    AddressUse touch = AddressUse::No;
    for (const auto& src : r.sourceLabels)
      if (src == kAddressLabel) touch = AddressUse::Always;
    switch (r.action) {
      case A::Replace:
        if (r.targetLabel == kAddressLabel || r.targetLabel.find('$') != std::string::npos)
          touch = AddressUse::Always;
        break;
      case A::Lowercase:
      case A::Uppercase:
      case A::HashMod:
      case A::KeepEqual:
      case A::DropEqual:
        if (r.targetLabel == kAddressLabel) touch = AddressUse::Always;
        break;
      case A::LabelMap:
        if (r.regex.matches(kAddressLabel)) touch = AddressUse::Always;  // copies its value
        else if (touch == AddressUse::No) touch = AddressUse::ByNames;
        break;
      case A::LabelDrop:
        if (r.regex.matches(kAddressLabel)) touch = AddressUse::Always;
        break;
      case A::LabelKeep:
        if (!r.regex.matches(kAddressLabel)) touch = AddressUse::Always;
        break;
      case A::Keep:
      case A::Drop:
        break;
    }
    touchesAddress_.push_back(touch);
  }
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
    appendHashEntry(buf, l.name, l.value);
  }
  buf += job;
  return XXH64(buf.data(), buf.size(), 0);
}

void TargetBuilder::noteDrop(std::vector<DroppedTarget>* dropped, std::string_view address, std::uint32_t rule,
                             const Labels& labels) const {
  if (!dropped) return;
  DroppedTarget& d = dropped->emplace_back();
  d.address = address;
  d.rule = rule;
  if (rule >= config_->relabelConfigs.size()) return;
  const auto& r = config_->relabelConfigs[rule];
  for (std::size_t i = 0; i < r.sourceLabels.size(); ++i) {
    if (i) d.values += r.separator;
    d.values += labels.get(r.sourceLabels[i]);
  }
  if (d.values.size() > 256) d.values.resize(256);  // a reason, not a copy of the labels
}

std::optional<Target> TargetBuilder::build(const Labels& group, const Labels& target, std::vector<DroppedTarget>* dropped) const {
  const bool rules = filter_ && !config_->relabelConfigs.empty();
  // With no rules the wrapper (set __tmp_disable_sharding, then drop it) is the identity.
  mergeSeeded(group, target, seeds_, rules ? &disableSharding_ : nullptr, merged_);
  std::uint64_t hash;
  // The discovered __address__ (the target's own, else the group's), what a drop record names.
  const std::string_view discovered = target.has(kAddressLabel) ? target.get(kAddressLabel) : group.get(kAddressLabel);
  if (!rules) {
    // No rules: an empty discovered address (a static '' target, an ingress rule without host) is still
    // one Prometheus cannot scrape.
    if (filter_ && discovered.empty()) {
      noteDrop(dropped, discovered, kNoAddressLeft, target);
      return std::nullopt;
    }
    hashBuf_.clear();
    for (const Label* l : merged_) {
      if (std::string_view(l->name).starts_with(kMetaLabelPrefix)) continue;
      appendHashEntry(hashBuf_, l->name, l->value);
    }
    hashBuf_ += config_->jobName;
    hash = XXH64(hashBuf_.data(), hashBuf_.size(), 0);
  } else {
    work_.assignSorted(merged_);
    const auto& rs = config_->relabelConfigs;
    for (std::size_t r = 0; r < rs.size(); ++r)
      if (!relabelOne(rs[r], work_, config_->nameValidation, scratch_)) {
        noteDrop(dropped, discovered, static_cast<std::uint32_t>(r), work_);
        return std::nullopt;
      }
    if (work_.get(kAddressLabel).empty()) {  // Prometheus cannot scrape it: not served
      noteDrop(dropped, discovered, kNoAddressLeft, work_);
      return std::nullopt;
    }
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

namespace {
// True when the labelmap rule would set __address__ on `labels` (a name matching its regex expands to it).
bool labelMapWritesAddress(const RelabelConfig& rule, const Labels& labels, RelabelScratch& sc) {
  for (const auto& l : labels) {
    if (!rule.regex.match(l.name, sc.groups)) continue;
    sc.target.clear();
    rule.regex.expand(sc.target, rule.replacement, sc.groups);
    if (sc.target == kAddressLabel) return true;
  }
  return false;
}
}  // namespace

void TargetBuilder::buildGroup(const Labels& group, const std::vector<std::string>& addresses,
                               std::vector<Target>& out, std::vector<DroppedTarget>* dropped) const {
  auto oneByOne = [&] {
    for (const auto& addr : addresses) {
      own_.set(kAddressLabel, addr);  // an empty address deletes it, as build() expects
      if (auto t = build(group, own_, dropped)) out.push_back(std::move(*t));
    }
  };
  if (addresses.size() < 2 ||
      std::any_of(addresses.begin(), addresses.end(), [](const std::string& a) { return a.empty(); })) {
    oneByOne();
    return;
  }
  // Served labels: the group's, minus the served-out names and its own __address__ (the target's wins),
  // split around where __address__ sorts.
  servedBefore_.clear();
  servedAfter_.clear();
  std::uint32_t nBefore = 0, nAfter = 0;
  for (const auto& l : group) {
    std::string_view name = l.name;
    if (name == kAddressLabel || isServedOut(name)) continue;
    if (name < kAddressLabel) {
      PackedLabels::appendEntry(servedBefore_, name, l.value);
      ++nBefore;
    } else {
      PackedLabels::appendEntry(servedAfter_, name, l.value);
      ++nAfter;
    }
  }
  const auto& rules = config_->relabelConfigs;
  const bool relabeling = filter_ && !rules.empty();
  std::size_t prefix = 0;
  if (relabeling) {
    // The rules before the first one that reads or may write __address__ see the same labels for every
    // target of the group (only __address__ differs): run them once, on the first target.
    own_.set(kAddressLabel, addresses[0]);
    mergeSeeded(group, own_, seeds_, &disableSharding_, merged_);
    work_.assignSorted(merged_);
    for (; prefix < rules.size(); ++prefix) {
      const AddressUse use = touchesAddress_[prefix];
      if (use == AddressUse::Always) break;
      if (use == AddressUse::ByNames && labelMapWritesAddress(rules[prefix], work_, scratch_)) break;
      if (!relabelOne(rules[prefix], work_, config_->nameValidation, scratch_)) {  // drops the whole group
        for (const auto& addr : addresses) noteDrop(dropped, addr, static_cast<std::uint32_t>(prefix), work_);
        return;
      }
    }
    if (work_.get(kAddressLabel) != addresses[0]) {  // cannot happen (see touchesAddress_); stay exact anyway
      oneByOne();
      return;
    }
    snapshot_ = work_;
  } else {
    // Identity hash input: the non-meta seeded labels in name order, with __address__'s place left open.
    mergeSeeded(group, Labels{}, seeds_, nullptr, merged_);
    hashBefore_.clear();
    hashAfter_.clear();
    for (const Label* l : merged_) {
      std::string_view name = l->name;
      if (name == kAddressLabel || name.starts_with(kMetaLabelPrefix)) continue;
      appendHashEntry(name < kAddressLabel ? hashBefore_ : hashAfter_, name, l->value);
    }
    hashAfter_ += config_->jobName;
  }
  for (const auto& addr : addresses) {
    std::uint64_t hash;
    if (relabeling) {
      work_ = snapshot_;  // element-wise: reuses the strings' buffers
      work_.set(kAddressLabel, addr);
      std::size_t r = prefix;
      while (r < rules.size() && relabelOne(rules[r], work_, config_->nameValidation, scratch_)) ++r;
      if (r < rules.size()) {
        noteDrop(dropped, addr, static_cast<std::uint32_t>(r), work_);
        continue;
      }
      if (work_.get(kAddressLabel).empty()) {  // no __address__ left: not served
        noteDrop(dropped, addr, kNoAddressLeft, work_);
        continue;
      }
      work_.del(kDisableSharding);
      hash = targetHash(work_, config_->jobName, hashBuf_);
    } else {
      // hashBefore_ + "__address__\xff" + addr + "\xff" + hashAfter_, written in place.
      const std::size_t size = hashBefore_.size() + kAddressLabel.size() + addr.size() + 2 + hashAfter_.size();
      hashBuf_.resize(size);
      char* p = hashBuf_.data();
      auto put = [&p](std::string_view part) {
        if (!part.empty()) __builtin_memcpy(p, part.data(), part.size());
        p += part.size();
      };
      put(hashBefore_);
      put(kAddressLabel);
      *p++ = '\xff';
      put(addr);
      *p++ = '\xff';
      put(hashAfter_);
      hash = XXH64(hashBuf_.data(), size, 0);
    }
    Target& t = out.emplace_back();
    t.job = job_;
    t.hash = hash;
    t.labels = PackedLabels::assemble(servedBefore_, nBefore, kAddressLabel, addr, servedAfter_, nAfter);
    t.addressHash = XXH64(addr.data(), addr.size(), 0);
  }
}

void TargetBuilder::buildObject(const Labels& group, const std::vector<Labels>& targets, std::vector<Target>& out,
                                std::vector<DroppedTarget>* dropped) const {
  if (targets.empty()) return;
  const auto& rules = config_->relabelConfigs;
  if (!filter_ || rules.empty()) {
    for (const auto& t : targets)
      if (auto built = build(group, t, dropped)) out.push_back(std::move(*built));
    return;
  }
  // The names some target sets itself: a rule that reads or may write none of them sees the same labels
  // for every target of the object.
  ownNames_.clear();
  for (const auto& t : targets)
    for (const auto& l : t) ownNames_.push_back(l.name);
  std::sort(ownNames_.begin(), ownNames_.end());
  ownNames_.erase(std::unique(ownNames_.begin(), ownNames_.end()), ownNames_.end());
  auto own = [&](std::string_view n) { return std::binary_search(ownNames_.begin(), ownNames_.end(), n); };
  auto shared = [&](const RelabelConfig& r) {
    using A = RelabelAction;
    for (const auto& src : r.sourceLabels)
      if (own(src)) return false;
    switch (r.action) {
      case A::Keep:
      case A::Drop: return true;
      case A::Replace: return r.targetLabel.find('$') == std::string::npos && !own(r.targetLabel);
      case A::Lowercase:
      case A::Uppercase:
      case A::HashMod:
      case A::KeepEqual:
      case A::DropEqual: return !own(r.targetLabel);
      case A::LabelMap:
      case A::LabelDrop:
      case A::LabelKeep: return false;
    }
    return false;
  };
  mergeSeeded(group, Labels{}, seeds_, &disableSharding_, merged_);
  work_.assignSorted(merged_);
  std::size_t prefix = 0;
  for (; prefix < rules.size() && shared(rules[prefix]); ++prefix)
    if (!relabelOne(rules[prefix], work_, config_->nameValidation, scratch_)) {  // drops every target
      for (const auto& t : targets) noteDrop(dropped, t.get(kAddressLabel), static_cast<std::uint32_t>(prefix), work_);
      return;
    }
  snapshot_ = work_;
  static const std::vector<Label> kNoSeeds;
  for (const auto& t : targets) {
    // The shared result overlaid by the target's own labels (which no shared rule read or wrote).
    mergeSeeded(snapshot_, t, kNoSeeds, nullptr, merged_);
    std::uint64_t hash;
    if (prefix == rules.size()) {
      hashBuf_.clear();
      for (const Label* l : merged_) {
        std::string_view name = l->name;
        if (name.starts_with(kMetaLabelPrefix) || name == kDisableSharding) continue;
        appendHashEntry(hashBuf_, name, l->value);
      }
      hashBuf_ += config_->jobName;
      hash = XXH64(hashBuf_.data(), hashBuf_.size(), 0);
    } else {
      work_.assignSorted(merged_);
      std::size_t r = prefix;
      while (r < rules.size() && relabelOne(rules[r], work_, config_->nameValidation, scratch_)) ++r;
      if (r < rules.size()) {
        noteDrop(dropped, t.get(kAddressLabel), static_cast<std::uint32_t>(r), work_);
        continue;
      }
      if (work_.get(kAddressLabel).empty()) {  // no __address__ left: not served (as build())
        noteDrop(dropped, t.get(kAddressLabel), kNoAddressLeft, work_);
        continue;
      }
      work_.del(kDisableSharding);
      hash = targetHash(work_, config_->jobName, hashBuf_);
    }
    Target& built = out.emplace_back();
    built.job = job_;
    built.hash = hash;
    built.labels = PackedLabels::merge(group, t, isServedOut);
    auto addr = built.address();
    built.addressHash = XXH64(addr.data(), addr.size(), 0);
  }
}

std::string dropReason(const ScrapeConfig& config, const DroppedTarget& d) {
  if (d.rule == kNoAddressLeft) return "no __address__ left after relabel_configs (Prometheus cannot scrape it)";
  const std::string at = "relabel_configs[" + std::to_string(d.rule) + "]";
  if (d.rule >= config.relabelConfigs.size()) return at;
  const auto& r = config.relabelConfigs[d.rule];
  std::string sources;
  for (const auto& l : r.sourceLabels) sources += (sources.empty() ? "" : ", ") + l;
  auto quoted = [](const std::string& v) { return Json(v).dump(); };
  std::string out = at + " " + std::string(actionName(r.action)) + " [" + sources + "]";
  switch (r.action) {
    case RelabelAction::Keep: return out + ": " + quoted(d.values) + " does not match " + quoted(r.regex.source());
    case RelabelAction::Drop: return out + ": " + quoted(d.values) + " matches " + quoted(r.regex.source());
    case RelabelAction::KeepEqual: return out + ": " + quoted(d.values) + " is not the value of " + r.targetLabel;
    case RelabelAction::DropEqual: return out + ": " + quoted(d.values) + " is the value of " + r.targetLabel;
    default: return out;
  }
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
        // file_sd files hold target lists, not objects: one document may take the whole stream bound.
        Json doc = parseYaml(readFile(file), file, YamlLimits{kYamlMaxStreamBytes, kYamlMaxStreamBytes});
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

std::vector<Target> buildTargets(const PromConfig& config, const std::string& baseDir, bool relabelFilter,
                                 const std::vector<std::vector<TargetGroup>>* extra) {
  std::vector<Target> out;
  std::vector<std::vector<TargetGroup>> fileGroups(config.scrapeConfigs.size());
  std::size_t total = 0;
  for (std::size_t j = 0; j < config.scrapeConfigs.size(); ++j) {
    fileGroups[j] = loadFileSd(config.scrapeConfigs[j], baseDir);
    for (const auto& g : config.scrapeConfigs[j].staticConfigs) total += g.targets.size();
    for (const auto& g : fileGroups[j]) total += g.targets.size();
    if (extra && j < extra->size())
      for (const auto& g : (*extra)[j]) total += g.targets.size();
  }
  out.reserve(total);
  for (std::size_t j = 0; j < config.scrapeConfigs.size(); ++j) {
    const auto& sc = config.scrapeConfigs[j];
    TargetBuilder b(sc, static_cast<std::uint32_t>(j), relabelFilter);
    for (const auto& g : sc.staticConfigs) b.buildGroup(g.labels, g.targets, out);
    for (const auto& g : fileGroups[j]) b.buildGroup(g.labels, g.targets, out);
    if (extra && j < extra->size())
      for (const auto& g : (*extra)[j]) b.buildGroup(g.labels, g.targets, out);
  }
  // Deduplicate by identity: a repeated identity keeps the first one's position and the last one's
  // content. Open addressing over positions in the compacted vector.
  if (out.size() < 2) return out;
  std::size_t cap = 16;
  while (cap < out.size() * 2) cap *= 2;
  constexpr std::uint32_t kEmpty = 0xffffffffu;
  std::vector<std::uint32_t> table(cap, kEmpty);
  std::size_t w = 0;
  auto home = [&](std::uint64_t h) { return (h ^ (h >> 29)) & (cap - 1); };
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i + 8 < out.size()) __builtin_prefetch(&table[home(out[i + 8].hash)]);  // random cells: fetch ahead
    std::uint64_t h = out[i].hash;
    for (std::size_t k = home(h);; k = (k + 1) & (cap - 1)) {
      if (table[k] == kEmpty) {
        table[k] = static_cast<std::uint32_t>(w);
        if (w != i) out[w] = std::move(out[i]);
        ++w;
        break;
      }
      if (out[table[k]].hash == h) {
        out[table[k]] = std::move(out[i]);
        break;
      }
    }
  }
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(w), out.end());
  return out;
}

}  // namespace otel::prom
