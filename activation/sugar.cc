#include "activation/sugar.h"

#include <ATen/Parallel.h>

#include <iostream>
#include <map>
#include <mutex>
#include <tuple>

#include "activation/primitive_ops.h"
#include "search_space/printer.h"
#ifdef ACTSEARCH_GENERATED_KERNELS
#include "activation/generated_kernels.h"
#endif

namespace actsearch {
namespace {

// Elements per parallel task: enough to amortise a task, small enough to split 2M elements.
constexpr int64_t kGrain = 1 << 15;
// Elements per call of the expression evaluator: its scratch arrays stay in L1/L2.
constexpr int64_t kChunk = 1024;

template <class T, bool kNegativeOnly>
void ExpressionGradient(const Program& program, const T* x, const T* grad_y, T* grad_x, int64_t n) {
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

bool CpuLoopSupports(const torch::Tensor& x) {
  const bool real = x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble;
  return x.device().is_cpu() && real && x.is_non_overlapping_and_dense();
}

torch::Tensor SurrogateGradientCpu(const Surrogate& s, SugarVariant variant, const torch::Tensor& x,
                                   const torch::Tensor& grad_y) {
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
    const int64_t n = x.numel();
    const bool negative_only = variant == SugarVariant::kNegativeOnly;
    if (s.kind == SurrogateKind::kExpression) {
      const Program& program = s.expression->program;
      if (negative_only) return ExpressionGradient<scalar_t, true>(program, xp, gyp, gxp, n);
      return ExpressionGradient<scalar_t, false>(program, xp, gyp, gxp, n);
    }
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      SurrogateGradient(s.kind, s.alpha, negative_only, xp + begin, gyp + begin, gxp + begin,
                        end - begin);
    });
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

#ifdef ACTSEARCH_GENERATED_KERNELS
// The surrogate's generated backward for x's device, or null: x is not a layout it takes, the
// generated kernels are turned off, or they cannot be built, which is said once per surrogate
// and device. Loaded once per surrogate: the cache holds the expression, so its address stays
// a valid key.
const GeneratedSurrogate* SurrogateKernelsFor(const Surrogate& s, const torch::Tensor& x) {
  if (!GeneratedSurrogate::Supports(x) || !GeneratedKernelsEnabled()) return nullptr;
  using Key = std::tuple<int, int, double, const CompiledExpression*>;
  struct Entry {
    c10::intrusive_ptr<CompiledExpression> expression;
    std::shared_ptr<GeneratedSurrogate> kernels;
  };
  static std::mutex mutex;
  static std::map<Key, Entry> loaded;
  const std::lock_guard<std::mutex> lock(mutex);
  const Key key{x.device().index(), static_cast<int>(s.kind), s.alpha, s.expression.get()};
  auto found = loaded.find(key);
  if (found == loaded.end()) {
    std::string why_not;
    Entry entry{s.expression, GeneratedSurrogate::Load(s.kind, s.alpha,
                                                       s.expression ? s.expression->expr : nullptr,
                                                       x.device(), &why_not)};
    if (!entry.kernels) {
      std::cerr << "actsearch: no generated CUDA kernel for the surrogate " << s.Name() << " ("
                << why_not << "); using LibTorch operators\n";
    }
    found = loaded.emplace(key, std::move(entry)).first;
  }
  return found->second.kernels.get();
}
#endif

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
#ifdef ACTSEARCH_GENERATED_KERNELS
    if (const GeneratedSurrogate* kernels = SurrogateKernelsFor(s, x)) {
      return {kernels->Backward(x, grads[0], variant == SugarVariant::kNegativeOnly),
              torch::Tensor(), torch::Tensor()};
    }
#endif
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

torch::Tensor SugarRelu(const torch::Tensor& x, const Surrogate& surrogate, SugarVariant variant) {
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
