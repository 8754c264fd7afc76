#include "activation/kernel_compiler.h"

#include <nvrtc.h>

#include <memory>
#include <vector>

#include "activation/dynamic_library.h"

namespace actsearch {
namespace {

// The NVRTC functions used here, resolved from the library once.
struct Nvrtc {
  decltype(&nvrtcCreateProgram) create = nullptr;
  decltype(&nvrtcDestroyProgram) destroy = nullptr;
  decltype(&nvrtcCompileProgram) compile = nullptr;
  decltype(&nvrtcGetProgramLogSize) log_size = nullptr;
  decltype(&nvrtcGetProgramLog) log = nullptr;
  decltype(&nvrtcGetPTXSize) ptx_size = nullptr;
  decltype(&nvrtcGetPTX) ptx = nullptr;
  decltype(&nvrtcGetCUBINSize) cubin_size = nullptr;
  decltype(&nvrtcGetCUBIN) cubin = nullptr;
  decltype(&nvrtcGetErrorString) error = nullptr;
  std::string problem;  // why it could not be loaded; empty when it was
};

const Nvrtc& LoadNvrtc() {
  static const Nvrtc nvrtc = [] {
    Nvrtc n;
    void* library = OpenFirstLibrary({"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"});
    if (!library) {
      n.problem = "NVRTC (libnvrtc.so) is not installed or not on the library path";
      return n;
    }
    ResolveFunction(library, "nvrtcCreateProgram", n.create, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcDestroyProgram", n.destroy, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcCompileProgram", n.compile, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetProgramLogSize", n.log_size, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetProgramLog", n.log, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetPTXSize", n.ptx_size, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetPTX", n.ptx, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetCUBINSize", n.cubin_size, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetCUBIN", n.cubin, n.problem, "NVRTC");
    ResolveFunction(library, "nvrtcGetErrorString", n.error, n.problem, "NVRTC");
    return n;
  }();
  if (!nvrtc.problem.empty()) throw KernelCompileError(nvrtc.problem);
  return nvrtc;
}

}  // namespace

std::string CompileKernels(const KernelSource& source, int arch, KernelBinary binary) {
  const Nvrtc& nvrtc = LoadNvrtc();
  const auto check = [&](nvrtcResult result, const char* what) {
    if (result != NVRTC_SUCCESS) {
      throw KernelCompileError(std::string(what) + ": " + nvrtc.error(result));
    }
  };
  nvrtcProgram program = nullptr;
  check(nvrtc.create(&program, source.text.c_str(), ("act_" + source.key + ".cu").c_str(), 0,
                     nullptr, nullptr),
        "nvrtcCreateProgram");
  const std::unique_ptr<nvrtcProgram, nvrtcResult (*)(nvrtcProgram*)> owned(&program,
                                                                            nvrtc.destroy);
  const std::string architecture = std::string("--gpu-architecture=") +
                                   (binary == KernelBinary::kPtx ? "compute_" : "sm_") +
                                   std::to_string(arch);
  const std::vector<const char*> options = {architecture.c_str(), "--std=c++17"};
  const nvrtcResult compiled =
      nvrtc.compile(program, static_cast<int>(options.size()), options.data());
  if (compiled != NVRTC_SUCCESS) {
    size_t size = 0;
    nvrtc.log_size(program, &size);
    std::string log(size, '\0');
    nvrtc.log(program, log.data());
    throw KernelCompileError("NVRTC could not compile the generated kernels (" +
                             std::string(nvrtc.error(compiled)) + "):\n" + log);
  }
  size_t size = 0;
  std::string out;
  if (binary == KernelBinary::kPtx) {
    check(nvrtc.ptx_size(program, &size), "nvrtcGetPTXSize");
    out.resize(size);
    check(nvrtc.ptx(program, out.data()), "nvrtcGetPTX");
  } else {
    check(nvrtc.cubin_size(program, &size), "nvrtcGetCUBINSize");
    out.resize(size);
    check(nvrtc.cubin(program, out.data()), "nvrtcGetCUBIN");
  }
  return out;
}

}  // namespace actsearch
