// One TLS handshake against a local server, for tests of what it serves (webhook certificate rotation).
#pragma once
#include <string>

namespace otel::testing {

// A handshake to 127.0.0.1:port verifying against the PEM bundle: the served leaf's PEM, or "error: ..."
// when the connection or the handshake fails.
std::string servedCertificate(int port, const std::string& bundlePem);

}  // namespace otel::testing
