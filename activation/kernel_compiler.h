// Generated kernel source (activation/kernel_source.h) to PTX with NVRTC, which needs no GPU.
// Built only where the CUDA toolkit is (ACTSEARCH_HAS_NVRTC); the launcher loads the PTX.
#pragma once

#include <stdexcept>
#include <string>

#include "activation/kernel_source.h"

namespace actsearch {

// A compilation that failed, with NVRTC's log.
class KernelCompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// PTX for compute capability `arch` (90 for Hopper). Throws KernelCompileError.
std::string CompileToPtx(const KernelSource& source, int arch);

}  // namespace actsearch
