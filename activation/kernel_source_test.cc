// The generated kernels, checked without a GPU: NVRTC compiles the source of every operator and
// of random 1- and 2-unit candidates, of SUGAR's surrogates and of PWLU, and the same source
// compiled for the host computes what the CPU code computes, value and every gradient.
#include "activation/kernel_source.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "activation/pwlu_kernel.h"
#include "activation/surrogate_formulas.h"
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
  }
  HostBuild(const HostBuild&) = delete;
  HostBuild& operator=(const HostBuild&) = delete;
  ~HostBuild() {
    if (handle_) dlclose(handle_);
  }
  // The entry point `name`, of type F.
  template <class F>
  F* Function(const char* name) const {
    auto* function = reinterpret_cast<F*>(dlsym(handle_, name));
    if (!function) throw std::runtime_error(std::string("no entry point ") + name);
    return function;
  }

 private:
  void* handle_ = nullptr;
};

// A scratch directory for host builds, removed at the end of the test.
class ScratchDirectory {
 public:
  ScratchDirectory()
      : path_(std::filesystem::temp_directory_path() /
              ("act_kernels_" + std::to_string(getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Float results agree to float's rounding of the longer chains; beyond 1e4 nothing is compared.
bool Close(float got, float want) {
  if (!std::isfinite(want) || std::abs(want) > 1e4f) return true;
  return std::abs(got - want) <= 1e-3f * (1 + std::abs(want));
}

TEST(KernelSource, TheSourceBuiltForTheHostMatchesTheCpuEvaluator) {
  const ScratchDirectory dir;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> input(-3, 3), beta_value(-1.5f, 2.5f);
  for (const Expr& e : Expressions()) {
    const Program program(e);
    const int k = program.num_betas();
    const HostBuild build(GenerateKernelSource(e), dir.path());
    auto* value = build.Function<float(float, const float*)>(kHostValue);
    auto* gradient = build.Function<float(float, const float*, float, float*)>(kHostGradient);
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
        EXPECT_TRUE(Close(value(x[i], beta.data()), y[i])) << where;
        std::vector<float> gbeta(k, 0.0f);
        EXPECT_TRUE(Close(gradient(x[i], beta.data(), 1.0f, gbeta.data()), gx[i]))
            << "d/dx of " << where;
        for (int j = 0; j < k; ++j) {
          EXPECT_TRUE(Close(gbeta[j], grad_arrays[j][i])) << "d/dbeta" << j << " of " << where;
        }
      }
    }
  }
}

// SUGAR's surrogates: every named one at its default parameter, and expressions' derivatives.
struct SurrogateCase {
  SurrogateKind kind;
  double alpha;
  Expr expression;
};
std::vector<SurrogateCase> SurrogateCases() {
  std::vector<SurrogateCase> out = {
      {SurrogateKind::kBSilu, 1.67, nullptr}, {SurrogateKind::kNelu, 0.1, nullptr},
      {SurrogateKind::kElu, 1.0, nullptr},    {SurrogateKind::kSelu, 0, nullptr},
      {SurrogateKind::kGelu, 0, nullptr},     {SurrogateKind::kSilu, 0, nullptr},
      {SurrogateKind::kMish, 0, nullptr},     {SurrogateKind::kLeakyRelu, 0.01, nullptr}};
  for (const Expr& e : Expressions()) out.push_back({SurrogateKind::kExpression, 0, e});
  return out;
}

// The slope the CPU computes: the named formula in double, or the evaluator's derivative of
// the expression at its initial betas.
double CpuSlope(const SurrogateCase& c, double x) {
  double slope = 0;
  if (surrogates::VisitSurrogate(
          c.kind, [&](auto formula) { slope = decltype(formula)::Slope(x, c.alpha); })) {
    return slope;
  }
  const Program program(c.expression);
  std::vector<const double*> betas;
  for (const double& b : program.initial_betas()) betas.push_back(&b);
  std::vector<double> beta_grads(program.num_betas());
  std::vector<double*> beta_grad_pointers;
  for (double& g : beta_grads) beta_grad_pointers.push_back(&g);
  const double one = 1;
  program.Backward<double>(1, &x, betas.data(), &one, &slope, beta_grad_pointers.data());
  return slope;
}

TEST(KernelSource, TheSurrogateSourceBuiltForTheHostMatchesTheCpuSlopes) {
  const ScratchDirectory dir;
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> input(-4, 4), upstream(-2, 2);
  for (const SurrogateCase& c : SurrogateCases()) {
    const KernelSource source = GenerateSurrogateSource(c.kind, c.alpha, c.expression);
    const HostBuild build(source, dir.path());
    auto* gradient = build.Function<float(float, float, int)>(kSurrogateHostGradient);
    for (int i = 0; i < 40; ++i) {
      const float x = input(rng), gy = upstream(rng);
      const std::string where = (c.expression ? ToString(c.expression) : source.key.substr(0, 8)) +
                                " at x = " + std::to_string(x);
      EXPECT_TRUE(Close(gradient(x, gy, 0), static_cast<float>(gy * CpuSlope(c, x)))) << where;
      const float negative_only = x > 0 ? gy : static_cast<float>(gy * CpuSlope(c, x));
      EXPECT_TRUE(Close(gradient(x, gy, 1), negative_only)) << "negative only, " << where;
    }
  }
}

// PWLU: the host-built element functions against the CPU kernel, value, input gradient and
// every table gradient, inside the range, outside it, on its bounds and grid points, and NaN.
TEST(KernelSource, ThePwluSourceBuiltForTheHostMatchesTheCpuKernel) {
  const ScratchDirectory dir;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  for (int intervals : {2, 16}) {
    const HostBuild build(GeneratePwluSource(intervals), dir.path());
    using Tables = const float*;
    auto* value =
        build.Function<float(float, Tables, Tables, Tables, Tables, Tables)>(kPwluHostValue);
    auto* gradient =
        build.Function<float(float, float, Tables, Tables, Tables, Tables, Tables, float*)>(
            kPwluHostGradient);
    const float left = -2.0f, right = 1.5f, left_slope = 0.1f, right_slope = 1.2f;
    std::vector<float> points(intervals + 1);
    for (float& p : points) p = uniform(rng);
    const float inv_step = static_cast<float>(intervals) / (right - left);
    const pwlu::UnitTables<float> tables{
        1,           intervals,    &left,      &right,         &inv_step,
        &left_slope, &right_slope, &points[0], &points.back(), points.data()};
    std::vector<float> x = {left, right, std::nanf("")};
    for (int i = 0; i <= intervals; ++i) x.push_back(left + (right - left) * i / intervals);
    for (int i = 0; i < 60; ++i) x.push_back(4 * uniform(rng));
    const auto n = static_cast<int64_t>(x.size());
    std::vector<float> gy(n), y(n), gx(n);
    for (float& g : gy) g = uniform(rng);
    const pwlu::Walk walk{pwlu::Walk::kFlat, 1, n, 1};
    std::vector<double> records(pwlu::RecordWidth(intervals), 0.0);
    pwlu::Forward(tables, walk, x.data(), y.data(), 0, n);
    pwlu::Backward(tables, walk, x.data(), gy.data(), gx.data(), 0, n, records.data());
    std::vector<float> record(records.size(), 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const std::string where =
          "x = " + std::to_string(x[i]) + ", N = " + std::to_string(intervals);
      const float host_y = value(x[i], &left, &right, &left_slope, &right_slope, points.data());
      const float host_gx = gradient(x[i], gy[i], &left, &right, &left_slope, &right_slope,
                                     points.data(), record.data());
      if (std::isnan(x[i])) {
        EXPECT_TRUE(std::isnan(host_y) && std::isnan(host_gx)) << where;
        continue;
      }
      // Equal up to the rounding of a product that the CPU build may contract into an FMA.
      EXPECT_NEAR(host_y, y[i], 1e-6 * (1 + std::abs(y[i]))) << where;
      EXPECT_NEAR(host_gx, gx[i], 1e-6 * (1 + std::abs(gx[i]))) << where;
    }
    for (size_t k = 0; k < records.size(); ++k) {
      EXPECT_NEAR(record[k], records[k], 1e-4 * (1 + std::abs(records[k]))) << "record " << k;
    }
  }
}

#ifdef ACTSEARCH_HAS_NVRTC
TEST(KernelSource, NvrtcCompilesThePwluKernels) {
  for (int intervals : {4, 16, 64}) {
    std::string ptx;
    try {
      ptx = CompileKernels(GeneratePwluSource(intervals), 90, KernelBinary::kPtx);
    } catch (const KernelCompileError& error) {
      if (std::string(error.what()).find("not installed") != std::string::npos) {
        GTEST_SKIP() << error.what();
      }
      FAIL() << intervals << " intervals: " << error.what();
    }
    for (const char* entry :
         {kPwluForwardF32, kPwluForwardBf16, kPwluBackwardF32, kPwluBackwardBf16}) {
      EXPECT_NE(ptx.find(std::string(".entry ") + entry), std::string::npos) << entry;
    }
  }
}

TEST(KernelSource, NvrtcCompilesEveryOperatorAndRandomCandidates) {
  for (const Expr& e : Expressions()) {
    std::string ptx;
    try {
      ptx = CompileKernels(GenerateKernelSource(e), 90, KernelBinary::kPtx);
    } catch (const KernelCompileError& error) {
      if (std::string(error.what()).find("not installed") != std::string::npos) {
        GTEST_SKIP() << error.what();
      }
      FAIL() << ToString(e) << ": " << error.what();
    }
    for (const char* entry :
         {kForwardKernelF32, kForwardKernelBf16, kBackwardKernelF32, kBackwardKernelBf16}) {
      EXPECT_NE(ptx.find(std::string(".entry ") + entry), std::string::npos)
          << entry << " missing for " << ToString(e);
    }
  }
}

TEST(KernelSource, NvrtcCompilesEverySurrogate) {
  for (const SurrogateCase& c : SurrogateCases()) {
    std::string ptx;
    try {
      ptx = CompileKernels(GenerateSurrogateSource(c.kind, c.alpha, c.expression), 90,
                           KernelBinary::kPtx);
    } catch (const KernelCompileError& error) {
      if (std::string(error.what()).find("not installed") != std::string::npos) {
        GTEST_SKIP() << error.what();
      }
      FAIL() << static_cast<int>(c.kind) << ": " << error.what();
    }
    for (const char* entry : {kSurrogateKernelF32, kSurrogateKernelBf16}) {
      EXPECT_NE(ptx.find(std::string(".entry ") + entry), std::string::npos) << entry;
    }
  }
}

TEST(KernelSource, ACompileErrorCarriesNvrtcsLog) {
  KernelSource broken = GenerateKernelSource(Parse("sin(x)"));
  broken.text += "\nthis is not C++;\n";
  try {
    CompileKernels(broken, 90, KernelBinary::kCubin);
    FAIL() << "compiled";
  } catch (const KernelCompileError& e) {
    if (std::string(e.what()).find("not installed") != std::string::npos) GTEST_SKIP() << e.what();
    EXPECT_NE(std::string(e.what()).find("this is not C++"), std::string::npos) << e.what();
  }
}
#else
TEST(KernelSource, NvrtcCompilesEveryOperatorAndRandomCandidates) {
  GTEST_SKIP() << "built without the CUDA toolkit (no NVRTC)";
}
#endif

}  // namespace
}  // namespace actsearch
