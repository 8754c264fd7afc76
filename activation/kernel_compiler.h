// Generated kernel source (activation/kernel_source.h) compiled with NVRTC, which needs no GPU.
// NVRTC is loaded when first needed (dlopen), not linked: a build that has the CUDA headers runs
// on machines without the toolkit, and on a GPU machine it uses the NVRTC PyTorch brought.
#pragma once

#include <stdexcept>
#include <string>

#include "activation/kernel_source.h"

namespace actsearch {

// A compilation that failed (with NVRTC's log), or NVRTC that could not be loaded.
class KernelCompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KernelBinary {
  kPtx,    // for compute_XY: portable, the driver finishes it on load
  kCubin,  // for sm_XY: ready to load
};

// The binary for compute capability `arch` (90 for Hopper). Throws KernelCompileError.
std::string CompileKernels(const KernelSource& source, int arch, KernelBinary binary);

}  // namespace actsearch
