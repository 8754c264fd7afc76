#include "activation/activation_spec.h"

#include <gtest/gtest.h>

#include "activation/expression_activation.h"
#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

using Kind = ActivationSpec::Kind;

TEST(ActivationSpec, ReadsReluAndExpressions) {
  EXPECT_EQ(ParseActivationSpec("relu").kind, Kind::kRelu);
  EXPECT_EQ(ParseActivationSpec("  relu ").kind, Kind::kRelu);
  EXPECT_EQ(ParseActivationSpec("relu(x)").kind, Kind::kRelu) << "the same function";
  const ActivationSpec swish = ParseActivationSpec("x * sigmoid(beta * x)");
  EXPECT_EQ(swish.kind, Kind::kExpression);
  EXPECT_TRUE(Equal(swish.expression, Parse("x * sigmoid(beta * x)")));
}

TEST(ActivationSpec, ReadsEverySurrogateAndTheSugarOptions) {
  const std::vector<std::pair<std::string, SurrogateKind>> names = {
      {"bsilu", SurrogateKind::kBSilu}, {"nelu", SurrogateKind::kNelu},
      {"elu", SurrogateKind::kElu},     {"selu", SurrogateKind::kSelu},
      {"gelu", SurrogateKind::kGelu},   {"silu", SurrogateKind::kSilu},
      {"mish", SurrogateKind::kMish},   {"leaky_relu", SurrogateKind::kLeakyRelu}};
  for (const auto& [name, kind] : names) {
    const ActivationSpec spec = ParseActivationSpec("sugar:" + name);
    EXPECT_EQ(spec.kind, Kind::kSugar) << name;
    EXPECT_EQ(spec.surrogate.kind, kind) << name;
    EXPECT_EQ(spec.surrogate.Name(), name);
    EXPECT_EQ(spec.variant, SugarVariant::kEverywhere) << name;
  }
  EXPECT_EQ(ParseActivationSpec("sugar:bsilu").surrogate.alpha, 1.67);
  EXPECT_EQ(ParseActivationSpec("sugar:nelu").surrogate.alpha, 0.1);
  const ActivationSpec nelu = ParseActivationSpec("sugar:nelu:alpha=0.05:neg");
  EXPECT_EQ(nelu.surrogate.alpha, 0.05);
  EXPECT_EQ(nelu.variant, SugarVariant::kNegativeOnly);
  const ActivationSpec spaced = ParseActivationSpec(" sugar : leaky_relu : neg : alpha = 0.2 ");
  EXPECT_EQ(spaced.surrogate.kind, SurrogateKind::kLeakyRelu);
  EXPECT_EQ(spaced.surrogate.alpha, 0.2);
  EXPECT_EQ(spaced.variant, SugarVariant::kNegativeOnly);
  const ActivationSpec expr = ParseActivationSpec("sugar:expr=x * sigmoid(beta * x):neg");
  EXPECT_EQ(expr.surrogate.kind, SurrogateKind::kExpression);
  EXPECT_EQ(expr.surrogate.Name(), "x * sigmoid(beta * x)");
  EXPECT_EQ(expr.variant, SugarVariant::kNegativeOnly);
}

TEST(ActivationSpec, ReadsThePwluOptions) {
  const ActivationSpec plain = ParseActivationSpec("pwlu");
  EXPECT_EQ(plain.kind, Kind::kPwlu);
  EXPECT_TRUE(plain.pwlu.per_channel());
  EXPECT_EQ(plain.pwlu.intervals(), 16);
  EXPECT_EQ(plain.pwlu.warmup_steps(), 100);
  EXPECT_EQ(plain.pwlu.init(), nullptr);
  EXPECT_FALSE(ParseActivationSpec("pwlu:layer").pwlu.per_channel());
  EXPECT_TRUE(ParseActivationSpec("pwlu:channel").pwlu.per_channel());
  const ActivationSpec tuned = ParseActivationSpec("pwlu:intervals=8:warmup=1760");
  EXPECT_EQ(tuned.pwlu.intervals(), 8);
  EXPECT_EQ(tuned.pwlu.warmup_steps(), 1760);
  const ActivationSpec swish = ParseActivationSpec("pwlu:init=x * sigmoid(beta * x):layer");
  ASSERT_NE(swish.pwlu.init(), nullptr);
  EXPECT_EQ(ToString(swish.pwlu.init()), "x * sigmoid(beta * x)");
  EXPECT_FALSE(swish.pwlu.per_channel());
  EXPECT_EQ(ParseActivationSpec("pwlu:init=relu").pwlu.init(), nullptr);
  EXPECT_EQ(ParseActivationSpec("pwlu:init=relu(x)").pwlu.init(), nullptr);
}

// The position an error reports and a piece of its message.
struct BadSpec {
  std::string text;
  size_t position;
  std::string says;
};

