#include "activation/generated_kernels.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "activation/dynamic_library.h"
#include "activation/kernel_compiler.h"
#include "activation/kernel_source.h"

namespace actsearch {
namespace {

// The CUDA driver functions used here, resolved from libcuda once: loaded, not linked, so that
// the CUDA build still runs where there is no driver (CI).
struct Driver {
  decltype(&cuInit) init = nullptr;
  decltype(&cuDeviceGet) device_get = nullptr;
  decltype(&cuDevicePrimaryCtxRetain) retain_context = nullptr;
  decltype(&cuCtxSetCurrent) set_context = nullptr;
  decltype(&cuModuleLoadData) load_module = nullptr;
  decltype(&cuModuleGetFunction) get_function = nullptr;
  decltype(&cuLaunchKernel) launch = nullptr;
  decltype(&cuGetErrorString) error_string = nullptr;
  std::string problem;  // why the driver is not usable; empty when it is

  std::string Describe(CUresult result) const {
    const char* text = nullptr;
    if (error_string) error_string(result, &text);
    return text ? text : "CUDA driver error " + std::to_string(static_cast<int>(result));
  }
};

}  // namespace

// A generated source loaded on one device: its kernels by entry point name.
struct KernelModule {
  CUcontext context = nullptr;
  std::map<std::string, CUfunction> functions;
  int64_t max_blocks = 0;  // blocks that fill the device a few times over

