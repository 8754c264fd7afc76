#include "search_space/program.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "search_space/program_kernels.h"
#include "search_space/program_kernels_isa.h"
#include "search_space/value_graph.h"

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

Program::Program(const Expr& e) {
  const ValueGraph graph = BuildValueGraph(e);
  const int num_values = static_cast<int>(graph.values.size());
  initial_betas_.resize(graph.num_betas);
  beta_owners_.resize(graph.num_betas);
  code_.beta_leaf_register.assign(graph.num_betas, -1);
  // The registers each value hands its readers, one per reader, in reading order.
  std::vector<std::vector<int>> copies(num_values);
  std::vector<size_t> copies_read(num_values, 0);
  const auto read = [&](int id) { return copies[id].at(copies_read[id]++); };
  const auto new_register = [&] { return code_.num_registers++; };

  for (int id = 0; id < num_values; ++id) {
    const Value& v = graph.values[id];
    const int readers = std::max(v.uses, 1);  // the root has none but is read as the output
    if (v.op == OpId::kInput) {  // every reader binds x directly; their adjoints sum into grad_x
      for (int r = 0; r < readers; ++r) {
        copies[id].push_back(new_register());
        code_.input_registers.push_back(copies[id].back());
      }
      continue;
    }
    if (v.beta >= 0) {
      initial_betas_[v.beta] = Info(v.op).initial_beta;
      beta_owners_[v.beta] = v.node;
    }
    int reg = -1;
    if (v.op == OpId::kBeta) {
      reg = new_register();
      code_.beta_leaf_register[v.beta] = reg;
    } else {
      const int a = read(v.a);
      const int b = v.b >= 0 ? read(v.b) : -1;
      reg = new_register();
      code_.code.push_back({v.op, reg, a, b, v.beta});
    }
    if (readers == 1) {
      copies[id].push_back(reg);
      continue;
    }
    for (int r = 0; r < readers; ++r) copies[id].push_back(new_register());
    code_.code.push_back({OpId::kIdentity, copies[id][0], reg, readers, -1});
  }
  code_.output = read(graph.root);
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
