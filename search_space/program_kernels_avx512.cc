// The single-precision evaluator built for avx512; the flags are set in CMakeLists.txt.
#include "search_space/program_kernels.h"
#include "search_space/program_kernels_isa.h"

namespace actsearch::detail {

FloatKernels Avx512FloatKernels() {
  return {"avx512", &EvaluateForward<float>, &EvaluateBackward<float>};
}

}  // namespace actsearch::detail
