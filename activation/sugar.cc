#include "activation/sugar.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "activation/primitive_ops.h"
#include "search_space/op_formulas.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

using formulas::Exp;
using formulas::Sigmoid;

// Elements per parallel task: enough to amortise a task, small enough to split 2M elements.
constexpr int64_t kGrain = 1 << 15;
// Elements per call of the expression evaluator: its scratch arrays stay in L1/L2.
constexpr int64_t kChunk = 1024;

constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

// grad_x[i] = grad_y[i] * f'(x[i]), or grad_y[i] where x[i] > 0 for kNegativeOnly.
template <class T, bool kNegativeOnly, class Derivative>
void SurrogateGradient(const T* x, const T* grad_y, T* grad_x, int64_t n, Derivative derivative) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T slope = derivative(x[i]);
      grad_x[i] = grad_y[i] * (kNegativeOnly && x[i] > T(0) ? T(1) : slope);
    }
  });
}

template <class T, bool kNegativeOnly>
void ExpressionGradient(const Program& program, const T* x, const T* grad_y, T* grad_x,
                        int64_t n) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    const int num_betas = program.num_betas();
    std::vector<std::vector<T>> betas(num_betas), unused_beta_grads(num_betas);
    std::vector<const T*> beta_pointers(num_betas);
    std::vector<T*> beta_grad_pointers(num_betas);
    for (int k = 0; k < num_betas; ++k) {
      betas[k].assign(kChunk, static_cast<T>(program.initial_betas()[k]));
      unused_beta_grads[k].resize(kChunk);
      beta_pointers[k] = betas[k].data();
      beta_grad_pointers[k] = unused_beta_grads[k].data();
    }
    for (int64_t start = begin; start < end; start += kChunk) {
      const int64_t m = std::min(kChunk, end - start);
      program.Backward<T>(m, x + start, beta_pointers.data(), grad_y + start, grad_x + start,
                          beta_grad_pointers.data());
      if (kNegativeOnly) {
        for (int64_t i = start; i < start + m; ++i) {
          if (x[i] > T(0)) grad_x[i] = grad_y[i];
        }
      }
    }
  });
}

// The analytic derivatives, written for the loop above (exp and sigmoid are the vectorisable
// ones of the expression evaluator). The tests hold each one to autograd of SurrogateValue.
template <class T, bool kNegativeOnly>
void DispatchSurrogate(const Surrogate& s, const T* x, const T* gy, T* gx, int64_t n) {
  const T a = static_cast<T>(s.alpha);
  switch (s.kind) {
    case SurrogateKind::kBSilu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [a](T v) {
        const T sig = Sigmoid(v);
        return sig + (v + a) * sig * (T(1) - sig);
      });
    case SurrogateKind::kNelu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [a](T v) {
        const T q = T(1) + v * v;
        return v > T(0) ? T(1) : T(2) * a * v / (q * q);
      });
    case SurrogateKind::kElu:
      return SurrogateGradient<T, kNegativeOnly>(
          x, gy, gx, n, [a](T v) { return v > T(0) ? T(1) : a * Exp(v); });
    case SurrogateKind::kSelu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        return v > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * Exp(v);
      });
    case SurrogateKind::kGelu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        const T cdf = T(0.5) * (T(1) + std::erf(v * T(M_SQRT1_2)));
        return cdf + v * T(0.5 * M_2_SQRTPI * M_SQRT1_2) * Exp(T(-0.5) * v * v);
      });
    case SurrogateKind::kSilu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        const T sig = Sigmoid(v);
        return sig * (T(1) + v * (T(1) - sig));
      });
    case SurrogateKind::kMish:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n, [](T v) {
        // tanh(softplus(v)) = p / (p + 2) with p = e^v (e^v + 2): no log, no cancellation.
        // Beyond v = 20 it is 1 to working precision, and e^v squared would overflow.
        const T e = Exp(std::min(v, T(20)));
        const T p = e * (e + T(2));
        const T tanh_softplus = p / (p + T(2));
        return tanh_softplus + v * Sigmoid(v) * (T(1) - tanh_softplus * tanh_softplus);
      });
    case SurrogateKind::kLeakyRelu:
      return SurrogateGradient<T, kNegativeOnly>(x, gy, gx, n,
                                                 [a](T v) { return v > T(0) ? T(1) : a; });
    case SurrogateKind::kExpression:
      return ExpressionGradient<T, kNegativeOnly>(s.expression->program, x, gy, gx, n);
  }
}

