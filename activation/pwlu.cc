#include "activation/pwlu.h"

#include <ATen/Parallel.h>

#include <iostream>
#include <map>
#include <mutex>

#include "activation/pwlu_kernel.h"
#include "activation/torch_compat.h"
#include "search_space/printer.h"
#ifdef ACTSEARCH_GENERATED_KERNELS
#include "activation/generated_kernels.h"
#endif

namespace actsearch {
namespace {

// Elements per parallel task, at least.
constexpr int64_t kGrain = 1 << 15;
// A unit whose input barely varies still gets a range this wide on each side of its mean.
constexpr double kMinStd = 1e-3;

using pwlu::Walk;

Walk WalkOf(const torch::Tensor& x, int64_t units) {
  const int64_t numel = x.numel();
  if (units == 1) return {Walk::kFlat, 1, numel, 1};
  const int64_t channels = x.size(1);
  const int64_t plane = numel / (x.size(0) * channels);
  if (x.is_contiguous() && plane > 1) return {Walk::kPlanar, plane, numel / plane, channels};
  return {Walk::kInterleaved, channels, numel / channels, channels};
}

int64_t RowGrain(const Walk& w) { return std::max<int64_t>(1, kGrain / w.row); }

// The tables in the compute type T on the host, as the kernel reads them.
template <class T>
class HostTables {
 public:
  HostTables(const PwluTables& t, torch::ScalarType type)
      : left_(Host(t.left_bound, type)),
        right_(Host(t.right_bound, type)),
        points_(Host(t.points, type)),
        left_slope_(Host(t.left_slope, type)),
        right_slope_(Host(t.right_slope, type)) {
    const int64_t g = left_.numel();
    const int n = static_cast<int>(t.points.size(1) - 1);
    const T* l = left_.data_ptr<T>();
    const T* r = right_.data_ptr<T>();
    const T* y = points_.data_ptr<T>();
    for (int64_t u = 0; u < g; ++u) {
      inv_step_.push_back(static_cast<T>(n) / (r[u] - l[u]));
      first_.push_back(y[u * (n + 1)]);
      last_.push_back(y[u * (n + 1) + n]);
    }
    view_ = {g,
             n,
             l,
             r,
             inv_step_.data(),
             left_slope_.data_ptr<T>(),
             right_slope_.data_ptr<T>(),
             first_.data(),
             last_.data(),
             y};
  }
  // The view points into this object's own arrays.
  HostTables(const HostTables&) = delete;
  HostTables& operator=(const HostTables&) = delete;
  const pwlu::UnitTables<T>& view() const { return view_; }

 private:
  static torch::Tensor Host(const torch::Tensor& t, torch::ScalarType type) {
    return t.detach().to(type).contiguous();
  }
  torch::Tensor left_, right_, points_, left_slope_, right_slope_;
  std::vector<T> inv_step_, first_, last_;
  pwlu::UnitTables<T> view_;
};

torch::MemoryFormat FormatOf(const torch::Tensor& x) {
  return compat::IsChannelsLast(x) ? torch::MemoryFormat::ChannelsLast
                                   : torch::MemoryFormat::Contiguous;
}

torch::Tensor ForwardCpu(const torch::Tensor& x, const PwluTables& tables) {
  torch::Tensor y = torch::empty_like(x, FormatOf(x));
  const Walk walk = WalkOf(x, tables.left_bound.numel());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "actsearch_pwlu_forward", [&] {
    const HostTables<scalar_t> host(tables, x.scalar_type());
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, walk.rows, RowGrain(walk), [&](int64_t begin, int64_t end) {
      pwlu::Forward(host.view(), walk, xp, yp, begin, end);
    });
  });
  return y;
}

struct BackwardResult {
  torch::Tensor x, left_bound, right_bound, points, left_slope, right_slope;
};

