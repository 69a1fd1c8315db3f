// Prometheus metrics in the text exposition format (0.0.4): gauges, counters and histograms with
// labels, thread-safe, rendered for /metrics (bookworm ships no prometheus-cpp).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace otel::http {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  void setGauge(const std::string& name, const std::string& help, const MetricLabels& labels, double value);
  // Drops every series of a gauge (before re-setting a family whose label values changed).
  void resetGauge(const std::string& name);
  void addCounter(const std::string& name, const std::string& help, const MetricLabels& labels, double delta = 1);
  void observe(const std::string& name, const std::string& help, const MetricLabels& labels, double value,
               const std::vector<double>& buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;  // per bound (non-cumulative)
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<MetricLabels, double> values;
    std::map<MetricLabels, Histogram> histograms;
  };
  Family& family(const std::string& name, const std::string& type, const std::string& help);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// A sample value as Prometheus prints it (integers without a fraction, +Inf, NaN).
std::string formatMetricValue(double v);
// Escapes a label value (\\, \", \n).
std::string escapeLabelValue(const std::string& v);

}  // namespace otel::http
