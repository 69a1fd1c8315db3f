// Hashing helpers: sha256 (OpenSSL) and base64.
#pragma once
#include <string>
#include <string_view>

namespace otel {

std::string sha256Hex(std::string_view data);
std::string base64Encode(std::string_view data);
// Throws otel::Error on invalid input.
std::string base64Decode(std::string_view data);

}  // namespace otel