// The gradients of the tables from each unit's summed record ([G, RecordWidth(N)], on any
// device: pwlu_kernel.h's layout, which every backward path here produces), and grad_x.
BackwardResult FromRecords(const torch::Tensor& grad_x, const torch::Tensor& records,
                           const PwluTables& t) {
  const int64_t n = t.points.size(1) - 1;
  const torch::Tensor r = records.to(torch::kDouble);
  auto slot = [&](pwlu::Slot k) { return r.select(1, n + k); };
  const torch::Tensor left = t.left_bound.detach().to(torch::kDouble);
  const torch::Tensor right = t.right_bound.detach().to(torch::kDouble);
  // Inside, u = (x - B_L) N / (B_R - B_L): du/dB_L = -(N - u) / (B_R - B_L) and
  // du/dB_R = -u / (B_R - B_L), times dy/du = Y_(i+1) - Y_i. Outside, -K_L and -K_R.
  const torch::Tensor per_width = 1.0 / (right - left);
  const torch::Tensor delta = slot(pwlu::kDeltaGrad);
  const torch::Tensor delta_u = slot(pwlu::kDeltaUGrad);
  const torch::Tensor grad_left =
      -t.left_slope.detach().to(torch::kDouble) * slot(pwlu::kLeftGrad) -
      (static_cast<double>(n) * delta - delta_u) * per_width;
  const torch::Tensor grad_right =
      -t.right_slope.detach().to(torch::kDouble) * slot(pwlu::kRightGrad) - delta_u * per_width;
  auto like = [](const torch::Tensor& g, const torch::Tensor& p) {
    return g.to(p.scalar_type()).reshape(p.sizes());
  };
  return {grad_x,
          like(grad_left, t.left_bound),
          like(grad_right, t.right_bound),
          like(r.narrow(1, 0, n + 1), t.points),
          like(slot(pwlu::kLeftSlopeGrad), t.left_slope),
          like(slot(pwlu::kRightSlopeGrad), t.right_slope)};
}

BackwardResult BackwardCpu(const torch::Tensor& x, const PwluTables& tables,
                           const torch::Tensor& grad_y) {
  const torch::MemoryFormat format = FormatOf(x);
  const torch::Tensor gy = grad_y.to(x.scalar_type()).contiguous(format);
  torch::Tensor grad_x = torch::empty_like(x, format);
  const int64_t units = tables.left_bound.numel();
  const int64_t n = tables.points.size(1) - 1;
  const int64_t width = pwlu::RecordWidth(n);
  const Walk walk = WalkOf(x, units);
  // Each task's records, added up in task order afterwards: the same result whichever thread
  // finishes first, so that seeded runs repeat bit for bit.
  std::mutex merge;
  std::map<int64_t, std::vector<double>> partials;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "actsearch_pwlu_backward", [&] {
    const HostTables<scalar_t> host(tables, x.scalar_type());
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gyp = gy.data_ptr<scalar_t>();
    scalar_t* gxp = grad_x.data_ptr<scalar_t>();
    at::parallel_for(0, walk.rows, RowGrain(walk), [&](int64_t begin, int64_t end) {
      std::vector<double> records(units * width, 0.0);
      pwlu::Backward(host.view(), walk, xp, gyp, gxp, begin, end, records.data());
      std::lock_guard<std::mutex> lock(merge);
      partials.emplace(begin, std::move(records));
    });
  });
  torch::Tensor total = torch::zeros({units, width}, torch::kDouble);
  for (const auto& [begin, records] : partials) {
    total += torch::from_blob(const_cast<double*>(records.data()), {units, width}, torch::kDouble);
  }
  return FromRecords(grad_x, total, tables);
}

class PwluFunction : public torch::autograd::Function<PwluFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& left_bound, const torch::Tensor& right_bound,
                               const torch::Tensor& points, const torch::Tensor& left_slope,
                               const torch::Tensor& right_slope) {
    ctx->save_for_backward({x, left_bound, right_bound, points, left_slope, right_slope});
    return ForwardCpu(x, {left_bound, right_bound, points, left_slope, right_slope});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const BackwardResult g = BackwardCpu(s[0], {s[1], s[2], s[3], s[4], s[5]}, grads[0]);
    return {g.x, g.left_bound, g.right_bound, g.points, g.left_slope, g.right_slope};
  }
};

