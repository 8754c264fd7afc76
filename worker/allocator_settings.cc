#include "worker/allocator_settings.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace actsearch::worker {

void KeepFreedMemoryForReuse() {
#if defined(__GLIBC__)
  constexpr int kLargestHeapBlock = 32 << 20;  // M_MMAP_THRESHOLD's maximum on 64-bit glibc
  constexpr int kNeverTrim = 1 << 30;          // keep up to 1 GB of freed heap in the process
  mallopt(M_MMAP_THRESHOLD, kLargestHeapBlock);
  mallopt(M_TRIM_THRESHOLD, kNeverTrim);
#endif
}

}  // namespace actsearch::worker
