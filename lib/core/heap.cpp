#include "lib/core/heap.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace otel {

void tuneHeapForReloads() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);   // glibc's maximum: blocks up to 32 MiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);  // keep up to 512 MiB of freed heap for the next reload
#endif
}

}  // namespace otel