void CheckTables(const torch::Tensor& x, const PwluTables& t) {
  TORCH_CHECK(x.dim() >= 2, "PWLU expects [N, C, ...] input, got ", x.sizes());
  TORCH_CHECK(t.points.dim() == 2 && t.points.size(1) >= 2, "PWLU points must be [G, N + 1]");
  const int64_t g = t.points.size(0);
  TORCH_CHECK(g == 1 || g == x.size(1), "PWLU has ", g, " units for ", x.size(1), " channels");
  for (const torch::Tensor* v : {&t.left_bound, &t.right_bound, &t.left_slope, &t.right_slope}) {
    TORCH_CHECK(v->dim() == 1 && v->size(0) == g, "PWLU bounds and slopes must be [", g, "]");
  }
}

// Where each element falls, from LibTorch operators (differentiable in x and the bounds), in
// float or double (half and bf16 input is computed in float).
struct Geometry {
  Geometry(const torch::Tensor& input, const PwluTables& t)
      : type(input.scalar_type() == torch::kDouble || t.points.scalar_type() == torch::kDouble
                 ? torch::kDouble
                 : torch::kFloat),
        units(t.points.size(0)),
        n(t.points.size(1) - 1),
        shape(input.dim(), 1) {
    shape[1] = units;
    x = input.to(type);
    left = PerUnit(t.left_bound);
    right = PerUnit(t.right_bound);
    points = t.points.to(type);
    inv_step = static_cast<double>(n) / (right - left);
    u = ((x - left) * inv_step).clamp(0.0, static_cast<double>(n));
    const torch::Tensor i =
        torch::nan_to_num(u.detach(), 0.0).floor().clamp_max(static_cast<double>(n - 1));
    fraction = u - i;
    index = i.to(torch::kLong);
    if (units > 1) index = index + torch::arange(units, index.options()).view(shape) * (n + 1);
  }
  // A [G] table shaped to broadcast over x's channels.
  torch::Tensor PerUnit(const torch::Tensor& v) const { return v.to(type).view(shape); }
  // The sum over each unit's elements, [G].
  torch::Tensor SumPerUnit(const torch::Tensor& v) const {
    if (units == 1) return v.sum().reshape({1});
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < v.dim(); ++d) {
      if (d != 1) dims.push_back(d);
    }
    return v.sum(dims);
  }

  torch::ScalarType type;
  int64_t units, n;
  std::vector<int64_t> shape;
  torch::Tensor x, left, right, points, inv_step;
  torch::Tensor u;         // clamped to [0, N]
  torch::Tensor fraction;  // t
  torch::Tensor index;     // of Y_i in the flattened points
};

// The LibTorch-operator path (CUDA, half, bf16, strided input), with its backward written out
// rather than left to autograd through `take`: that scatters the point gradients with an
// atomic add per element onto a few hundred addresses, which on an H100 made PWLU 11-17x
// ReLU. Here they are one weighted histogram (bincount, summed in shared memory on CUDA) and
// the other gradients per-unit sums.
class PwluOpsFunction : public torch::autograd::Function<PwluOpsFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& left_bound, const torch::Tensor& right_bound,
                               const torch::Tensor& points, const torch::Tensor& left_slope,
                               const torch::Tensor& right_slope) {
    ctx->save_for_backward({x, left_bound, right_bound, points, left_slope, right_slope});
    return PiecewiseLinearReference(x, {left_bound, right_bound, points, left_slope, right_slope});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    torch::NoGradGuard no_grad;
    const auto s = ctx->get_saved_variables();
    const PwluTables t{s[1], s[2], s[3], s[4], s[5]};
    const Geometry at(s[0], t);
    const torch::Tensor flat = at.points.reshape({-1});
    const torch::Tensor y0 = flat.take(at.index);
    const torch::Tensor delta = flat.take(at.index + 1) - y0;
    const torch::Tensor g = grads[0].to(at.type);
    const torch::Tensor zero = torch::zeros({}, g.options());
    const torch::Tensor below = at.x < at.left;
    const torch::Tensor above = at.x >= at.right;
    const torch::Tensor left_slope = at.PerUnit(t.left_slope);
    const torch::Tensor right_slope = at.PerUnit(t.right_slope);
    const torch::Tensor g_delta = torch::where(below | above, zero, g * delta);
    const torch::Tensor grad_x = torch::where(
        below, g * left_slope, torch::where(above, g * right_slope, g_delta * at.inv_step));
    // Outside the range the clamped position puts all of g on Y_0 (t = 0) or Y_N (t = 1).
    const torch::Tensor w1 = g * at.fraction;
    const int64_t table = at.units * (at.n + 1);
    const torch::Tensor grad_points =
        (torch::bincount(at.index.reshape({-1}), (g - w1).reshape({-1}), table) +
         torch::bincount((at.index + 1).reshape({-1}), w1.reshape({-1}), table))
            .view({at.units, at.n + 1});
    // The per-unit sums in pwlu_kernel.h's record layout, turned into gradients in one place.
    const torch::Tensor records =
        torch::cat({grad_points.to(torch::kDouble),
                    torch::stack({at.SumPerUnit(torch::where(below, g, zero)),
                                  at.SumPerUnit(torch::where(above, g, zero)),
                                  at.SumPerUnit(torch::where(below, g * (at.x - at.left), zero)),
                                  at.SumPerUnit(torch::where(above, g * (at.x - at.right), zero)),
                                  at.SumPerUnit(g_delta), at.SumPerUnit(g_delta * at.u)},
                                 1)
                        .to(torch::kDouble)},
                   1);
    const BackwardResult r = FromRecords(grad_x.to(s[0].scalar_type()), records, t);
    return {r.x, r.left_bound, r.right_bound, r.points, r.left_slope, r.right_slope};
  }
};

