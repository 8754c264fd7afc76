#include "activation/primitive_ops.h"

#include "search_space/op_formulas.h"
#include "search_space/value_graph.h"

namespace actsearch {
namespace {

using formulas::kEps;

class TorchEvaluator {
 public:
  TorchEvaluator(const torch::Tensor& x, const std::vector<torch::Tensor>& betas)
      : x_(x), betas_(betas) {}

  // Each value once, in the graph's order, with its betas numbered as Program numbers them.
  torch::Tensor Eval(const Expr& e) {
    const ValueGraph graph = BuildValueGraph(e);
    std::vector<torch::Tensor> values;
    values.reserve(graph.values.size());
    for (const Value& v : graph.values) {
      const torch::Tensor beta = v.beta >= 0 ? betas_.at(v.beta) : torch::Tensor();
      if (v.op == OpId::kInput) {
        values.push_back(x_);
      } else if (v.op == OpId::kBeta) {
        values.push_back(beta * torch::ones_like(x_));
      } else {
        values.push_back(Apply(v.op, values[v.a], v.b >= 0 ? values[v.b] : torch::Tensor(), beta));
      }
    }
    return values[graph.root];
  }

 private:
  static torch::Tensor Apply(OpId op, const torch::Tensor& a, const torch::Tensor& b,
                             const torch::Tensor& beta) {
    switch (op) {
      case OpId::kNeg: return -a;
      case OpId::kAbs: return a.abs();
      case OpId::kSquare: return a * a;
      case OpId::kCube: return a * a * a;
      // At x = 0 exactly, clamp_min would pass the gradient and the fused path does not
      // (op_formulas.h): where() takes the same one-sided derivative, 0.
      case OpId::kSqrt: return (torch::where(a > 0, a, torch::zeros_like(a)) + kEps).sqrt();
      case OpId::kScale: return beta * a;
      case OpId::kShift: return a + beta;
      case OpId::kLogAbs: return (a.abs() + kEps).log();
      case OpId::kExp: return a.exp();
      case OpId::kSin: return a.sin();
      case OpId::kCos: return a.cos();
      case OpId::kSinh: return a.sinh();
      case OpId::kCosh: return a.cosh();
      case OpId::kTanh: return a.tanh();
      case OpId::kAsinh: return a.asinh();
      case OpId::kAtan: return a.atan();
      case OpId::kSinc: {
        // A safe denominator keeps the unused branch of `where` from sending NaN gradients.
        const torch::Tensor small = a.abs() < 0.5;
        const torch::Tensor safe = torch::where(small, torch::ones_like(a), a);
        const torch::Tensor a2 = a * a;
        const torch::Tensor series =
            1 + a2 * (-1.0 / 6 +
                      a2 * (1.0 / 120 +
                            a2 * (-1.0 / 5040 + a2 * (1.0 / 362880 + a2 * (-1.0 / 39916800)))));
        return torch::where(small, series, safe.sin() / safe);
      }
      case OpId::kRelu: return torch::where(a > 0, a, torch::zeros_like(a));
      case OpId::kMin0: return torch::where(a < 0, a, torch::zeros_like(a));
      case OpId::kSigmoid: return a.sigmoid();
      // LibTorch's softplus is stable and its derivative is sigmoid(x) everywhere, 0.5 at 0,
      // as the fused path's.
      case OpId::kSoftplus: return torch::softplus(a);
      case OpId::kGaussian: return (-a * a).exp();
      case OpId::kErf: return a.erf();
      case OpId::kAdd: return a + b;
      case OpId::kMul: return a * b;
      case OpId::kSub: return a - b;
      case OpId::kDiv: {
        const torch::Tensor eps =
            torch::where(b >= 0, torch::full_like(b, kEps), torch::full_like(b, -kEps));
        return a / (b + eps);
      }
      case OpId::kMax: return torch::where(a >= b, a, b);
      case OpId::kMin: return torch::where(a <= b, a, b);
      case OpId::kSigmul: return a.sigmoid() * b;
      case OpId::kRbf: return (-beta * (a - b) * (a - b)).exp();
      case OpId::kLaplace: return (-beta * (a - b).abs()).exp();
      case OpId::kMix: return beta * a + (1 - beta) * b;
      case OpId::kInput:
      case OpId::kBeta:
      case OpId::kIdentity: break;
    }
    TORCH_CHECK(false, "operator ", Info(op).name, " cannot appear inside a tree");
  }

  const torch::Tensor& x_;
  const std::vector<torch::Tensor>& betas_;
};

}  // namespace

torch::Tensor EvaluateWithTorchOps(const Expr& e, const torch::Tensor& x,
                                   const std::vector<torch::Tensor>& betas) {
  return TorchEvaluator(x, betas).Eval(e);
}

std::vector<torch::Tensor> BroadcastBetas(const torch::Tensor& betas, const torch::Tensor& x) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = x.size(1);
  std::vector<torch::Tensor> out;
  for (int64_t k = 0; k < betas.size(0); ++k) out.push_back(betas[k].view(shape));
  return out;
}

}  // namespace actsearch