bool CpuLoopSupports(const torch::Tensor& x) {
  const bool real = x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble;
  return x.device().is_cpu() && real && x.is_non_overlapping_and_dense();
}

torch::Tensor SurrogateGradientCpu(const Surrogate& s, SugarVariant variant,
                                   const torch::Tensor& x, const torch::Tensor& grad_y) {
  // Elementwise over memory: grad_y must share x's strides, whatever the layout.
  torch::Tensor gy = grad_y;
  if (gy.strides() != x.strides() || gy.scalar_type() != x.scalar_type()) {
    gy = torch::empty_like(x).copy_(grad_y);
  }
  torch::Tensor grad_x = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "actsearch_sugar_backward", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gyp = gy.data_ptr<scalar_t>();
    scalar_t* gxp = grad_x.data_ptr<scalar_t>();
    if (variant == SugarVariant::kNegativeOnly) {
      DispatchSurrogate<scalar_t, true>(s, xp, gyp, gxp, x.numel());
    } else {
      DispatchSurrogate<scalar_t, false>(s, xp, gyp, gxp, x.numel());
    }
  });
  return grad_x;
}

// Other devices and dtypes: autograd of the surrogate built from LibTorch operators, in float
// for half and bf16 input (precision, and LibTorch 1.13 has no bf16 mish on the CPU).
torch::Tensor SurrogateGradientWithTorchOps(const Surrogate& s, SugarVariant variant,
                                            const torch::Tensor& x, const torch::Tensor& grad_y) {
  torch::AutoGradMode enable(true);
  const torch::ScalarType type = x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const torch::Tensor x_leaf = x.detach().to(type).requires_grad_(true);
  const torch::Tensor gy = grad_y.to(type);
  const torch::Tensor f = SurrogateValue(s, x_leaf);
  torch::Tensor grad_x;
  if (f.requires_grad()) {  // false for a constant expression such as `beta`
    grad_x = torch::autograd::grad({f}, {x_leaf}, {gy}, /*retain_graph=*/false,
                                   /*create_graph=*/false, /*allow_unused=*/true)[0];
  }
  if (!grad_x.defined()) grad_x = torch::zeros_like(x_leaf);
  if (variant == SugarVariant::kNegativeOnly) grad_x = torch::where(x_leaf > 0, gy, grad_x);
  return grad_x.to(x.scalar_type());
}

