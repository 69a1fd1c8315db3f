// Go encoding/json compatible serializer: the bytes json.Marshal writes for the same value
// (map keys sorted, <>& and U+2028/2029 escaped, float64 formatting). Used for config hashes.
#pragma once
#include <string>

#include "lib/core/json.h"

namespace otel {

// Encodes like Go's json.Marshal of the map[string]interface{} that decoding `value` would give.
std::string goJsonMarshal(const Json& value);

// Go's strconv.FormatFloat(f, 'g'-like json rules, -1, 64) as encoding/json writes float64.
std::string goFormatFloat(double f);

}  // namespace otel
