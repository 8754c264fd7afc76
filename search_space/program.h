// An expression compiled to a flat list of instructions, evaluated over arrays.
//
// One evaluator serves every caller: double precision for the CLI, fingerprints and
// screening, single precision for the fused CPU kernel of the LibTorch activation. It works
// through the input in cache-sized chunks, one vectorised loop per operator, and its backward
// pass recomputes the forward values of a chunk instead of storing them, so it needs nothing
// but the input and the betas.
#pragma once

#include <cstdint>
#include <vector>

#include "search_space/expr.h"

namespace actsearch {
namespace detail {

// An operator applied to registers, or, with op kIdentity, a fan-out: registers out to
// out + b - 1 take register a's values, one per reader of a value read more than once.
struct Instruction {
  OpId op;
  int out;   // register written (a fan-out's first copy)
  int a;     // register of the first operand
  int b;     // register of the second operand, or -1 (a fan-out's number of copies)
  int beta;  // index of the op's own beta, or -1
};

// The compiled form. Every use of x and every free beta has a register, every operator writes
// one, and a value read more than once is fanned out to one register per reader: each
// register is read by one instruction at most, so its adjoint gets one contribution.
struct ProgramCode {
  std::vector<Instruction> code;        // post-order: operands before their users
  std::vector<int> input_registers;     // the registers that hold x
  std::vector<int> beta_leaf_register;  // indexed by beta number; -1 for op-owned betas
  int num_registers = 0;
  int output = 0;
  int num_betas() const { return static_cast<int>(beta_leaf_register.size()); }
};

}  // namespace detail

class Program {
 public:
  explicit Program(const Expr& e);

  // Betas are numbered as search_space/value_graph.h says: named values' definitions first, in
  // post-order, a node's operands' betas (left operand first) before the node's own. In the
  // printed text an operator's own beta can come before its operands' (`beta * (x + beta)`
  // numbers the shift's beta 1 and the scale's 2): beta_owners says which node each one
  // belongs to. A value the expression reads several times is computed once.
  int num_betas() const { return code_.num_betas(); }
  const std::vector<double>& initial_betas() const { return initial_betas_; }
  // Beta k's node: a free `beta`, or the operator that owns it (scale, shift, rbf, laplace, mix).
  const std::vector<Expr>& beta_owners() const { return beta_owners_; }

  // y[i] = f(x[i]; betas[0][i], betas[1][i], ...). `betas` has num_betas() arrays of n values.
  template <class T>
  void Forward(int64_t n, const T* x, const T* const* betas, T* y) const;

  // grad_x[i] = grad_y[i] * df/dx(x[i]), and grad_betas[k][i] = grad_y[i] * df/dbeta_k(x[i]):
  // per element, for the caller to reduce over the elements that share a beta.
  // grad_betas may be null when num_betas() == 0.
  template <class T>
  void Backward(int64_t n, const T* x, const T* const* betas, const T* grad_y, T* grad_x,
                T* const* grad_betas) const;

  // The instruction set the single-precision loops run with here: "avx512", "avx2" or
  // "generic". Double precision always runs the generic build, so that fingerprints are the
  // same on every machine.
  static const char* FloatInstructionSet();

 private:
  detail::ProgramCode code_;
  std::vector<double> initial_betas_;
  std::vector<Expr> beta_owners_;
};

}  // namespace actsearch
