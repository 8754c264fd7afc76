// The single-precision evaluator, built once per instruction set (see program_kernels.h).
#pragma once

#include "search_space/program.h"

namespace actsearch::detail {

struct FloatKernels {
  const char* instruction_set;
  void (*forward)(const ProgramCode&, int64_t n, const float* x, const float* const* betas,
                  float* y);
  void (*backward)(const ProgramCode&, int64_t n, const float* x, const float* const* betas,
                   const float* grad_y, float* grad_x, float* const* grad_betas);
};

FloatKernels GenericFloatKernels();
FloatKernels Avx2FloatKernels();    // requires AVX2 and FMA
FloatKernels Avx512FloatKernels();  // requires AVX-512 F, DQ and VL

}  // namespace actsearch::detail