#ifdef ACTSEARCH_GENERATED_KERNELS
// PWLU's generated kernels for x's device, or null: x is not a layout they take, they are
// turned off, or they cannot be built, which is said once per device and interval count.
const GeneratedPwlu* PwluKernelsFor(const torch::Tensor& x, const PwluTables& t) {
  const int64_t units = t.points.size(0);
  const int intervals = static_cast<int>(t.points.size(1) - 1);
  if (!t.points.is_cuda() || !GeneratedPwlu::Supports(x, units, intervals) ||
      !GeneratedKernelsEnabled()) {
    return nullptr;
  }
  static std::mutex mutex;
  static std::map<std::pair<int, int>, std::shared_ptr<GeneratedPwlu>> loaded;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::pair<int, int> key{x.device().index(), intervals};
  auto found = loaded.find(key);
  if (found == loaded.end()) {
    std::string why_not;
    found = loaded.emplace(key, GeneratedPwlu::Load(intervals, x.device(), &why_not)).first;
    if (!found->second) {
      std::cerr << "actsearch: no generated CUDA kernels for PWLU (" << why_not
                << "); using LibTorch operators\n";
    }
  }
  return found->second.get();
}

// PWLU on CUDA with its generated kernels: one pass forward, one backward whose table
// gradients are per-thread records summed per block (no atomics), then per unit.
class PwluCudaFunction : public torch::autograd::Function<PwluCudaFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& left_bound, const torch::Tensor& right_bound,
                               const torch::Tensor& points, const torch::Tensor& left_slope,
                               const torch::Tensor& right_slope, const GeneratedPwlu* kernels) {
    ctx->save_for_backward({x, left_bound, right_bound, points, left_slope, right_slope});
    ctx->saved_data["kernels"] = reinterpret_cast<int64_t>(kernels);
    return kernels->Forward(x, left_bound, right_bound, left_slope, right_slope, points);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto s = ctx->get_saved_variables();
    // The kernels live in PwluKernelsFor's cache for the life of the process.
    const auto* kernels =
        reinterpret_cast<const GeneratedPwlu*>(ctx->saved_data["kernels"].toInt());
    auto [grad_x, records] = kernels->Backward(s[0], s[1], s[2], s[4], s[5], s[3], grads[0]);
    const BackwardResult r = FromRecords(grad_x, records, {s[1], s[2], s[3], s[4], s[5]});
    return {r.x,          r.left_bound,  r.right_bound,  r.points,
            r.left_slope, r.right_slope, torch::Tensor()};
  }
};
#endif

}  // namespace

bool PwluKernelSupports(const torch::Tensor& x) {
  const bool real = x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble;
  const bool dense = x.is_contiguous() || compat::IsChannelsLast(x);
  return x.device().is_cpu() && real && x.dim() >= 2 && dense && x.numel() > 0;
}