  CUfunction operator[](const char* name) const { return functions.at(name); }
};

namespace {

const Driver& LoadDriver() {
  static const Driver driver = [] {
    Driver d;
    void* library = OpenFirstLibrary({"libcuda.so.1"});
    if (!library) {
      d.problem = "the CUDA driver (libcuda.so.1) cannot be loaded";
      return d;
    }
    ResolveFunction(library, "cuInit", d.init, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuDeviceGet", d.device_get, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuDevicePrimaryCtxRetain", d.retain_context, d.problem,
                    "the CUDA driver");
    ResolveFunction(library, "cuCtxSetCurrent", d.set_context, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuModuleLoadData", d.load_module, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuModuleGetFunction", d.get_function, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuLaunchKernel", d.launch, d.problem, "the CUDA driver");
    ResolveFunction(library, "cuGetErrorString", d.error_string, d.problem, "the CUDA driver");
    if (d.problem.empty() && d.init(0) != CUDA_SUCCESS) d.problem = "cuInit failed";
    return d;
  }();
  return driver;
}

void Check(const Driver& driver, CUresult result, const char* what) {
  if (result != CUDA_SUCCESS) {
    throw std::runtime_error(std::string(what) + ": " + driver.Describe(result));
  }
}

std::filesystem::path CacheDirectory() {
  if (const char* dir = std::getenv("ACTSEARCH_KERNEL_CACHE")) return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/tmp") / ".cache" / "actsearch" / "kernels";
}

std::filesystem::path CachedCubinPath(const KernelSource& source, int arch) {
  return CacheDirectory() / (source.key + "-sm" + std::to_string(arch) + ".cubin");
}

// The cubin for `arch` from the disk cache; empty if there is none.
std::string CachedCubin(const KernelSource& source, int arch) {
  std::ifstream in{CachedCubinPath(source, arch), std::ios::binary};
  std::stringstream bytes;
  if (in) bytes << in.rdbuf();
  return bytes.str();
}

// The cubin for `arch`, compiled and stored in the disk cache (written to a temporary file and
// renamed, so that concurrent workers never read half a file). A cache that cannot be written
// only costs the next process a compile.
std::string CompiledCubin(const KernelSource& source, int arch) {
  std::string cubin = CompileKernels(source, arch, KernelBinary::kCubin);
  const std::filesystem::path file = CachedCubinPath(source, arch);
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  const std::filesystem::path temporary =
      file.string() + ".tmp" + std::to_string(static_cast<long>(getpid()));
  if (std::ofstream out{temporary, std::ios::binary}; out.write(cubin.data(), cubin.size())) {
    out.close();
    std::filesystem::rename(temporary, file, error);
  }
  std::filesystem::remove(temporary, error);
  return cubin;
}

std::shared_ptr<const KernelModule> LoadModule(const KernelSource& source, int device,
                                               const std::vector<const char*>& entry_points) {
  const Driver& driver = LoadDriver();
  if (!driver.problem.empty()) throw std::runtime_error(driver.problem);
  const cudaDeviceProp* properties = at::cuda::getDeviceProperties(device);
  const int arch = properties->major * 10 + properties->minor;
  auto m = std::make_shared<KernelModule>();
  CUdevice handle = 0;
  Check(driver, driver.device_get(&handle, device), "cuDeviceGet");
  Check(driver, driver.retain_context(&m->context, handle), "cuDevicePrimaryCtxRetain");
  Check(driver, driver.set_context(m->context), "cuCtxSetCurrent");
  CUmodule module = nullptr;  // kept loaded for the life of the process, like its cache entry
  // A cached binary the driver refuses (a damaged file, another toolkit's) is compiled again.
  const std::string cached = CachedCubin(source, arch);
  if (cached.empty() || driver.load_module(&module, cached.data()) != CUDA_SUCCESS) {
    const std::string cubin = CompiledCubin(source, arch);
    Check(driver, driver.load_module(&module, cubin.data()), "cuModuleLoadData");
  }
  for (const char* name : entry_points) {
    Check(driver, driver.get_function(&m->functions[name], module, name), name);
  }
  m->max_blocks = static_cast<int64_t>(properties->multiProcessorCount) * 8;
  return m;
}

// The source's kernels on `device`, loaded once per process and device.
std::shared_ptr<const KernelModule> CachedModule(const KernelSource& source,
                                                 const torch::Device& device,
                                                 const std::vector<const char*>& entry_points) {
  static std::mutex mutex;
  static std::map<std::pair<int, std::string>, std::shared_ptr<const KernelModule>> loaded;
  const int index = device.index() >= 0 ? device.index() : at::cuda::current_device();
  const std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<const KernelModule>& module = loaded[{index, source.key}];
  if (!module) {
    const c10::cuda::CUDAGuard guard(index);
    module = LoadModule(source, index, entry_points);
  }
  return module;
}

constexpr int kThreads = 256;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Layout {
  long long n;
  int channels;
  long long plane;
  int channels_last;
};

Layout LayoutOf(const torch::Tensor& x) {
  const long long n = x.numel();
  const int channels = static_cast<int>(x.size(1));
  const bool channels_last = !x.is_contiguous();
  return {n, channels, n / (x.size(0) * channels), channels_last ? 1 : 0};
}

void Launch(const KernelModule& f, CUfunction function, unsigned grid_x, unsigned grid_y,
            unsigned threads, unsigned shared, void** args) {
  const Driver& driver = LoadDriver();
  Check(driver, driver.set_context(f.context), "cuCtxSetCurrent");
  const CUstream stream = at::cuda::getCurrentCUDAStream().stream();
  Check(driver,
        driver.launch(function, grid_x, grid_y, 1, threads, 1, 1, shared, stream, args, nullptr),
        "cuLaunchKernel");
}

}  // namespace

bool GeneratedKernelsEnabled() {
  static const bool enabled = [] {
    const char* setting = std::getenv("ACTSEARCH_GENERATED_KERNELS");
    return !setting || std::string(setting) != "0";
  }();
  return enabled;
}

std::shared_ptr<GeneratedKernels> GeneratedKernels::Load(const Expr& e, const torch::Device& device,
                                                         std::string* why_not) {
  try {
    const KernelSource source = GenerateKernelSource(e);
    return std::make_shared<GeneratedKernels>(
        CachedModule(
            source, device,
            {kForwardKernelF32, kForwardKernelBf16, kBackwardKernelF32, kBackwardKernelBf16}),
        source.num_betas);
  } catch (const std::exception& error) {
    *why_not = error.what();
    return nullptr;
  }
}

bool GeneratedKernels::Supports(const torch::Tensor& x) {
  if (!x.is_cuda() || x.dim() < 2 || x.numel() == 0) return false;
  if (x.scalar_type() != torch::kFloat && x.scalar_type() != torch::kBFloat16) return false;
  if (x.is_contiguous()) return true;
  return x.dim() == 4 && x.is_contiguous(torch::MemoryFormat::ChannelsLast) && x.size(1) <= 1024;
}

torch::Tensor GeneratedKernels::Forward(const torch::Tensor& x, const torch::Tensor& betas) const {
  const c10::cuda::CUDAGuard guard(x.device());
  const torch::Tensor beta = betas.to(torch::kFloat).contiguous();
  torch::Tensor y = torch::empty_like(x);
  Layout l = LayoutOf(x);
  const void* x_data = x.data_ptr();
  const void* beta_data = beta.data_ptr();
  void* y_data = y.data_ptr();
  void* args[] = {&x_data, &beta_data, &y_data, &l.n, &l.channels, &l.plane, &l.channels_last};
  const auto blocks = static_cast<unsigned>(std::min(CeilDiv(l.n, kThreads), module_->max_blocks));
  const bool f32 = x.scalar_type() == torch::kFloat;
  Launch(*module_, (*module_)[f32 ? kForwardKernelF32 : kForwardKernelBf16], std::max(1u, blocks),
         1, kThreads, 0, args);
  return y;
}

std::pair<torch::Tensor, torch::Tensor> GeneratedKernels::Backward(
    const torch::Tensor& x, const torch::Tensor& betas, const torch::Tensor& grad_y) const {
  const c10::cuda::CUDAGuard guard(x.device());
  const torch::Tensor beta = betas.to(torch::kFloat).contiguous();
  const torch::Tensor upstream = grad_y.to(x.scalar_type()).contiguous(x.suggest_memory_format());
  torch::Tensor grad_x = torch::empty_like(x);
  Layout l = LayoutOf(x);
  // Blocks: NCHW, channels x slices; channels-last, slices of `groups` rows each.
  int64_t slices = 0;
  unsigned threads = kThreads, grid_x = 0, grid_y = 1;
  if (!l.channels_last) {
    slices = std::clamp<int64_t>(
        std::min(CeilDiv(l.n / l.channels, kThreads), module_->max_blocks / l.channels), 1, 65535);
    grid_x = static_cast<unsigned>(l.channels);
    grid_y = static_cast<unsigned>(slices);
  } else {
    const int groups = std::max(1, kThreads / l.channels);
    threads = static_cast<unsigned>(groups * l.channels);
    slices = std::clamp<int64_t>(CeilDiv(l.n / l.channels, groups), 1, module_->max_blocks);
    grid_x = static_cast<unsigned>(slices);
  }
  torch::Tensor partial;
  if (num_betas_ > 0) {
    partial = torch::empty({slices, num_betas_, l.channels}, x.options().dtype(torch::kFloat));
  }
  const void* x_data = x.data_ptr();
  const void* beta_data = beta.data_ptr();
  const void* grad_y_data = upstream.data_ptr();
  void* grad_x_data = grad_x.data_ptr();
  void* partial_data = partial.defined() ? partial.data_ptr() : nullptr;
  void* args[] = {&x_data, &beta_data,  &grad_y_data, &grad_x_data,    &partial_data,
                  &l.n,    &l.channels, &l.plane,     &l.channels_last};
  const bool f32 = x.scalar_type() == torch::kFloat;
  Launch(*module_, (*module_)[f32 ? kBackwardKernelF32 : kBackwardKernelBf16], grid_x, grid_y,
         threads, threads * sizeof(float), args);
  torch::Tensor grad_betas =
      partial.defined() ? partial.sum(0).to(betas.scalar_type()) : torch::zeros_like(betas);
  return {grad_x, grad_betas};
}

std::shared_ptr<GeneratedSurrogate> GeneratedSurrogate::Load(SurrogateKind kind, double alpha,
                                                             const Expr& expression,
                                                             const torch::Device& device,
                                                             std::string* why_not) {
  try {
    const KernelSource source = GenerateSurrogateSource(kind, alpha, expression);
    return std::make_shared<GeneratedSurrogate>(
        CachedModule(source, device, {kSurrogateKernelF32, kSurrogateKernelBf16}));
  } catch (const std::exception& error) {
    *why_not = error.what();
    return nullptr;
  }
}

bool GeneratedSurrogate::Supports(const torch::Tensor& x) {
  const bool type = x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16;
  return x.is_cuda() && type && x.numel() > 0 && x.is_non_overlapping_and_dense();
}

torch::Tensor GeneratedSurrogate::Backward(const torch::Tensor& x, const torch::Tensor& grad_y,
                                           bool negative_only) const {
  const c10::cuda::CUDAGuard guard(x.device());
  // Elementwise over memory: grad_y must share x's strides and type.
  torch::Tensor upstream = grad_y;
  if (upstream.strides() != x.strides() || upstream.scalar_type() != x.scalar_type()) {
    upstream = torch::empty_like(x).copy_(grad_y);
  }
  torch::Tensor grad_x = torch::empty_like(x);
  long long n = x.numel();
  int negative = negative_only ? 1 : 0;
  const void* x_data = x.data_ptr();
  const void* grad_y_data = upstream.data_ptr();
  void* grad_x_data = grad_x.data_ptr();
  void* args[] = {&x_data, &grad_y_data, &grad_x_data, &n, &negative};
  const auto blocks = static_cast<unsigned>(std::min(CeilDiv(n, kThreads), module_->max_blocks));
  const bool f32 = x.scalar_type() == torch::kFloat;
  Launch(*module_, (*module_)[f32 ? kSurrogateKernelF32 : kSurrogateKernelBf16],
         std::max(1u, blocks), 1, kThreads, 0, args);
  return grad_x;
}

namespace {

// Shared memory a block of PWLU's backward may use: the default limit, without opting in.
constexpr int64_t kPwluSharedBytes = 48 * 1024;

int64_t PwluRecordBytes(int intervals) {
  return static_cast<int64_t>(PwluRecordStride(intervals)) * sizeof(float);
}

// Threads per block of PWLU's backward: as many as the records fit in shared memory, a whole
// number of warps; channels-last blocks hold whole rows of `channels`.
int PwluThreads(int intervals, bool channels_last, int64_t channels) {
  int threads = static_cast<int>(
      std::min<int64_t>(kThreads, kPwluSharedBytes / PwluRecordBytes(intervals) / 32 * 32));
  if (channels_last)
    threads = static_cast<int>(std::max<int64_t>(1, threads / channels) * channels);
  return threads;
}

std::vector<torch::Tensor> FloatTables(std::initializer_list<const torch::Tensor*> tables) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor* t : tables) out.push_back(t->detach().to(torch::kFloat).contiguous());
  return out;
}

}  // namespace