TEST(ActivationSpec, ErrorsSayWhereAndWhatWasExpected) {
  // Where Parse itself fails inside "x * sigmoid(beta x)".
  size_t inner = 0;
  try {
    Parse("x * sigmoid(beta x)");
    FAIL() << "the expression should not parse";
  } catch (const ParseError& e) {
    inner = e.position();
  }
  const std::vector<BadSpec> cases = {
      {"", 0, "expected an activation"},
      {"   ", 3, "expected an activation"},
      {"sugar", 5, "expected ':' and a surrogate"},
      {"sugar:", 6, "expected a surrogate"},
      {"sugar:swishy", 6, "expected a surrogate"},
      {"sugar:bsilu:fast", 12, "expected a SUGAR option"},
      {"sugar:selu:alpha=1", 11, "selu has no alpha"},
      {"sugar:bsilu:alpha=big", 18, "expected a number"},
      {"sugar:bsilu:alpha=", 18, "expected a value after '='"},
      {"sugar:bsilu:neg:neg", 16, "given twice"},
      {"sugar:expr=x * sigmoid(beta x)", 11 + inner, ""},
      {"pwlu:intervals=0", 15, "whole number >= 1"},
      {"pwlu:warmup=-3", 12, "whole number >= 0"},
      {"pwlu:warmup=2.5", 12, "whole number"},
      {"pwlu:layer:channel", 11, "given twice"},
      {"pwlu:squares", 5, "expected a PWLU option"},
      {"pwlu:init=x * sigmoid(beta x)", 10 + inner, ""},
      {"swish:x", 0, "expected 'sugar' or 'pwlu'"},
      {"x * sigmoid(beta x)", inner, ""},
  };
  for (const BadSpec& c : cases) {
    try {
      ParseActivationSpec(c.text);
      ADD_FAILURE() << "'" << c.text << "' should not parse";
    } catch (const ParseError& e) {
      EXPECT_EQ(e.position(), c.position) << c.text << ": " << e.what();
      EXPECT_NE(std::string(e.detail()).find(c.says), std::string::npos)
          << c.text << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.text), std::string::npos) << "quotes the spec";
    }
  }
}

TEST(ActivationSpec, MakesAFreshModuleOfTheRightKindPerLayer) {
  const torch::Tensor x = torch::randn({2, 4, 3, 3});

  torch::nn::AnyModule relu = MakeActivation(ParseActivationSpec("relu"), 4);
  ASSERT_NE(relu.ptr()->as<torch::nn::ReLU>(), nullptr);
  EXPECT_FALSE(relu.ptr()->as<torch::nn::ReLU>()->options.inplace());
  EXPECT_TRUE(MakeActivation(ParseActivationSpec("relu"), 4, /*relu_in_place=*/true)
                  .ptr()
                  ->as<torch::nn::ReLU>()
                  ->options.inplace());

  torch::nn::AnyModule swish = MakeActivation(ParseActivationSpec("x * sigmoid(beta * x)"), 4);
  ASSERT_NE(swish.ptr()->as<ExpressionActivation>(), nullptr);
  EXPECT_EQ(swish.ptr()->as<ExpressionActivation>()->betas().sizes(), (std::vector<int64_t>{1, 4}));

  torch::nn::AnyModule sugar = MakeActivation(ParseActivationSpec("sugar:bsilu:neg"), 4);
  ASSERT_NE(sugar.ptr()->as<Sugar>(), nullptr);
  EXPECT_EQ(sugar.ptr()->as<Sugar>()->options().variant(), SugarVariant::kNegativeOnly);
  EXPECT_TRUE(torch::equal(sugar.forward(x), x.relu()));

  const ActivationSpec pwlu_spec = ParseActivationSpec("pwlu:intervals=8");
  torch::nn::AnyModule pwlu = MakeActivation(pwlu_spec, 4);
  torch::nn::AnyModule other = MakeActivation(pwlu_spec, 4);
  ASSERT_NE(pwlu.ptr()->as<Pwlu>(), nullptr);
  EXPECT_EQ(pwlu.ptr()->as<Pwlu>()->tables().points.sizes(), (std::vector<int64_t>{4, 9}));
  EXPECT_NE(pwlu.ptr()->as<Pwlu>()->tables().points.data_ptr(),
            other.ptr()->as<Pwlu>()->tables().points.data_ptr())
      << "each layer its own parameters";
  torch::nn::AnyModule per_layer = MakeActivation(ParseActivationSpec("pwlu:layer"), 4);
  EXPECT_EQ(per_layer.ptr()->as<Pwlu>()->tables().points.sizes(), (std::vector<int64_t>{1, 17}));
  EXPECT_EQ(per_layer.forward(x).sizes(), x.sizes());
}

}  // namespace
}  // namespace actsearch
