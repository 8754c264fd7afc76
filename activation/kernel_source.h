// CUDA source for one candidate's fused kernels, generated at trial start.
//
// The source is one translation unit:
// - the element functions `act_value(x, beta)` and `act_gradient(x, beta, gy, gbeta)`: the
//   candidate's value graph (search_space/value_graph.h) unrolled into scalar code, each value
//   once, its backward pass in reverse with adjoints in registers. Every operator's formula is
//   the text of search_space/op_formulas.h, the one the CPU evaluator is compiled from;
// - under a CUDA compiler (NVRTC), the kernels around them: forward and backward, NCHW and
//   channels-last, float or bf16 input with float math, and the beta gradients reduced per
//   channel without atomics: each block sums its elements' contributions in registers and
//   shared memory and writes one partial sum per beta and channel, which the launcher adds up;
// - SUGAR's surrogate backward is generated the same way (GenerateSurrogateSource);
// - under a host compiler, C entry points to the element functions, so that the very same
//   code is checked against the CPU evaluator without a GPU (activation/kernel_source_test.cc).
#pragma once

#include <string>

#include "activation/surrogate_kernels.h"
#include "search_space/expr.h"

namespace actsearch {

struct KernelSource {
  std::string text;
  int num_betas = 0;
  std::string key;  // a hash of the text: what compiled kernels are cached by
};

KernelSource GenerateKernelSource(const Expr& e);

// SUGAR's surrogate backward: grad_x = grad_y * f'(x) for the named surrogate `kind` with
// parameter `alpha`, or for kind kExpression the derivative of `expression` at its initial
// betas (constants: see activation/sugar.h). The forward pass is ReLU and needs no kernel.
KernelSource GenerateSurrogateSource(SurrogateKind kind, double alpha, const Expr& expression);

// PWLU with N = `intervals` (activation/pwlu.h): not per candidate, but compiled and cached
// the same way. Its backward needs PwluRecordStride(intervals) floats of shared memory per
// thread.
KernelSource GeneratePwluSource(int intervals);
int PwluRecordStride(int intervals);

// The entry points of the generated source, for the launcher (and tests).
inline constexpr const char* kForwardKernelF32 = "act_forward_f32";
inline constexpr const char* kForwardKernelBf16 = "act_forward_bf16";
inline constexpr const char* kBackwardKernelF32 = "act_backward_f32";
inline constexpr const char* kBackwardKernelBf16 = "act_backward_bf16";
inline constexpr const char* kHostValue = "act_host_value";
inline constexpr const char* kHostGradient = "act_host_gradient";
inline constexpr const char* kSurrogateKernelF32 = "sugar_backward_f32";
inline constexpr const char* kSurrogateKernelBf16 = "sugar_backward_bf16";
inline constexpr const char* kSurrogateHostGradient = "sugar_host_gradient";
inline constexpr const char* kPwluForwardF32 = "pwlu_forward_f32";
inline constexpr const char* kPwluForwardBf16 = "pwlu_forward_bf16";
inline constexpr const char* kPwluBackwardF32 = "pwlu_backward_f32";
inline constexpr const char* kPwluBackwardBf16 = "pwlu_backward_bf16";
inline constexpr const char* kPwluHostValue = "pwlu_host_value";
inline constexpr const char* kPwluHostGradient = "pwlu_host_gradient";

}  // namespace actsearch
