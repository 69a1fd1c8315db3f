#include "lib/http/metrics.h"

#include <cmath>
#include <cstdio>

namespace otel::http {

std::string formatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string escapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {
std::string labelText(const MetricLabels& labels, const std::string& extraName = {}, const std::string& extraValue = {}) {
  if (labels.empty() && extraName.empty()) return "";
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) s += ",";
    first = false;
    s += k + "=\"" + escapeLabelValue(v) + "\"";
  }
  if (!extraName.empty()) {
    if (!first) s += ",";
    s += extraName + "=\"" + extraValue + "\"";
  }
  return s + "}";
}
}  // namespace

Registry::Family& Registry::family(const std::string& name, const std::string& type, const std::string& help) {
  auto& f = families_[name];
  f.type = type;
  if (f.help.empty()) f.help = help;
  return f;
}

void Registry::setGauge(const std::string& name, const std::string& help, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  family(name, "gauge", help).values[labels] = value;
}

void Registry::resetGauge(const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) it->second.values.clear();
}

void Registry::addCounter(const std::string& name, const std::string& help, const MetricLabels& labels, double delta) {
  std::lock_guard lock(mu_);
  family(name, "counter", help).values[labels] += delta;
}

void Registry::observe(const std::string& name, const std::string& help, const MetricLabels& labels, double value,
                       const std::vector<double>& buckets) {
  std::lock_guard lock(mu_);
  auto& h = family(name, "histogram", help).histograms[labels];
  if (h.bounds.empty()) {
    h.bounds = buckets;
    h.counts.assign(buckets.size(), 0);
  }
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.values.empty() && f.histograms.empty()) continue;
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.values) out += name + labelText(labels) + " " + formatMetricValue(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out += name + "_bucket" + labelText(labels, "le", formatMetricValue(h.bounds[i])) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + labelText(labels, "le", "+Inf") + " " + std::to_string(h.count) + "\n";
      out += name + "_sum" + labelText(labels) + " " + formatMetricValue(h.sum) + "\n";
      out += name + "_count" + labelText(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace otel::http
