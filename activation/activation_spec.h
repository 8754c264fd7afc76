// The one textual form of an activation that every model layer is built from:
//
//   relu                                 LibTorch's ReLU
//   swish                                x * sigmoid(beta * x), the paper's winner
//   x * sigmoid(beta * x)                any expression of the grammar (docs/search-space.md)
//   sugar:bsilu                          ReLU forward, surrogate gradient (docs/reevaluation.md)
//   sugar:nelu:alpha=0.05:neg            ... options after further colons
//   sugar:expr=x * sigmoid(beta * x)     ... the surrogate from an expression
//   pwlu   pwlu:layer   pwlu:intervals=8:warmup=1760   pwlu:init=x * sigmoid(beta * x)
//
// A mode is a word followed by ':'. The expression grammar has no ':', so text with a colon is
// never an expression, and `sugar`, `pwlu` are not operator names.
//
// Surrogates: bsilu, nelu, elu, selu, gelu, silu, mish, leaky_relu, expr=<expression>.
// SUGAR options: neg (surrogate for x <= 0 only; default: everywhere), alpha=<number> (bsilu,
// nelu, elu, leaky_relu). PWLU options: layer | channel (default), intervals=<n> (16),
// warmup=<steps> (100), init=<expression> (default relu).
#pragma once

#include <torch/torch.h>

#include <string_view>

#include "activation/pwlu.h"
#include "activation/sugar.h"
#include "search_space/expr.h"

namespace actsearch {

inline constexpr const char* kSwishExpression = "x * sigmoid(beta * x)";

struct ActivationSpec {
  enum class Kind { kRelu, kExpression, kSugar, kPwlu };
  Kind kind = Kind::kRelu;
  Expr expression;                                   // kExpression
  Surrogate surrogate;                               // kSugar
  SugarVariant variant = SugarVariant::kEverywhere;  // kSugar
  PwluOptions pwlu{1};  // kPwlu; its channel count is the layer's, set by MakeActivation
};

// Throws ParseError (search_space/parser.h) with the position in `text` and what was expected
// there; errors inside an embedded expression point into `text` too. An expression that
// prints as `relu(x)` reads as relu.
ActivationSpec ParseActivationSpec(std::string_view text);

// The activation for a layer of `channels` channels: a fresh module with its own parameters.
// relu_in_place: make ReLU in place, for callers whose layer input is not read again.
torch::nn::AnyModule MakeActivation(const ActivationSpec& spec, int64_t channels,
                                    bool relu_in_place = false);

}  // namespace actsearch
