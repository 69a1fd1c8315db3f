#include "lib/api/instrumentation.h"

#include "lib/api/common.h"

#include <cerrno>
#include <cstdlib>

namespace otel::api {
namespace {

const Json& emptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

const Json* child(const Json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(std::string(key));
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string childString(const Json& j, std::string_view key) {
  const Json* c = child(j, key);
  return c && c->is_string() ? c->get<std::string>() : std::string();
}

bool isBlankObject(const Json* j) { return j == nullptr || (j->is_object() && j->empty()); }

// Go's strconv.ParseFloat for the forms users write (decimal, exponent, inf/nan rejected as the webhook
// would accept them but they never fit [0..1] anyway).
bool parseFloat(const std::string& s, double& out) {
  if (s.empty()) return false;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  out = std::strtod(begin, &end);
  return end == begin + s.size() && errno != ERANGE;
}

bool parseInt(const std::string& s, long long& out) {
  if (s.empty()) return false;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(begin, &end, 10);
  return end == begin + s.size() && errno != ERANGE;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// "" when valid, else the reason (upstream validateJaegerRemoteSamplerArgument).
std::string jaegerRemoteArgumentError(const std::string& argument) {
  for (const auto& part : split(argument, ',')) {
    auto kv = split(part, '=');
    if (kv.size() != 2) return "invalid argument: " + part + ", the argument should be in the form of key=value";
    if (kv[0] == "endpoint") {
      if (kv[1].empty()) return "endpoint cannot be empty";
    } else if (kv[0] == "pollingIntervalMs") {
      long long v = 0;
      if (!parseInt(kv[1], v)) return "invalid pollingIntervalMs: " + kv[1];
    } else if (kv[0] == "initialSamplingRate") {
      double rate = 0;
      if (!parseFloat(kv[1], rate)) return "invalid initialSamplingRate: " + kv[1];
      if (rate < 0 || rate > 1) return "initialSamplingRate should be in rage [0..1]: " + kv[1];
    }
  }
  return "";
}

// Lower-case section name used in upstream's validation messages.
std::string messageKey(Language l) {
  switch (l) {
    case Language::ApacheHttpd: return "apachehttpd";
    default: return languageSpecKey(l);
  }
}

}  // namespace

std::string languageName(Language l) {
  switch (l) {
    case Language::Java: return "java";
    case Language::NodeJS: return "nodejs";
    case Language::Python: return "python";
    case Language::DotNet: return "dotnet";
    case Language::Go: return "go";
    case Language::ApacheHttpd: return "apache-httpd";
    case Language::Nginx: return "nginx";
    case Language::Sdk: return "sdk";
  }
  return "";
}

std::optional<Language> parseLanguage(std::string_view s) {
  for (Language l : kAllLanguages)
    if (languageName(l) == s) return l;
  if (s == "apacheHttpd" || s == "apache") return Language::ApacheHttpd;
  if (s == "node") return Language::NodeJS;
  if (s == ".net" || s == "net") return Language::DotNet;
  return std::nullopt;
}

std::string languageSpecKey(Language l) {
  switch (l) {
    case Language::Java: return "java";
    case Language::NodeJS: return "nodejs";
    case Language::Python: return "python";
    case Language::DotNet: return "dotnet";
    case Language::Go: return "go";
    case Language::ApacheHttpd: return "apacheHttpd";
    case Language::Nginx: return "nginx";
    case Language::Sdk: return "";
  }
  return "";
}

std::string languageResourcesKey(Language l) { return l == Language::Java ? "resources" : "resourceRequirements"; }

std::string defaultLanguageImage(Language l) {
  const std::string op = "ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-";
  switch (l) {
    case Language::Java: return op + "java:2.30.0";
    case Language::NodeJS: return op + "nodejs:0.78.0";
    case Language::Python: return op + "python:0.64b0";
    case Language::DotNet: return op + "dotnet:1.16.0";
    case Language::Go: return "ghcr.io/open-telemetry/opentelemetry-go-instrumentation/autoinstrumentation-go:v0.24.0";
    case Language::ApacheHttpd: return op + "apache-httpd:1.0.4";
    case Language::Nginx: return op + "apache-httpd:1.0.4";
    case Language::Sdk: return "";
  }
  return "";
}

std::string InstrumentationView::name() const {
  const Json* m = child(*obj_, "metadata");
  return m ? childString(*m, "name") : "";
}
std::string InstrumentationView::ns() const {
  const Json* m = child(*obj_, "metadata");
  return m ? childString(*m, "namespace") : "";
}
const Json& InstrumentationView::spec() const {
  const Json* s = child(*obj_, "spec");
  return s && s->is_object() ? *s : emptyObject();
}
std::string InstrumentationView::endpoint() const {
  const Json* e = child(spec(), "exporter");
  return e ? childString(*e, "endpoint") : "";
}
const Json* InstrumentationView::tls() const {
  const Json* e = child(spec(), "exporter");
  const Json* t = e ? child(*e, "tls") : nullptr;
  return t && t->is_object() ? t : nullptr;
}
std::vector<std::string> InstrumentationView::propagators() const {
  std::vector<std::string> out;
  const Json* p = child(spec(), "propagators");
  if (p && p->is_array())
    for (const auto& v : *p)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}
std::string InstrumentationView::samplerType() const {
  const Json* s = child(spec(), "sampler");
  return s ? childString(*s, "type") : "";
}
std::string InstrumentationView::samplerArgument() const {
  const Json* s = child(spec(), "sampler");
  return s ? childString(*s, "argument") : "";
}
bool InstrumentationView::useLabelsForResourceAttributes() const {
  const Json* d = child(spec(), "defaults");
  const Json* u = d ? child(*d, "useLabelsForResourceAttributes") : nullptr;
  return u && u->is_boolean() && u->get<bool>();
}
bool InstrumentationView::addK8sUIDAttributes() const {
  const Json* r = child(spec(), "resource");
  const Json* u = r ? child(*r, "addK8sUIDAttributes") : nullptr;
  return u && u->is_boolean() && u->get<bool>();
}
std::vector<std::pair<std::string, std::string>> InstrumentationView::resourceAttributes() const {
  std::vector<std::pair<std::string, std::string>> out;
  const Json* r = child(spec(), "resource");
  const Json* a = r ? child(*r, "resourceAttributes") : nullptr;
  if (a && a->is_object())
    for (auto it = a->begin(); it != a->end(); ++it)
      if (it->is_string()) out.emplace_back(it.key(), it->get<std::string>());
  return out;
}
const Json& InstrumentationView::env() const {
  const Json* e = child(spec(), "env");
  return e && e->is_array() ? *e : emptyArray();
}
std::string InstrumentationView::imagePullPolicy() const { return childString(spec(), "imagePullPolicy"); }
const Json* InstrumentationView::initContainerSecurityContext() const {
  const Json* s = child(spec(), "initContainerSecurityContext");
  return s && s->is_object() ? s : nullptr;
}
const Json& InstrumentationView::language(Language l) const {
  if (l == Language::Sdk) return emptyObject();
  const Json* s = child(spec(), languageSpecKey(l));
  return s && s->is_object() ? *s : emptyObject();
}
std::string InstrumentationView::image(Language l) const {
  std::string img = childString(language(l), "image");
  return img.empty() ? defaultLanguageImage(l) : img;
}
const Json& InstrumentationView::languageEnv(Language l) const {
  const Json* e = child(language(l), "env");
  return e && e->is_array() ? *e : emptyArray();
}
const Json* InstrumentationView::resources(Language l) const {
  const Json* r = child(language(l), languageResourcesKey(l));
  return r && r->is_object() && !r->empty() ? r : nullptr;
}
const Json* InstrumentationView::volumeClaimTemplate(Language l) const {
  const Json* v = child(language(l), "volumeClaimTemplate");
  return v && v->is_object() && !v->empty() ? v : nullptr;
}
std::string InstrumentationView::volumeLimitSize(Language l) const {
  const Json* v = child(language(l), "volumeLimitSize");
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  return "";
}

void defaultInstrumentation(Json& obj) {
  if (!obj.is_object()) return;
  Json& spec = obj["spec"];
  if (!spec.is_object()) spec = Json::object();
  for (Language l : kAllLanguages) {
    if (l == Language::Sdk) continue;
    Json& sec = spec[languageSpecKey(l)];
    if (!sec.is_object()) sec = Json::object();
    if (!sec.contains("image") || !sec["image"].is_string() || sec["image"].get<std::string>().empty())
      sec["image"] = defaultLanguageImage(l);
    Json& res = sec[languageResourcesKey(l)];
    if (!res.is_object()) res = Json::object();
    bool webServer = l == Language::ApacheHttpd || l == Language::Nginx;
    if (isBlankObject(child(res, "limits"))) res["limits"] = Json{{"cpu", "500m"}, {"memory", "256Mi"}};
    if (isBlankObject(child(res, "requests"))) {
      if (webServer)
        res["requests"] = Json{{"cpu", "1m"}, {"memory", "128Mi"}};
      else if (l == Language::NodeJS || l == Language::DotNet)
        res["requests"] = Json{{"cpu", "50m"}, {"memory", "128Mi"}};
      else
        res["requests"] = Json{{"cpu", "50m"}, {"memory", "64Mi"}};
    }
    if (l == Language::ApacheHttpd) {
      if (childString(sec, "version").empty()) sec["version"] = "2.4";
      if (childString(sec, "configPath").empty()) sec["configPath"] = "/usr/local/apache2/conf";
    }
    if (l == Language::Nginx && childString(sec, "configFile").empty()) sec["configFile"] = "/etc/nginx/nginx.conf";
  }
  Json& meta = obj["metadata"];
  if (!meta.is_object()) meta = Json::object();
  Json& ann = meta["annotations"];
  if (!ann.is_object()) ann = Json::object();
  for (Language l : kAllLanguages) {
    if (l == Language::Sdk) continue;
    ann["instrumentation.opentelemetry.io/default-auto-instrumentation-" + languageName(l) + "-image"] =
        defaultLanguageImage(l);
  }
}

InstrumentationDiagnostics validateInstrumentation(const Json& obj) {
  InstrumentationDiagnostics d;
  InstrumentationView v(obj);
  const std::string type = v.samplerType();
  const std::string arg = v.samplerArgument();
  if (type.empty()) {
    d.warnings.push_back("sampler type not set");
  } else if (type == "traceidratio" || type == "parentbased_traceidratio") {
    if (!arg.empty()) {
      double rate = 0;
      if (!parseFloat(arg, rate)) {
        d.errors.push_back("spec.sampler.argument is not a number: " + arg);
        return d;
      }
      if (rate < 0 || rate > 1) {
        d.errors.push_back("spec.sampler.argument should be in rage [0..1]: " + arg);
        return d;
      }
    }
  } else if (type == "jaeger_remote" || type == "parentbased_jaeger_remote") {
    if (!arg.empty()) {
      std::string err = jaegerRemoteArgumentError(arg);
      if (!err.empty()) {
        d.errors.push_back("spec.sampler.argument is not a valid argument for sampler " + type + ": " + err);
        return d;
      }
    }
  } else if (type != "always_on" && type != "always_off" && type != "parentbased_always_on" &&
             type != "parentbased_always_off" && type != "xray") {
    d.errors.push_back("spec.sampler.type is not valid: " + type);
    return d;
  }
  // Upstream checks the languages in this order.
  for (Language l : {Language::ApacheHttpd, Language::DotNet, Language::Go, Language::Java, Language::Nginx,
                     Language::NodeJS, Language::Python}) {
    if (v.volumeClaimTemplate(l) && !v.volumeLimitSize(l).empty()) {
      d.errors.push_back("spec." + messageKey(l) + ".volumeClaimTemplate and spec." + messageKey(l) +
                         ".volumeSizeLimit cannot both be defined: unable to resolve volume size");
      return d;
    }
  }
  const std::string endpoint = v.endpoint();
  bool https = endpoint.rfind("https://", 0) == 0;
  if (const Json* tls = v.tls()) {
    std::string key = childString(*tls, "key_file"), cert = childString(*tls, "cert_file");
    if ((!key.empty() && cert.empty()) || (!cert.empty() && key.empty()))
      d.warnings.push_back("both exporter.tls.key and exporter.tls.cert mut be set");
    if (!https) d.warnings.push_back("exporter.tls is configured but exporter.endpoint is not enabling TLS with https://");
  }
  if (https && !v.tls()) d.warnings.push_back("exporter is using https:// but exporter.tls is unset");
  for (Language l : {Language::Java, Language::NodeJS, Language::Python, Language::DotNet, Language::Go,
                     Language::ApacheHttpd, Language::Nginx}) {
    if (!v.volumeLimitSize(l).empty())
      d.warnings.push_back("spec." + messageKey(l) + ".volumeSizeLimit is deprecated and will be removed in a future "
                           "release; use spec." + messageKey(l) + ".volume.size instead");
  }
  return d;
}

Json inlineInstrumentation(const std::string& name, const std::string& ns, const std::string& endpoint,
                           const std::vector<std::string>& propagators, const std::string& sampler) {
  Json obj = {{"apiVersion", kInstrumentationApiVersion}, {"kind", kInstrumentationKind}};
  obj["metadata"] = Json{{"name", name}};
  if (!ns.empty()) obj["metadata"]["namespace"] = ns;
  Json spec = Json::object();
  spec["exporter"] = Json{{"endpoint", endpoint}};
  Json props = Json::array();
  for (const auto& p : propagators.empty() ? std::vector<std::string>{"tracecontext", "baggage"} : propagators)
    props.push_back(p);
  spec["propagators"] = props;
  std::string type = sampler.empty() ? "parentbased_traceidratio=1" : sampler;
  auto eq = type.find('=');
  Json s = Json{{"type", type.substr(0, eq)}};
  if (eq != std::string::npos) s["argument"] = type.substr(eq + 1);
  spec["sampler"] = s;
  obj["spec"] = spec;
  defaultInstrumentation(obj);
  return obj;
}

}  // namespace otel::api
