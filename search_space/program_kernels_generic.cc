// The single-precision evaluator built for generic; the flags are set in CMakeLists.txt.
#include "search_space/program_kernels.h"
#include "search_space/program_kernels_isa.h"

namespace actsearch::detail {

FloatKernels GenericFloatKernels() {
  return {"generic", &EvaluateForward<float>, &EvaluateBackward<float>};
}

}  // namespace actsearch::detail
