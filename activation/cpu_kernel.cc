#include "activation/cpu_kernel.h"

#include <ATen/Parallel.h>

#include <map>
#include <mutex>

#include "activation/torch_compat.h"

namespace actsearch {
namespace {

// How the channel of element i is found.
// Planar (contiguous [N, C, H, W]): runs of `plane` elements share a channel.
// Interleaved (channels_last, or [N, C]): the channel is i % C.
struct Layout {
  int64_t channels;
  int64_t plane;  // elements per (n, c) plane; 0 when interleaved
};

// Elements per interleaved block: a whole number of rows of C channels.
constexpr int64_t kBlockTarget = 2048;

Layout LayoutOf(const torch::Tensor& x) {
  const int64_t channels = x.size(1);
  const int64_t plane = x.numel() / std::max<int64_t>(1, x.size(0) * channels);
  // A contiguous [N, C] (plane of 1) is laid out like channels_last: interleaved.
  if (x.is_contiguous() && plane > 1) return {channels, plane};
  return {channels, 0};
}

torch::MemoryFormat FormatOf(const torch::Tensor& x) {
  return compat::IsChannelsLast(x) ? torch::MemoryFormat::ChannelsLast
                                   : torch::MemoryFormat::Contiguous;
}

// Fills per-element beta arrays for `n` elements whose channels follow `layout`, starting at
// channel `first_channel` (planar: the plane's channel).
template <class T>
void FillBetas(const Layout& layout, const T* betas, int num_betas, int64_t n,
               int64_t first_channel, std::vector<std::vector<T>>& arrays,
               std::vector<const T*>& pointers) {
  arrays.resize(num_betas);
  pointers.resize(num_betas);
  for (int k = 0; k < num_betas; ++k) {
    arrays[k].resize(n);
    const T* row = betas + k * layout.channels;
    if (layout.plane > 0) {
      std::fill(arrays[k].begin(), arrays[k].end(), row[first_channel]);
    } else {
      for (int64_t i = 0; i < n; ++i) arrays[k][i] = row[i % layout.channels];
    }
    pointers[k] = arrays[k].data();
  }
}

// Sum in kLanes independent partial sums, which the compiler keeps in one vector register:
// a plain running sum would be a serial chain of scalar additions.
template <class T>
double Sum(const T* values, int64_t n) {
  constexpr int kLanes = 16;
  T partial[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) partial[lane] += values[i + lane];
  }
  double total = 0;
  for (; i < n; ++i) total += values[i];
  for (int lane = 0; lane < kLanes; ++lane) total += partial[lane];
  return total;
}

// row[c] += the sum of values[r * channels + c] over the rows r of an interleaved block
// (n is a whole number of rows): one contiguous, vectorisable pass per row.
template <class T>
void AddRowsPerChannel(const T* values, int64_t n, int64_t channels, double* row) {
  thread_local std::vector<T> sums;
  sums.assign(channels, T(0));
  T* __restrict s = sums.data();
  for (int64_t start = 0; start < n; start += channels) {
    const T* __restrict v = values + start;
    for (int64_t c = 0; c < channels; ++c) s[c] += v[c];
  }
  for (int64_t c = 0; c < channels; ++c) row[c] += s[c];
}

template <class T>
void Forward(const Program& program, const Layout& layout, const T* x, const T* betas, T* y,
             int64_t numel) {
  const int num_betas = program.num_betas();
  if (layout.plane > 0) {
    const int64_t planes = numel / layout.plane;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      std::vector<std::vector<T>> arrays;
      std::vector<const T*> pointers;
      for (int64_t p = begin; p < end; ++p) {
        FillBetas(layout, betas, num_betas, layout.plane, p % layout.channels, arrays, pointers);
        const int64_t offset = p * layout.plane;
        program.Forward<T>(layout.plane, x + offset, pointers.data(), y + offset);
      }
    });
    return;
  }
  const int64_t block = std::max<int64_t>(1, kBlockTarget / layout.channels) * layout.channels;
  const int64_t blocks = (numel + block - 1) / block;
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<std::vector<T>> arrays;
    std::vector<const T*> pointers;
    FillBetas(layout, betas, num_betas, block, 0, arrays, pointers);
    for (int64_t b = begin; b < end; ++b) {
      const int64_t offset = b * block;
      program.Forward<T>(std::min(block, numel - offset), x + offset, pointers.data(), y + offset);
    }
  });
}