std::shared_ptr<GeneratedPwlu> GeneratedPwlu::Load(int intervals, const torch::Device& device,
                                                   std::string* why_not) {
  try {
    return std::make_shared<GeneratedPwlu>(
        CachedModule(GeneratePwluSource(intervals), device,
                     {kPwluForwardF32, kPwluForwardBf16, kPwluBackwardF32, kPwluBackwardBf16}),
        intervals);
  } catch (const std::exception& error) {
    *why_not = error.what();
    return nullptr;
  }
}

bool GeneratedPwlu::Supports(const torch::Tensor& x, int64_t units, int intervals) {
  if (!GeneratedKernels::Supports(x)) return false;
  const bool channels_last = !x.is_contiguous();
  const int threads = PwluThreads(intervals, channels_last && units > 1, x.size(1));
  return threads >= 32 && threads * PwluRecordBytes(intervals) <= kPwluSharedBytes;
}

torch::Tensor GeneratedPwlu::Forward(const torch::Tensor& x, const torch::Tensor& left,
                                     const torch::Tensor& right, const torch::Tensor& left_slope,
                                     const torch::Tensor& right_slope,
                                     const torch::Tensor& points) const {
  const c10::cuda::CUDAGuard guard(x.device());
  const auto t = FloatTables({&left, &right, &left_slope, &right_slope, &points});
  torch::Tensor y = torch::empty_like(x);
  Layout l = LayoutOf(x);
  int units = static_cast<int>(left.numel());
  const void* x_data = x.data_ptr();
  const void* table_data[5] = {t[0].data_ptr(), t[1].data_ptr(), t[2].data_ptr(), t[3].data_ptr(),
                               t[4].data_ptr()};
  void* y_data = y.data_ptr();
  void* args[] = {&x_data,        &table_data[0], &table_data[1],  &table_data[2],
                  &table_data[3], &table_data[4], &y_data,         &l.n,
                  &units,         &l.plane,       &l.channels_last};
  const auto blocks = static_cast<unsigned>(std::min(CeilDiv(l.n, kThreads), module_->max_blocks));
  const bool f32 = x.scalar_type() == torch::kFloat;
  Launch(*module_, (*module_)[f32 ? kPwluForwardF32 : kPwluForwardBf16], std::max(1u, blocks), 1,
         kThreads, 0, args);
  return y;
}