torch::Tensor PiecewiseLinear(const torch::Tensor& x, const PwluTables& t) {
  CheckTables(x, t);
  if (PwluKernelSupports(x) && t.points.device().is_cpu()) {
    return PwluFunction::apply(x, t.left_bound, t.right_bound, t.points, t.left_slope,
                               t.right_slope);
  }
#ifdef ACTSEARCH_GENERATED_KERNELS
  if (const GeneratedPwlu* kernels = PwluKernelsFor(x, t)) {
    return PwluCudaFunction::apply(x, t.left_bound, t.right_bound, t.points, t.left_slope,
                                   t.right_slope, kernels);
  }
#endif
  return PiecewiseLinearWithTorchOps(x, t);
}

torch::Tensor PiecewiseLinearWithTorchOps(const torch::Tensor& x, const PwluTables& t) {
  CheckTables(x, t);
  return PwluOpsFunction::apply(x, t.left_bound, t.right_bound, t.points, t.left_slope,
                                t.right_slope);
}

torch::Tensor PiecewiseLinearReference(const torch::Tensor& x, const PwluTables& t) {
  CheckTables(x, t);
  const Geometry at(x, t);
  const torch::Tensor flat = at.points.reshape({-1});
  const torch::Tensor y0 = flat.take(at.index);
  const torch::Tensor inside = y0 + at.fraction * (flat.take(at.index + 1) - y0);
  const torch::Tensor below =
      (at.x - at.left) * at.PerUnit(t.left_slope) + at.PerUnit(at.points.select(1, 0));
  const torch::Tensor above =
      (at.x - at.right) * at.PerUnit(t.right_slope) + at.PerUnit(at.points.select(1, at.n));
  const torch::Tensor y =
      torch::where(at.x < at.left, below, torch::where(at.x >= at.right, above, inside));
  return y.to(x.scalar_type());
}

PwluImpl::PwluImpl(PwluOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.channels() >= 1, "PWLU needs at least one channel");
  TORCH_CHECK(options_.intervals() >= 1, "PWLU needs at least one interval");
  TORCH_CHECK(options_.warmup_steps() >= 0, "PWLU warm-up steps cannot be negative");
  TORCH_CHECK(options_.momentum() >= 0 && options_.momentum() < 1,
              "PWLU momentum must be in [0, 1)");
  TORCH_CHECK(options_.bound_sigmas() > 0, "PWLU bound_sigmas must be positive");
  if (options_.init()) init_ = c10::make_intrusive<CompiledExpression>(options_.init());
  const int64_t g = units();
  left_bound_ = register_parameter("left_bound", torch::empty({g}));
  right_bound_ = register_parameter("right_bound", torch::empty({g}));
  points_ = register_parameter("points", torch::empty({g, options_.intervals() + 1}));
  left_slope_ = register_parameter("left_slope", torch::empty({g}));
  right_slope_ = register_parameter("right_slope", torch::empty({g}));
  running_mean_ = register_buffer("running_mean", torch::zeros({g}));
  running_std_ = register_buffer("running_std", torch::ones({g}));
  tracked_steps_buffer_ = register_buffer("tracked_steps", torch::zeros({}, torch::kLong));
  aligned_buffer_ = register_buffer("aligned", torch::zeros({}, torch::kLong));
  // The paper's initial tables: the shape on a symmetric range (mean 0, std 1).
  ResampleInitialShape(std::vector<double>(g, 0.0), std::vector<double>(g, 1.0));
}

torch::Tensor PwluImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == options_.channels(), "expected [N, ",
              options_.channels(), ", ...] input, got ", x.sizes());
  if (!aligned_) {
    if (!is_training()) return InitialShape(x);
    if (tracked_steps_ < options_.warmup_steps()) {
      TrackStatistics(x);
      return InitialShape(x);
    }
    Align();
  }
  return PiecewiseLinear(x, tables());
}

torch::Tensor PwluImpl::InitialShape(const torch::Tensor& x) {
  if (!init_) return torch::relu(x);
  const std::vector<double>& initial = init_->program.initial_betas();
  const int64_t k = static_cast<int64_t>(initial.size());
  torch::Tensor betas = torch::empty({k, x.size(1)}, left_bound_.options());
  for (int64_t b = 0; b < k; ++b) betas[b].fill_(initial[b]);
  return FusedActivation(init_, x, betas);
}

