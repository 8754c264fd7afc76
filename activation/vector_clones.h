// Marks a function to be compiled three times, for AVX-512 (x86-64-v4), AVX2 + FMA (v3) and
// the baseline, the loader picking the build the CPU runs (GCC's target_clones, an ifunc).
// Elsewhere (other compilers or CPUs) it marks nothing.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ACTSEARCH_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ACTSEARCH_VECTOR_CLONES
#endif