std::pair<torch::Tensor, torch::Tensor> GeneratedPwlu::Backward(
    const torch::Tensor& x, const torch::Tensor& left, const torch::Tensor& right,
    const torch::Tensor& left_slope, const torch::Tensor& right_slope, const torch::Tensor& points,
    const torch::Tensor& grad_y) const {
  const c10::cuda::CUDAGuard guard(x.device());
  const auto t = FloatTables({&left, &right, &left_slope, &right_slope, &points});
  const torch::Tensor upstream = grad_y.to(x.scalar_type()).contiguous(x.suggest_memory_format());
  torch::Tensor grad_x = torch::empty_like(x);
  Layout l = LayoutOf(x);
  int units = static_cast<int>(left.numel());
  const bool interleaved = l.channels_last && units > 1;
  const int threads = PwluThreads(intervals_, interleaved, l.channels);
  // Blocks: one unit, a grid-stride; per channel, as the activation's backward.
  int64_t slices = 0;
  unsigned grid_x = 0, grid_y = 1;
  if (units == 1) {
    slices = std::clamp<int64_t>(CeilDiv(l.n, threads), 1, module_->max_blocks);
    grid_x = static_cast<unsigned>(slices);
  } else if (!interleaved) {
    slices = std::clamp<int64_t>(
        std::min(CeilDiv(l.n / units, threads), module_->max_blocks / units), 1, 65535);
    grid_x = static_cast<unsigned>(units);
    grid_y = static_cast<unsigned>(slices);
  } else {
    const int64_t groups = threads / units;
    slices = std::clamp<int64_t>(CeilDiv(l.n / units, groups), 1, module_->max_blocks);
    grid_x = static_cast<unsigned>(slices);
  }
  const int64_t width = intervals_ + 7;
  torch::Tensor partial = torch::empty({slices, units, width}, x.options().dtype(torch::kFloat));
  const void* x_data = x.data_ptr();
  const void* table_data[5] = {t[0].data_ptr(), t[1].data_ptr(), t[2].data_ptr(), t[3].data_ptr(),
                               t[4].data_ptr()};
  const void* grad_y_data = upstream.data_ptr();
  void* grad_x_data = grad_x.data_ptr();
  void* partial_data = partial.data_ptr();
  void* args[] = {&x_data,        &table_data[0], &table_data[1],  &table_data[2], &table_data[3],
                  &table_data[4], &grad_y_data,   &grad_x_data,    &partial_data,  &l.n,
                  &units,         &l.plane,       &l.channels_last};
  const bool f32 = x.scalar_type() == torch::kFloat;
  Launch(*module_, (*module_)[f32 ? kPwluBackwardF32 : kPwluBackwardBf16], grid_x, grid_y,
         static_cast<unsigned>(threads),
         static_cast<unsigned>(threads * PwluRecordBytes(intervals_)), args);
  return {grad_x, partial.sum(0)};
}

}  // namespace actsearch
