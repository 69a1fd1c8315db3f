#include "lib/manifests/naming.h"

#include <cctype>

namespace otel::manifests::naming {

namespace {
std::string format(const std::string& fmt, const std::vector<std::string>& values) {
  std::string out;
  size_t vi = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '%' && i + 1 < fmt.size() && fmt[i + 1] == 's') {
      out += vi < values.size() ? values[vi++] : "";
      ++i;
    } else {
      out += fmt[i];
    }
  }
  return out;
}
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
std::string trimNonAlnum(std::string s) {
  size_t b = 0;
  while (b < s.size() && !alnum(s[b])) ++b;
  size_t e = s.size();
  while (e > b && !alnum(s[e - 1])) --e;
  return s.substr(b, e - b);
}
}  // namespace

std::string truncate(const std::string& fmt, size_t max, const std::vector<std::string>& values) {
  std::string result = format(fmt, values);
  if (result.size() > max) {
    size_t excess = result.size() - max;
    std::vector<std::string> cut;
    for (const auto& v : values) {
      if (excess == 0) {
        cut.push_back(v);
        continue;
      }
      if (v.size() > excess) {
        cut.push_back(v.substr(0, v.size() - excess));
        excess = 0;
      } else {
        cut.push_back("");
        excess -= v.size();
      }
    }
    result = format(fmt, cut);
  }
  if (result.size() > max) return result.substr(0, max);
  return trimNonAlnum(result);
}

std::string dnsName(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) c = (i == 0 || i == s.size() - 1) ? 'a' : '-';
    out += c;
  }
  return out;
}

static std::string dn(const std::string& fmt, const std::vector<std::string>& v) { return dnsName(truncate(fmt, 63, v)); }

std::string collector(const std::string& n) { return dn("%s-collector", {n}); }
std::string configMap(const std::string& n, const std::string& hash) {
  return dn("%s-collector-%s", {n, hash.substr(0, 8)});
}
std::string headlessService(const std::string& n) { return dn("%s-headless", {collector(n)}); }
std::string monitoringService(const std::string& n) { return dn("%s-monitoring", {collector(n)}); }
std::string extensionService(const std::string& n) { return dn("%s-extension", {collector(n)}); }
std::string ingress(const std::string& n) { return dn("%s-ingress", {n}); }
std::string networkPolicy(const std::string& n) { return dn("%s-collector-networkpolicy", {n}); }
std::string clusterRole(const std::string& n, const std::string& ns) { return dn("%s-%s-cluster-role", {n, ns}); }
std::string clusterRoleBinding(const std::string& n, const std::string& ns) { return dn("%s-%s-collector", {n, ns}); }
std::string monitoringServiceMonitor(const std::string& n) { return dn("%s-monitoring-collector", {n}); }
std::string targetAllocator(const std::string& n) { return dn("%s-targetallocator", {n}); }
std::string targetAllocatorNetworkPolicy(const std::string& n) { return dn("%s-targetallocator-networkpolicy", {n}); }
std::string portNameTruncated(const std::string& name) { return truncate("%s", 15, {name}); }

}  // namespace otel::manifests::naming
