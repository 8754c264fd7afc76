// The evaluation loops of Program, as templates with internal linkage. This header is included
// by one source file per instruction set (program_kernels_*.cc), each compiled with its own
// flags, so the loops vectorise for AVX2 and AVX-512 too; program.cc picks one at run time.
#pragma once

#include <algorithm>
#include <vector>

#include "search_space/op_formulas.h"
#include "search_space/program.h"

namespace actsearch::detail {
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

// Every register feeds one reader at most (values read more than once are fanned out, and every
// use of x has a register of its own), so each adjoint receives exactly one contribution:
// stored, never accumulated, and no array aliases another.
template <class F, class T>
void UnaryBackward(int64_t n, const T* __restrict a, const T* __restrict y,
                   const T* __restrict beta, const T* __restrict gy, T* __restrict ga,
                   T* __restrict gbeta) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) {
      ga[i] = gy[i] * F::DA(a[i], y[i], beta[i]);
      gbeta[i] = gy[i] * F::DBeta(a[i], y[i], beta[i]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) ga[i] = gy[i] * F::DA(a[i], y[i], T(0));
  }
}

template <class F, class T>
void BinaryBackward(int64_t n, const T* __restrict a, const T* __restrict b, const T* __restrict y,
                    const T* __restrict beta, const T* __restrict gy, T* __restrict ga,
                    T* __restrict gb, T* __restrict gbeta) {
  if constexpr (F::kHasBeta) {
    for (int64_t i = 0; i < n; ++i) {
      ga[i] = gy[i] * F::DA(a[i], b[i], y[i], beta[i]);
      gb[i] = gy[i] * F::DB(a[i], b[i], y[i], beta[i]);
      gbeta[i] = gy[i] * F::DBeta(a[i], b[i], y[i], beta[i]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      ga[i] = gy[i] * F::DA(a[i], b[i], y[i], T(0));
      gb[i] = gy[i] * F::DB(a[i], b[i], y[i], T(0));
    }
  }
}

// Points the value registers of the leaves (each use of x, each free beta) at the chunk.
template <class T>
void BindLeaves(const ProgramCode& p, int64_t start, const T* x, const T* const* betas,
                std::vector<const T*>& value) {
  for (int r : p.input_registers) value[r] = x + start;
  for (int k = 0; k < p.num_betas(); ++k) {
    if (p.beta_leaf_register[k] >= 0) value[p.beta_leaf_register[k]] = betas[k] + start;
  }
}

// adjoint of a fanned-out value = the sum of its `count` copies' adjoints, from register `first`.
template <class T>
void FanInAdjoints(int64_t len, const std::vector<T*>& adjoint, int first, int count,
                   T* __restrict sum) {
  std::copy(adjoint[first], adjoint[first] + len, sum);
  for (int c = 1; c < count; ++c) {
    const T* __restrict g = adjoint[first + c];
    for (int64_t i = 0; i < len; ++i) sum[i] += g[i];
  }
}

// grad_x = the sum of the adjoints of every use of x (zero when x is unused). The uses of x
// have consecutive registers, like a fan-out's copies.
template <class T>
void SumInputAdjoints(const ProgramCode& p, int64_t len, const std::vector<T*>& adjoint,
                      T* __restrict grad_x) {
  const std::vector<int>& uses = p.input_registers;
  if (uses.size() == 1) return;  // written in place
  if (uses.empty()) {
    std::fill(grad_x, grad_x + len, T(0));
    return;
  }
  FanInAdjoints(len, adjoint, uses[0], static_cast<int>(uses.size()), grad_x);
}

// Per-thread working memory, reused across calls: no allocation per call or chunk. It must be
// thread-local rather than allocated per call: two threads' small heap blocks can share a cache
// line, and the register table is written for every instruction of every chunk.
template <class T>
struct Workspace {
  std::vector<T> scratch;       // register values, then adjoints, kChunk elements each
  std::vector<const T*> value;  // where each register's values are
  std::vector<T*> adjoint;      // where each register's adjoints are

  static Workspace& ForThisThread(const ProgramCode& p, int arrays_per_register) {
    thread_local Workspace workspace;
    const size_t registers = static_cast<size_t>(p.num_registers);
    if (workspace.scratch.size() < arrays_per_register * registers * kChunk) {
      workspace.scratch.resize(arrays_per_register * registers * kChunk);
    }
    if (workspace.value.size() < registers) {
      workspace.value.resize(registers);
      workspace.adjoint.resize(registers);
    }
    return workspace;
  }
};

// Runs the instructions over one chunk of `len` elements starting at `start`; `output` is
// where the root's values go (null: into scratch like every other register).
template <class T>
void ComputeChunk(const ProgramCode& p, int64_t start, int64_t len, const T* x,
                  const T* const* betas, T* scratch, T* output, std::vector<const T*>& value) {
  BindLeaves(p, start, x, betas, value);
  for (const Instruction& in : p.code) {
    if (in.op == OpId::kIdentity) {  // fan-out: the copies read the same array
      for (int c = 0; c < in.b; ++c) value[in.out + c] = value[in.a];
      continue;
    }
    T* out = in.out == p.output && output ? output : scratch + in.out * kChunk;
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
}

template <class T>
void EvaluateForward(const ProgramCode& p, int64_t n, const T* x, const T* const* betas, T* y) {
  Workspace<T>& w = Workspace<T>::ForThisThread(p, 1);
  std::vector<const T*>& value = w.value;
  T* scratch = w.scratch.data();
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t len = std::min(kChunk, n - start);
    ComputeChunk(p, start, len, x, betas, scratch, y + start, value);
    if (p.code.empty()) std::copy(value[p.output], value[p.output] + len, y + start);
  }
}

template <class T>
void EvaluateBackward(const ProgramCode& p, int64_t n, const T* x, const T* const* betas,
                      const T* grad_y, T* grad_x, T* const* grad_betas) {
  Workspace<T>& w = Workspace<T>::ForThisThread(p, 2);
  std::vector<const T*>& value = w.value;
  std::vector<T*>& adjoint = w.adjoint;
  T* scratch = w.scratch.data();
  T* const adjoint_scratch = scratch + p.num_registers * kChunk;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t len = std::min(kChunk, n - start);
    ComputeChunk<T>(p, start, len, x, betas, scratch, nullptr, value);  // recompute forward
    // Adjoints live in scratch, except the betas' (straight into grad_betas), a lone use of x's
    // (straight into grad_x) and the root's (read from grad_y).
    for (int r = 0; r < p.num_registers; ++r) adjoint[r] = adjoint_scratch + r * kChunk;
    for (int k = 0; k < p.num_betas(); ++k) {
      if (p.beta_leaf_register[k] >= 0) adjoint[p.beta_leaf_register[k]] = grad_betas[k] + start;
    }
    if (p.input_registers.size() == 1) adjoint[p.input_registers[0]] = grad_x + start;
    if (p.code.empty()) {
      std::copy(grad_y + start, grad_y + start + len, adjoint[p.output]);
    } else {
      adjoint[p.output] = const_cast<T*>(grad_y + start);  // only ever read
    }
    for (auto it = p.code.rbegin(); it != p.code.rend(); ++it) {
      const Instruction& in = *it;
      if (in.op == OpId::kIdentity) {  // fan-out: the value's adjoint sums its readers'
        FanInAdjoints(len, adjoint, in.out, in.b, adjoint[in.a]);
        continue;
      }
      const T* beta = in.beta >= 0 ? betas[in.beta] + start : nullptr;
      T* grad_beta = in.beta >= 0 ? grad_betas[in.beta] + start : nullptr;
      formulas::VisitFormula(in.op, [&](auto formula) {
        using F = decltype(formula);
        if constexpr (F::kArity == 1) {
          UnaryBackward<F>(len, value[in.a], value[in.out], beta, adjoint[in.out], adjoint[in.a],
                           grad_beta);
        } else {
          BinaryBackward<F>(len, value[in.a], value[in.b], value[in.out], beta, adjoint[in.out],
                            adjoint[in.a], adjoint[in.b], grad_beta);
        }
      });
    }
    SumInputAdjoints(p, len, adjoint, grad_x + start);
  }
}

}  // namespace
}  // namespace actsearch::detail
