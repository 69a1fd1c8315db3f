// The project's object model: an order-preserving JSON value (client-go's "unstructured").
#pragma once
#include <nlohmann/json.hpp>

namespace otel {
using Json = nlohmann::ordered_json;
}  // namespace otel
