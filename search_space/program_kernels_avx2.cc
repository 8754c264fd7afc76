// The single-precision evaluator built for avx2; the flags are set in CMakeLists.txt.
#include "search_space/program_kernels.h"
#include "search_space/program_kernels_isa.h"

namespace actsearch::detail {

FloatKernels Avx2FloatKernels() {
  return {"avx2", &EvaluateForward<float>, &EvaluateBackward<float>};
}

}  // namespace actsearch::detail