template <class T>
void Backward(const Program& program, const Layout& layout, const T* x, const T* betas,
              const T* grad_y, T* grad_x, double* grad_betas, int64_t numel) {
  const int num_betas = program.num_betas();
  const int64_t channels = layout.channels;
  // Each parallel range's partial sums, added up in range order afterwards: the same
  // result whichever thread finishes first, so that seeded runs repeat bit for bit.
  std::mutex merge;
  std::map<int64_t, std::vector<double>> partials;
  const int64_t block =
      layout.plane > 0 ? layout.plane : std::max<int64_t>(1, kBlockTarget / channels) * channels;
  const int64_t blocks = (numel + block - 1) / block;
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<std::vector<T>> arrays;
    std::vector<const T*> pointers;
    std::vector<std::vector<T>> beta_grad(num_betas, std::vector<T>(block));
    std::vector<T*> beta_grad_pointers(num_betas);
    for (int k = 0; k < num_betas; ++k) beta_grad_pointers[k] = beta_grad[k].data();
    std::vector<double> partial(static_cast<size_t>(num_betas) * channels, 0.0);
    if (layout.plane == 0) FillBetas(layout, betas, num_betas, block, 0, arrays, pointers);
    for (int64_t b = begin; b < end; ++b) {
      const int64_t offset = b * block;
      const int64_t n = std::min(block, numel - offset);
      const int64_t channel = b % channels;  // planar only
      if (layout.plane > 0) FillBetas(layout, betas, num_betas, n, channel, arrays, pointers);
      program.Backward<T>(n, x + offset, pointers.data(), grad_y + offset, grad_x + offset,
                          beta_grad_pointers.data());
      for (int k = 0; k < num_betas; ++k) {
        double* row = partial.data() + k * channels;
        const T* g = beta_grad[k].data();
        if (layout.plane > 0) {
          row[channel] += Sum(g, n);
        } else {
          AddRowsPerChannel(g, n, channels, row);
        }
      }
    }
    if (num_betas > 0) {
      std::lock_guard<std::mutex> lock(merge);
      partials.emplace(begin, std::move(partial));
    }
  });
  for (const auto& [begin, partial] : partials) {
    for (size_t i = 0; i < partial.size(); ++i) grad_betas[i] += partial[i];
  }
}

}  // namespace

bool CpuKernelSupports(const torch::Tensor& x) {
  const bool dense = x.is_contiguous() || compat::IsChannelsLast(x);
  const bool real = x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble;
  return x.device().is_cpu() && real && x.dim() >= 2 && dense && x.numel() > 0;
}

torch::Tensor FusedForwardCpu(const Program& program, const torch::Tensor& x,
                              const torch::Tensor& betas) {
  TORCH_CHECK(CpuKernelSupports(x), "the fused CPU kernel does not support this tensor");
  torch::Tensor y = torch::empty_like(x, FormatOf(x));
  const torch::Tensor b = betas.to(x.scalar_type()).contiguous();
  const Layout layout = LayoutOf(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "actsearch_fused_forward", [&] {
    Forward<scalar_t>(program, layout, x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                      y.data_ptr<scalar_t>(), x.numel());
  });
  return y;
}

FusedGradients FusedBackwardCpu(const Program& program, const torch::Tensor& x,
                                const torch::Tensor& betas, const torch::Tensor& grad_y) {
  TORCH_CHECK(CpuKernelSupports(x), "the fused CPU kernel does not support this tensor");
  const torch::Tensor gy = grad_y.to(x.scalar_type()).contiguous(FormatOf(x));
  torch::Tensor grad_x = torch::empty_like(x, FormatOf(x));
  torch::Tensor grad_betas = torch::zeros(betas.sizes(), torch::kDouble);
  const torch::Tensor b = betas.to(x.scalar_type()).contiguous();
  const Layout layout = LayoutOf(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "actsearch_fused_backward", [&] {
    Backward<scalar_t>(program, layout, x.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                       gy.data_ptr<scalar_t>(), grad_x.data_ptr<scalar_t>(),
                       grad_betas.data_ptr<double>(), x.numel());
  });
  return {grad_x, grad_betas.to(betas.scalar_type())};
}

}  // namespace actsearch
