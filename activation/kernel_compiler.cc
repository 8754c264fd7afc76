#include "activation/kernel_compiler.h"

#include <nvrtc.h>

#include <memory>
#include <vector>

namespace actsearch {
namespace {

void Check(nvrtcResult result, const char* what) {
  if (result != NVRTC_SUCCESS) {
    throw KernelCompileError(std::string(what) + ": " + nvrtcGetErrorString(result));
  }
}

}  // namespace

std::string CompileToPtx(const KernelSource& source, int arch) {
  nvrtcProgram program = nullptr;
  Check(nvrtcCreateProgram(&program, source.text.c_str(), ("act_" + source.key + ".cu").c_str(), 0,
                           nullptr, nullptr),
        "nvrtcCreateProgram");
  const std::unique_ptr<nvrtcProgram, void (*)(nvrtcProgram*)> owned(
      &program, [](nvrtcProgram* p) { nvrtcDestroyProgram(p); });
  const std::string architecture = "--gpu-architecture=compute_" + std::to_string(arch);
  const std::vector<const char*> options = {architecture.c_str(), "--std=c++17"};
  const nvrtcResult compiled =
      nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  if (compiled != NVRTC_SUCCESS) {
    size_t size = 0;
    nvrtcGetProgramLogSize(program, &size);
    std::string log(size, '\0');
    nvrtcGetProgramLog(program, log.data());
    throw KernelCompileError("NVRTC could not compile the generated kernels (" +
                             std::string(nvrtcGetErrorString(compiled)) + "):\n" + log);
  }
  size_t size = 0;
  Check(nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
  std::string ptx(size, '\0');
  Check(nvrtcGetPTX(program, ptx.data()), "nvrtcGetPTX");
  return ptx;
}

}  // namespace actsearch