void PwluImpl::TrackStatistics(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const torch::Tensor xs = x.detach().to(running_mean_.scalar_type());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < xs.dim(); ++d) {
    if (d != 1 || !options_.per_channel()) dims.push_back(d);
  }
  const torch::Tensor mean = xs.mean(dims, /*keepdim=*/true);
  // The population std of the batch, as BatchNorm normalises with.
  const torch::Tensor stddev = (xs - mean).pow(2).mean(dims).sqrt().reshape({-1});
  const double m = options_.momentum();
  running_mean_.mul_(m).add_(mean.reshape({-1}), 1 - m);
  running_std_.mul_(m).add_(stddev, 1 - m);
  ++tracked_steps_;
  tracked_steps_buffer_.fill_(tracked_steps_);
}

void PwluImpl::Align() {
  auto host = [](const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  ResampleInitialShape(host(running_mean_), host(running_std_));
  aligned_ = true;
  aligned_buffer_.fill_(1);
}

void PwluImpl::ResampleInitialShape(const std::vector<double>& mean,
                                    const std::vector<double>& stddev) {
  const int64_t g = units();
  const int64_t n = options_.intervals();
  std::vector<double> left(g), right(g), points(g * (n + 1)), left_slope(g), right_slope(g);
  std::vector<double> grid(n + 1);
  for (int64_t u = 0; u < g; ++u) {
    const double half = options_.bound_sigmas() * std::max(stddev[u], kMinStd);
    left[u] = mean[u] - half;
    right[u] = mean[u] + half;
    for (int64_t j = 0; j <= n; ++j) grid[j] = left[u] + (right[u] - left[u]) * j / n;
    double* y = points.data() + u * (n + 1);
    if (!init_) {
      for (int64_t j = 0; j <= n; ++j) y[j] = std::max(grid[j], 0.0);
      left_slope[u] = 0;
      right_slope[u] = 1;
      continue;
    }
    // The expression at its initial betas: values on the grid, slopes at the bounds.
    const Program& program = init_->program;
    const int k = program.num_betas();
    std::vector<std::vector<double>> betas(k), unused(k);
    std::vector<const double*> beta_pointers(k);
    std::vector<double*> unused_pointers(k);
    for (int b = 0; b < k; ++b) {
      betas[b].assign(n + 1, program.initial_betas()[b]);
      unused[b].resize(n + 1);
      beta_pointers[b] = betas[b].data();
      unused_pointers[b] = unused[b].data();
    }
    program.Forward<double>(n + 1, grid.data(), beta_pointers.data(), y);
    const double ends[2] = {left[u], right[u]};
    const double ones[2] = {1, 1};
    double slopes[2];
    program.Backward<double>(2, ends, beta_pointers.data(), ones, slopes, unused_pointers.data());
    left_slope[u] = slopes[0];
    right_slope[u] = slopes[1];
  }
  // In place: an optimizer may already hold these tensors.
  torch::NoGradGuard no_grad;
  left_bound_.copy_(torch::tensor(left, torch::kDouble));
  right_bound_.copy_(torch::tensor(right, torch::kDouble));
  points_.copy_(torch::tensor(points, torch::kDouble).view({g, n + 1}));
  left_slope_.copy_(torch::tensor(left_slope, torch::kDouble));
  right_slope_.copy_(torch::tensor(right_slope, torch::kDouble));
}

void PwluImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  tracked_steps_ = tracked_steps_buffer_.item<int64_t>();
  aligned_ = aligned_buffer_.item<int64_t>() != 0;
}

void PwluImpl::pretty_print(std::ostream& stream) const {
  stream << "actsearch::Pwlu(channels=" << options_.channels()
         << (options_.per_channel() ? ", per channel" : ", per layer")
         << ", intervals=" << options_.intervals() << ", warmup_steps=" << options_.warmup_steps()
         << ", init=" << (options_.init() ? ToString(options_.init()) : "relu")
         << (aligned_ ? ", aligned" : ", tracking") << ")";
}

}  // namespace actsearch
