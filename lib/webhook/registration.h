// Registering the webhooks by URL for a controller outside the cluster (`kubectl otel run --webhook-host`):
// every webhook of a Mutating/ValidatingWebhookConfiguration, and a CRD's conversion webhook, is pointed at
// `https://HOST:PORT<path>` with our CA, and what it pointed at before is kept in an annotation on the same
// object, so the registration can be undone on exit — or by the next run after a crash. PURE.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel::webhook {

// The annotation holding the clientConfigs an URL registration replaced (JSON: webhook name -> clientConfig;
// "conversion" for a CRD).
inline constexpr const char* kRestoreAnnotation = "kubectl-otel.io/restore-client-config";

// Points every webhook (or the CRD's conversion webhook) at baseUrl + its service path with `caBundle`
// (base64 PEM). The clientConfigs replaced are kept in kRestoreAnnotation unless it is there already (an
// earlier registration that was not undone: its originals are the ones to restore). Returns true when the
// object changed. Objects with nothing to register (a CRD without a conversion webhook) are left alone.
bool registerByUrl(Json& object, const std::string& baseUrl, const std::string& caBundle);

// Undoes registerByUrl from kRestoreAnnotation, which it removes. Returns true when the object changed.
bool restoreRegistration(Json& object);

}  // namespace otel::webhook
