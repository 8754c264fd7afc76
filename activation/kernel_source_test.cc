// The generated kernels, checked without a GPU: NVRTC compiles the source of every operator and
// of random 1- and 2-unit candidates, and the same source compiled for the host computes what
// the CPU evaluator computes, value and every gradient.
#include "activation/kernel_source.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/program.h"
#include "search_space/space.h"
#ifdef ACTSEARCH_HAS_NVRTC
#include "activation/kernel_compiler.h"
#endif

namespace actsearch {
namespace {

// Every operator once (a free beta too), random 1- and 2-unit candidates, and values read
// twice.
std::vector<Expr> Expressions() {
  std::vector<Expr> out;
  const Expr x = MakeInput();
  for (OpId op : AllUnaryTokens()) {
    if (op != OpId::kIdentity && op != OpId::kBeta) out.push_back(MakeUnary(op, x));
  }
  for (OpId op : AllBinaryOps()) out.push_back(MakeBinary(op, x, MakeUnary(OpId::kSin, x)));
  out.push_back(Parse("max(beta, tanh(x)) * x"));
  out.push_back(Parse("u1 = x + beta; u1 * sin(u1)"));
  out.push_back(Parse("u1 = mix(beta * x, sigmoid(x)); rbf(u1, x) - u1"));
  for (int units : {1, 2}) {
    const Space space(SpaceSpec{units});
    std::mt19937_64 rng(units);
    std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
    for (int i = 0; i < 12; ++i) out.push_back(space.Decode(space.TokensAt(pick(rng))));
  }
  return out;
}

TEST(KernelSource, TheSourceDependsOnTheFunctionOnly) {
  const KernelSource a = GenerateKernelSource(Parse("u1 = x + beta; u1 * u1"));
  const KernelSource b = GenerateKernelSource(Parse("u1 = x + beta; u1 * u1"));
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.num_betas, 1);
  EXPECT_NE(GenerateKernelSource(Parse("(x + beta) * (x + beta)")).key, a.key);
  EXPECT_NE(a.text.find("Shift::Value(v0, beta[0])"), std::string::npos)
      << "the shared value is computed once:\n"
      << a.text;
}

// The generated source built as a shared library with the host's compiler.
class HostBuild {
 public:
  HostBuild(const KernelSource& source, const std::filesystem::path& dir) {
    const std::filesystem::path cc = dir / ("act_" + source.key + ".cc");
    const std::filesystem::path so = dir / ("act_" + source.key + ".so");
    std::ofstream(cc) << source.text;
    const std::string command = std::string(ACTSEARCH_HOST_CXX) + " -std=c++17 -O0 -shared -fPIC " +
                                cc.string() + " -o " + so.string();
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
    handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::runtime_error(dlerror());
    value_ = reinterpret_cast<float (*)(float, const float*)>(dlsym(handle_, kHostValue));
    gradient_ = reinterpret_cast<float (*)(float, const float*, float, float*)>(
        dlsym(handle_, kHostGradient));
  }
  ~HostBuild() {
    if (handle_) dlclose(handle_);
  }
  float Value(float x, const float* beta) const { return value_(x, beta); }
  float Gradient(float x, const float* beta, float gy, float* gbeta) const {
    return gradient_(x, beta, gy, gbeta);
  }

 private:
  void* handle_ = nullptr;
  float (*value_)(float, const float*) = nullptr;
  float (*gradient_)(float, const float*, float, float*) = nullptr;
};

// Float results agree to float's rounding of the longer chains; beyond 1e4 nothing is compared.
bool Close(float got, float want) {
  if (!std::isfinite(want) || std::abs(want) > 1e4f) return true;
  return std::abs(got - want) <= 1e-3f * (1 + std::abs(want));
}

TEST(KernelSource, TheSourceBuiltForTheHostMatchesTheCpuEvaluator) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("act_kernels_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> input(-3, 3), beta_value(-1.5f, 2.5f);
  for (const Expr& e : Expressions()) {
    const Program program(e);
    const int k = program.num_betas();
    const HostBuild host(GenerateKernelSource(e), dir);
    for (int setting = 0; setting < 2; ++setting) {
      std::vector<float> beta(k);
      for (int j = 0; j < k; ++j) {
        beta[j] = setting == 0 ? static_cast<float>(program.initial_betas()[j]) : beta_value(rng);
      }
      constexpr int kPoints = 40;
      std::vector<float> x(kPoints), y(kPoints), gx(kPoints), ones(kPoints, 1.0f);
      for (float& v : x) v = input(rng);
      std::vector<std::vector<float>> beta_arrays(k), grad_arrays(k, std::vector<float>(kPoints));
      std::vector<const float*> betas;
      std::vector<float*> grads;
      for (int j = 0; j < k; ++j) {
        beta_arrays[j].assign(kPoints, beta[j]);
        betas.push_back(beta_arrays[j].data());
        grads.push_back(grad_arrays[j].data());
      }
      program.Forward<float>(kPoints, x.data(), betas.data(), y.data());
      program.Backward<float>(kPoints, x.data(), betas.data(), ones.data(), gx.data(),
                              grads.data());
      for (int i = 0; i < kPoints; ++i) {
        const std::string where = ToString(e) + " at x = " + std::to_string(x[i]);
        EXPECT_TRUE(Close(host.Value(x[i], beta.data()), y[i])) << where;
        std::vector<float> gbeta(k, 0.0f);
        EXPECT_TRUE(Close(host.Gradient(x[i], beta.data(), 1.0f, gbeta.data()), gx[i]))
            << "d/dx of " << where;
        for (int j = 0; j < k; ++j) {
          EXPECT_TRUE(Close(gbeta[j], grad_arrays[j][i])) << "d/dbeta" << j << " of " << where;
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
}

#ifdef ACTSEARCH_HAS_NVRTC
TEST(KernelSource, NvrtcCompilesEveryOperatorAndRandomCandidates) {
  for (const Expr& e : Expressions()) {
    std::string ptx;
    ASSERT_NO_THROW(ptx = CompileToPtx(GenerateKernelSource(e), 90)) << ToString(e);
    for (const char* entry :
         {kForwardKernelF32, kForwardKernelBf16, kBackwardKernelF32, kBackwardKernelBf16}) {
      EXPECT_NE(ptx.find(std::string(".entry ") + entry), std::string::npos)
          << entry << " missing for " << ToString(e);
    }
  }
}

TEST(KernelSource, ACompileErrorCarriesNvrtcsLog) {
  KernelSource broken = GenerateKernelSource(Parse("sin(x)"));
  broken.text += "\nthis is not C++;\n";
  try {
    CompileToPtx(broken, 90);
    FAIL() << "compiled";
  } catch (const KernelCompileError& e) {
    EXPECT_NE(std::string(e.what()).find("this"), std::string::npos) << e.what();
  }
}
#else
TEST(KernelSource, NvrtcCompilesEveryOperatorAndRandomCandidates) {
  GTEST_SKIP() << "built without the CUDA toolkit (no NVRTC)";
}
#endif

}  // namespace
}  // namespace actsearch
