#include "search_space/program.h"

#include <algorithm>
#include <cassert>

#include "search_space/op_formulas.h"

namespace actsearch {
namespace {

// Elements per chunk: the registers of a chunk stay in L1/L2 cache between operators.
constexpr int64_t kChunk = 256;

template <class F, class T>
void UnaryForward(int64_t n, const T* __restrict a, const T* __restrict beta, T* __restrict y) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) y[i] = F::Value(a[i], beta[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = F::Value(a[i], T(0));
  }
}

template <class F, class T>
void BinaryForward(int64_t n, const T* __restrict a, const T* __restrict b,
                   const T* __restrict beta, T* __restrict y) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) y[i] = F::Value(a[i], b[i], beta[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = F::Value(a[i], b[i], T(0));
  }
}

// Adjoint arrays may alias (max(x, x) sends both partials to x's adjoint), so they are not
// __restrict; the compiler checks for overlap at run time and still vectorises.
template <class F, class T>
void UnaryBackward(int64_t n, const T* __restrict a, const T* __restrict y,
                   const T* __restrict beta, const T* __restrict gy, T* ga, T* gbeta) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) {
      ga[i] += gy[i] * F::DA(a[i], y[i], beta[i]);
      gbeta[i] += gy[i] * F::DBeta(a[i], y[i], beta[i]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) ga[i] += gy[i] * F::DA(a[i], y[i], T(0));
  }
}

template <class F, class T>
void BinaryBackward(int64_t n, const T* __restrict a, const T* __restrict b,
                    const T* __restrict y, const T* __restrict beta, const T* __restrict gy,
                    T* ga, T* gb, T* gbeta) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) {
      ga[i] += gy[i] * F::DA(a[i], b[i], y[i], beta[i]);
      gb[i] += gy[i] * F::DB(a[i], b[i], y[i], beta[i]);
      gbeta[i] += gy[i] * F::DBeta(a[i], b[i], y[i], beta[i]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T da = F::DA(a[i], b[i], y[i], T(0));
      const T db = F::DB(a[i], b[i], y[i], T(0));
      ga[i] += gy[i] * da;
      gb[i] += gy[i] * db;
    }
  }
}

// Scratch memory reused across calls on the same thread: no allocation per chunk or call.
template <class T>
T* Scratch(size_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

}  // namespace

Program::Program(const Expr& e) { output_ = Compile(e); }

int Program::Compile(const Expr& e) {
  const OpInfo& info = Info(e->op);
  if (e->op == OpId::kInput) return 0;
  if (e->op == OpId::kBeta) {
    const int reg = num_registers_++;
    beta_leaf_register_.push_back(reg);
    initial_betas_.push_back(info.initial_beta);
    return reg;
  }
  const int a = Compile(e->a);
  const int b = info.arity == 2 ? Compile(e->b) : -1;
  int beta = -1;
  if (info.has_beta) {
    beta = num_betas();
    beta_leaf_register_.push_back(-1);
    initial_betas_.push_back(info.initial_beta);
  }
  const int out = num_registers_++;
  code_.push_back({e->op, out, a, b, beta});
  return out;
}

template <class T>
void Program::Forward(int64_t n, const T* x, const T* const* betas, T* y) const {
  std::vector<const T*> value(num_registers_);
  T* scratch = Scratch<T>(static_cast<size_t>(num_registers_) * kChunk);
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t len = std::min(kChunk, n - start);
    value[0] = x + start;
    for (int k = 0; k < num_betas(); ++k) {
      if (beta_leaf_register_[k] >= 0) value[beta_leaf_register_[k]] = betas[k] + start;
    }
    for (const Instruction& in : code_) {
      // The last instruction computes the output: it writes straight into y.
      T* out = in.out == output_ ? y + start : scratch + in.out * kChunk;
      const T* beta = in.beta >= 0 ? betas[in.beta] + start : nullptr;
      formulas::VisitFormula(in.op, [&](auto formula) {
        using F = decltype(formula);
        if constexpr (F::kArity == 1) {
          UnaryForward<F>(len, value[in.a], beta, out);
        } else {
          BinaryForward<F>(len, value[in.a], value[in.b], beta, out);
        }
      });
      value[in.out] = out;
    }
    if (code_.empty()) std::copy(value[output_], value[output_] + len, y + start);
  }
}

template <class T>
void Program::Backward(int64_t n, const T* x, const T* const* betas, const T* grad_y, T* grad_x,
                       T* const* grad_betas) const {
  std::vector<const T*> value(num_registers_);
  std::vector<T*> adjoint(num_registers_);
  T* scratch = Scratch<T>(2 * static_cast<size_t>(num_registers_) * kChunk);
  T* const adjoint_scratch = scratch + num_registers_ * kChunk;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t len = std::min(kChunk, n - start);
    // Recompute the chunk's forward values.
    value[0] = x + start;
    for (int k = 0; k < num_betas(); ++k) {
      if (beta_leaf_register_[k] >= 0) value[beta_leaf_register_[k]] = betas[k] + start;
    }
    for (const Instruction& in : code_) {
      T* out = scratch + in.out * kChunk;
      const T* beta = in.beta >= 0 ? betas[in.beta] + start : nullptr;
      formulas::VisitFormula(in.op, [&](auto formula) {
        using F = decltype(formula);
        if constexpr (F::kArity == 1) {
          UnaryForward<F>(len, value[in.a], beta, out);
        } else {
          BinaryForward<F>(len, value[in.a], value[in.b], beta, out);
        }
      });
      value[in.out] = out;
    }
    // Adjoints: x's and the betas' go straight to the outputs; the rest live in scratch.
    adjoint[0] = grad_x + start;
    for (int r = 1; r < num_registers_; ++r) adjoint[r] = adjoint_scratch + r * kChunk;
    for (int k = 0; k < num_betas(); ++k) {
      std::fill(grad_betas[k] + start, grad_betas[k] + start + len, T(0));
      if (beta_leaf_register_[k] >= 0) adjoint[beta_leaf_register_[k]] = grad_betas[k] + start;
    }
    for (int r = 0; r < num_registers_; ++r) std::fill(adjoint[r], adjoint[r] + len, T(0));
    std::copy(grad_y + start, grad_y + start + len, adjoint[output_]);
    for (auto it = code_.rbegin(); it != code_.rend(); ++it) {
      const Instruction& in = *it;
      const T* beta = in.beta >= 0 ? betas[in.beta] + start : nullptr;
      T* grad_beta = in.beta >= 0 ? grad_betas[in.beta] + start : nullptr;
      formulas::VisitFormula(in.op, [&](auto formula) {
        using F = decltype(formula);
        if constexpr (F::kArity == 1) {
          UnaryBackward<F>(len, value[in.a], value[in.out], beta, adjoint[in.out],
                           adjoint[in.a], grad_beta);
        } else {
          BinaryBackward<F>(len, value[in.a], value[in.b], value[in.out], beta, adjoint[in.out],
                            adjoint[in.a], adjoint[in.b], grad_beta);
        }
      });
    }
  }
}

template void Program::Forward<float>(int64_t, const float*, const float* const*, float*) const;
template void Program::Forward<double>(int64_t, const double*, const double* const*,
                                       double*) const;
template void Program::Backward<float>(int64_t, const float*, const float* const*, const float*,
                                       float*, float* const*) const;
template void Program::Backward<double>(int64_t, const double*, const double* const*,
                                        const double*, double*, double* const*) const;

}  // namespace actsearch
