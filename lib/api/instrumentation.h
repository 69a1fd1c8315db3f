// Instrumentation v1alpha1 (opentelemetry.io): a typed read view over the object (unknown fields stay in
// the Json), the webhook's defaulting (images, resources, httpd/nginx paths) and validation (exact messages).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/json.h"

namespace otel::api {

inline constexpr const char* kInstrumentationKind = "Instrumentation";
inline constexpr const char* kInstrumentationApiVersion = "opentelemetry.io/v1alpha1";

// The languages of spec.<lang>, in upstream's processing order (java, nodejs, python, dotnet, go,
// apacheHttpd, nginx) plus sdk (common env only, no spec section).
enum class Language { Java, NodeJS, Python, DotNet, Go, ApacheHttpd, Nginx, Sdk };

inline constexpr Language kAllLanguages[] = {Language::Java,  Language::NodeJS,      Language::Python,
                                             Language::DotNet, Language::Go,          Language::ApacheHttpd,
                                             Language::Nginx, Language::Sdk};

// CLI / annotation spelling: java, nodejs, python, dotnet, go, apache-httpd, nginx, sdk.
std::string languageName(Language l);
std::optional<Language> parseLanguage(std::string_view s);
// Key of the language section under spec ("java", "nodejs", "python", "dotnet", "go", "apacheHttpd",
// "nginx"); "" for sdk.
std::string languageSpecKey(Language l);
// JSON name of the resources field of a language section: "resources" for java, else "resourceRequirements".
std::string languageResourcesKey(Language l);
// Image the operator defaults for a language (versions of upstream v0.158.0).
std::string defaultLanguageImage(Language l);

// Read-only view; `obj` must outlive the view.
class InstrumentationView {
 public:
  explicit InstrumentationView(const Json& obj) : obj_(&obj) {}
  const Json& object() const { return *obj_; }
  std::string name() const;
  std::string ns() const;  // metadata.namespace ("" when unset)
  const Json& spec() const;  // empty object when absent

  std::string endpoint() const;  // spec.exporter.endpoint
  const Json* tls() const;       // spec.exporter.tls or nullptr
  std::vector<std::string> propagators() const;
  std::string samplerType() const;
  std::string samplerArgument() const;
  bool useLabelsForResourceAttributes() const;  // spec.defaults.useLabelsForResourceAttributes
  bool addK8sUIDAttributes() const;             // spec.resource.addK8sUIDAttributes
  // spec.resource.resourceAttributes (string map; non-string values are skipped)
  std::vector<std::pair<std::string, std::string>> resourceAttributes() const;
  const Json& env() const;  // spec.env (array, possibly empty)
  std::string imagePullPolicy() const;
  const Json* initContainerSecurityContext() const;

  // spec.<lang> section (empty object when absent or for sdk) and its parts.
  const Json& language(Language l) const;
  std::string image(Language l) const;  // the section's image, else the default image
  const Json& languageEnv(Language l) const;
  const Json* resources(Language l) const;  // nullptr when unset
  const Json* volumeClaimTemplate(Language l) const;
  std::string volumeLimitSize(Language l) const;  // "" when unset

 private:
  const Json* obj_;
};

// Applies the Instrumentation webhook's defaults in place: per-language images and resources (limits
// 500m/256Mi; requests java/python/go 50m/64Mi, nodejs/dotnet 50m/128Mi, httpd/nginx 1m/128Mi),
// apacheHttpd version 2.4 and configPath, nginx configFile, and the default-image annotations.
void defaultInstrumentation(Json& obj);

struct InstrumentationDiagnostics {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// Upstream's validation: sampler type/argument, volume size conflicts (errors, exact upstream strings);
// "sampler type not set", TLS/https mismatches, deprecated volumeLimitSize (warnings).
InstrumentationDiagnostics validateInstrumentation(const Json& obj);

// An Instrumentation named `name` in `ns` that stands for `--endpoint URL [--propagators] [--sampler]`:
// exporter endpoint, propagators (default tracecontext,baggage) and sampler (default
// parentbased_traceidratio "1"), then defaulted. `sampler` is "type" or "type=argument".
Json inlineInstrumentation(const std::string& name, const std::string& ns, const std::string& endpoint,
                           const std::vector<std::string>& propagators, const std::string& sampler);

}  // namespace otel::api
