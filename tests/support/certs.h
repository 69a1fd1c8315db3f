// Test certificates: lib/http/certs (one implementation for the tests and the webhooks' own certificates).
#pragma once
#include "lib/http/certs.h"

namespace otel::testing {

using otel::http::CertKey;
using otel::http::generateCa;
using otel::http::generateCert;

}  // namespace otel::testing
