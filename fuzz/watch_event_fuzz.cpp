// JSON decoding of watch events: the stream fed in slices whose sizes come from the input's first byte.
#include "fuzz/fuzz_common.h"
#include "lib/kube/watch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  int events = 0;
  otel::kube::WatchDecoder dec(
      [&](otel::kube::WatchEvent&& ev) {
        ev.resourceVersion();
        otel::kube::eventTypeName(ev.type);
        return ++events < 1000;
      },
      4096);
  OTEL_FUZZ_TRY({
    for (size_t off = 0; off < stream.size(); off += step)
      if (!dec.feed(stream.substr(off, step))) break;
  });
  return 0;
}
