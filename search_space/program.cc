#include "search_space/program.h"

#include <cstdlib>
#include <string>

#include "search_space/program_kernels.h"
#include "search_space/program_kernels_isa.h"

namespace actsearch {
namespace {

// The widest instruction set this CPU runs, unless ACTSEARCH_FLOAT_ISA (generic, avx2, avx512)
// asks for a narrower one: for benchmarks and for checking the builds against each other.
const detail::FloatKernels& BestFloatKernels() {
  static const detail::FloatKernels kernels = [] {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vl");
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const char* requested = std::getenv("ACTSEARCH_FLOAT_ISA");
    const std::string isa = requested ? requested : "";
    if (isa == "generic") return detail::GenericFloatKernels();
    if (avx512 && isa != "avx2") return detail::Avx512FloatKernels();
    if (avx2) return detail::Avx2FloatKernels();
    return detail::GenericFloatKernels();
  }();
  return kernels;
}

}  // namespace

Program::Program(const Expr& e) { code_.output = Compile(e); }

int Program::Compile(const Expr& e) {
  const OpInfo& info = Info(e->op);
  if (e->op == OpId::kInput) {
    code_.input_registers.push_back(code_.num_registers);
    return code_.num_registers++;
  }
  if (e->op == OpId::kBeta) {
    const int reg = code_.num_registers++;
    code_.beta_leaf_register.push_back(reg);
    initial_betas_.push_back(info.initial_beta);
    beta_owners_.push_back(e);
    return reg;
  }
  const int a = Compile(e->a);
  const int b = info.arity == 2 ? Compile(e->b) : -1;
  int beta = -1;
  if (info.has_beta) {
    beta = num_betas();
    code_.beta_leaf_register.push_back(-1);
    initial_betas_.push_back(info.initial_beta);
    beta_owners_.push_back(e);
  }
  const int out = code_.num_registers++;
  code_.code.push_back({e->op, out, a, b, beta});
  return out;
}

template <>
void Program::Forward<double>(int64_t n, const double* x, const double* const* betas,
                              double* y) const {
  detail::EvaluateForward<double>(code_, n, x, betas, y);
}

template <>
void Program::Backward<double>(int64_t n, const double* x, const double* const* betas,
                               const double* grad_y, double* grad_x,
                               double* const* grad_betas) const {
  detail::EvaluateBackward<double>(code_, n, x, betas, grad_y, grad_x, grad_betas);
}

template <>
void Program::Forward<float>(int64_t n, const float* x, const float* const* betas, float* y) const {
  BestFloatKernels().forward(code_, n, x, betas, y);
}

template <>
void Program::Backward<float>(int64_t n, const float* x, const float* const* betas,
                              const float* grad_y, float* grad_x, float* const* grad_betas) const {
  BestFloatKernels().backward(code_, n, x, betas, grad_y, grad_x, grad_betas);
}

const char* Program::FloatInstructionSet() { return BestFloatKernels().instruction_set; }

}  // namespace actsearch