class SugarFunction : public torch::autograd::Function<SugarFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const Surrogate& surrogate, SugarVariant variant) {
    ctx->save_for_backward({x});
    ctx->saved_data["kind"] = static_cast<int64_t>(surrogate.kind);
    ctx->saved_data["alpha"] = surrogate.alpha;
    ctx->saved_data["variant"] = static_cast<int64_t>(variant);
    if (surrogate.expression) {
      ctx->saved_data["expression"] = c10::IValue::make_capsule(surrogate.expression);
    }
    return torch::relu(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    Surrogate s;
    s.kind = static_cast<SurrogateKind>(ctx->saved_data["kind"].toInt());
    s.alpha = ctx->saved_data["alpha"].toDouble();
    if (s.kind == SurrogateKind::kExpression) {
      s.expression = c10::static_intrusive_pointer_cast<CompiledExpression>(
          ctx->saved_data["expression"].toCapsule());
    }
    const auto variant = static_cast<SugarVariant>(ctx->saved_data["variant"].toInt());
    const torch::Tensor grad_x = CpuLoopSupports(x) && x.numel() > 0
                                     ? SurrogateGradientCpu(s, variant, x, grads[0])
                                     : SurrogateGradientWithTorchOps(s, variant, x, grads[0]);
    return {grad_x, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

Surrogate Surrogate::BSilu(double alpha) { return {SurrogateKind::kBSilu, alpha, {}}; }
Surrogate Surrogate::Nelu(double alpha) { return {SurrogateKind::kNelu, alpha, {}}; }
Surrogate Surrogate::Elu(double alpha) { return {SurrogateKind::kElu, alpha, {}}; }
Surrogate Surrogate::Selu() { return {SurrogateKind::kSelu, 0, {}}; }
Surrogate Surrogate::Gelu() { return {SurrogateKind::kGelu, 0, {}}; }
Surrogate Surrogate::Silu() { return {SurrogateKind::kSilu, 0, {}}; }
Surrogate Surrogate::Mish() { return {SurrogateKind::kMish, 0, {}}; }
Surrogate Surrogate::LeakyRelu(double negative_slope) {
  return {SurrogateKind::kLeakyRelu, negative_slope, {}};
}
Surrogate Surrogate::FromExpression(Expr e) {
  return {SurrogateKind::kExpression, 0, c10::make_intrusive<CompiledExpression>(std::move(e))};
}

std::string Surrogate::Name() const {
  switch (kind) {
    case SurrogateKind::kBSilu: return "bsilu";
    case SurrogateKind::kNelu: return "nelu";
    case SurrogateKind::kElu: return "elu";
    case SurrogateKind::kSelu: return "selu";
    case SurrogateKind::kGelu: return "gelu";
    case SurrogateKind::kSilu: return "silu";
    case SurrogateKind::kMish: return "mish";
    case SurrogateKind::kLeakyRelu: return "leaky_relu";
    case SurrogateKind::kExpression: return ToString(expression->expr);
  }
  return "?";
}

bool Surrogate::HasAlpha() const {
  return kind == SurrogateKind::kBSilu || kind == SurrogateKind::kNelu ||
         kind == SurrogateKind::kElu || kind == SurrogateKind::kLeakyRelu;
}

const char* SugarVariantName(SugarVariant variant) {
  return variant == SugarVariant::kEverywhere ? "everywhere" : "negative only";
}

torch::Tensor SurrogateValue(const Surrogate& s, const torch::Tensor& x) {
  switch (s.kind) {
    case SurrogateKind::kBSilu: return (x + s.alpha) * torch::sigmoid(x) - s.alpha / 2;
    case SurrogateKind::kNelu: return torch::where(x > 0, x, -s.alpha / (1 + x * x));
    case SurrogateKind::kElu: return torch::elu(x, s.alpha);
    case SurrogateKind::kSelu: return torch::selu(x);
    case SurrogateKind::kGelu: return torch::gelu(x);
    case SurrogateKind::kSilu: return torch::silu(x);
    case SurrogateKind::kMish: return torch::mish(x);
    case SurrogateKind::kLeakyRelu: return torch::leaky_relu(x, s.alpha);
    case SurrogateKind::kExpression: {
      std::vector<torch::Tensor> betas;
      for (double b : s.expression->program.initial_betas()) {
        betas.push_back(torch::scalar_tensor(b, x.options().requires_grad(false)));
      }
      return EvaluateWithTorchOps(s.expression->expr, x, betas);
    }
  }
  TORCH_CHECK(false, "unknown surrogate kind");
}

torch::Tensor SugarRelu(const torch::Tensor& x, const Surrogate& surrogate,
                        SugarVariant variant) {
  TORCH_CHECK(surrogate.kind != SurrogateKind::kExpression || surrogate.expression,
              "an expression surrogate needs its expression");
  return SugarFunction::apply(x, surrogate, variant);
}

torch::Tensor SugarReluByGradientInjection(const torch::Tensor& x, const Surrogate& surrogate,
                                           SugarVariant variant) {
  const torch::Tensor f = SurrogateValue(surrogate, x);
  const torch::Tensor g = variant == SugarVariant::kEverywhere ? f : torch::where(x > 0, x, f);
  return torch::relu(x).detach() + (g - g.detach());
}

void SugarImpl::pretty_print(std::ostream& stream) const {
  const Surrogate& s = options_.surrogate();
  stream << "actsearch::Sugar(surrogate=" << s.Name();
  if (s.HasAlpha()) stream << ", alpha=" << s.alpha;
  stream << ", gradient=" << SugarVariantName(options_.variant()) << ")";
}

}  // namespace actsearch
