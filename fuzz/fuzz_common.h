// Shared by the libFuzzer targets: bad input must give an exception (the verbs print it on one line),
// never a crash, a hang or a sanitizer report. Every exception type is accepted here: the verbs' boundary
// catches std::exception too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#define OTEL_FUZZ_TRY(body)          \
  try {                              \
    body;                            \
  } catch (const std::exception&) { \
  }
