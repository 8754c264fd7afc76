// How the training process's C library allocator treats large freed blocks.
#pragma once

namespace actsearch::worker {

// glibc's malloc hands large freed blocks back to the kernel (munmap, heap trimming) and maps
// them again on the next allocation, every page faulted in and zeroed anew. A training step
// allocates the same activation-sized tensors every step: on the 2-core VM, ResNet-20 on the CPU
// paid about 20,000 page faults per step that way, 10-20% of the step. This makes blocks up to
// 32 MB (glibc's ceiling) come from the heap and the heap keep what is freed, so that the
// process reuses its memory. Idempotent; does nothing with another C library.
void KeepFreedMemoryForReuse();

}  // namespace actsearch::worker
