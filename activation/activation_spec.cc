#include "activation/activation_spec.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "activation/expression_activation.h"
#include "search_space/parser.h"
#include "search_space/printer.h"

namespace actsearch {
namespace {

// A colon-separated part of the spec, trimmed, with its offset in the whole text.
struct Segment {
  std::string_view text;
  size_t position;
};

Segment Trim(std::string_view text, size_t position) {
  size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  size_t end = text.size();
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return {text.substr(begin, end - begin), position + begin};
}

std::vector<Segment> SplitOnColons(std::string_view text) {
  std::vector<Segment> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    const size_t end = colon == std::string_view::npos ? text.size() : colon;
    parts.push_back(Trim(text.substr(start, end - start), start));
    if (colon == std::string_view::npos) return parts;
    start = colon + 1;
  }
}

class SpecParser {
 public:
  explicit SpecParser(std::string_view text) : text_(text) {}

  ActivationSpec Parse() {
    const Segment whole = Trim(text_, 0);
    if (whole.text.empty()) {
      Fail(whole.position,
           "expected an activation: relu, swish, an expression, sugar:<surrogate> or pwlu");
    }
    ActivationSpec spec;
    if (whole.text.find(':') == std::string_view::npos) {
      if (whole.text == "relu") return spec;
      if (whole.text == "swish") {
        spec.expression = actsearch::Parse(kSwishExpression);
        spec.kind = ActivationSpec::Kind::kExpression;
        return spec;
      }
      if (whole.text == "pwlu") {
        spec.kind = ActivationSpec::Kind::kPwlu;
        return spec;
      }
      if (whole.text == "sugar") {
        Fail(whole.position + whole.text.size(), "expected ':' and a surrogate after 'sugar'");
      }
      spec.expression = ParseExpression({text_, 0});
      spec.kind = ToString(spec.expression) == "relu(x)" ? ActivationSpec::Kind::kRelu
                                                         : ActivationSpec::Kind::kExpression;
      return spec;
    }
    const std::vector<Segment> parts = SplitOnColons(text_);
    if (parts[0].text == "sugar") return ParseSugar(parts);
    if (parts[0].text == "pwlu") return ParsePwlu(parts);
    Fail(parts[0].position,
         "expected 'sugar' or 'pwlu' before ':' (an expression never contains ':'), found '" +
             std::string(parts[0].text) + "'");
  }

 private:
  ActivationSpec ParseSugar(const std::vector<Segment>& parts) {
    ActivationSpec spec;
    spec.kind = ActivationSpec::Kind::kSugar;
    spec.surrogate = ParseSurrogate(parts[1]);
    std::set<std::string> seen;
    for (size_t k = 2; k < parts.size(); ++k) {
      const Segment& part = parts[k];
      const auto [key, value] = SplitOption(part);
      NoRepeat(seen, key);
      if (key.text == "neg" && !value) {
        spec.variant = SugarVariant::kNegativeOnly;
      } else if (key.text == "alpha" && value) {
        if (!spec.surrogate.HasAlpha()) {
          Fail(key.position, spec.surrogate.Name() + " has no alpha");
        }
        spec.surrogate.alpha = ParseNumber(*value);
      } else {
        Fail(part.position, "expected a SUGAR option: neg or alpha=<number>, found '" +
                                std::string(part.text) + "'");
      }
    }
    return spec;
  }

  Surrogate ParseSurrogate(const Segment& part) {
    const std::string_view name = part.text;
    if (name == "bsilu") return Surrogate::BSilu();
    if (name == "nelu") return Surrogate::Nelu();
    if (name == "elu") return Surrogate::Elu();
    if (name == "selu") return Surrogate::Selu();
    if (name == "gelu") return Surrogate::Gelu();
    if (name == "silu") return Surrogate::Silu();
    if (name == "mish") return Surrogate::Mish();
    if (name == "leaky_relu") return Surrogate::LeakyRelu();
    const auto [key, value] = SplitOption(part);
    if (key.text == "expr" && value) return Surrogate::FromExpression(ParseExpression(*value));
    Fail(part.position,
         "expected a surrogate: bsilu, nelu, elu, selu, gelu, silu, mish, leaky_relu or "
         "expr=<expression>, found '" +
             std::string(name) + "'");
  }

  ActivationSpec ParsePwlu(const std::vector<Segment>& parts) {
    ActivationSpec spec;
    spec.kind = ActivationSpec::Kind::kPwlu;
    std::set<std::string> seen;
    for (size_t k = 1; k < parts.size(); ++k) {
      const Segment& part = parts[k];
      const auto [key, value] = SplitOption(part);
      // layer and channel are one choice: naming both is a repeat.
      const bool granularity = (key.text == "layer" || key.text == "channel") && !value;
      NoRepeat(seen, granularity ? Segment{"layer or channel", key.position} : key);
      if (granularity) {
        spec.pwlu.per_channel(key.text == "channel");
      } else if (key.text == "intervals" && value) {
        spec.pwlu.intervals(ParseInteger(*value, 1));
      } else if (key.text == "warmup" && value) {
        spec.pwlu.warmup_steps(ParseInteger(*value, 0));
      } else if (key.text == "init" && value) {
        const Expr init = value->text == "relu" ? nullptr : ParseExpression(*value);
        spec.pwlu.init(init && ToString(init) == "relu(x)" ? nullptr : init);
      } else {
        Fail(part.position,
             "expected a PWLU option: layer, channel, intervals=<n>, warmup=<steps> or "
             "init=<expression>, found '" +
                 std::string(part.text) + "'");
      }
    }
    return spec;
  }

  // "key=value" -> (key, value); "word" -> (word, none).
  std::pair<Segment, std::optional<Segment>> SplitOption(const Segment& part) {
    const size_t equals = part.text.find('=');
    if (equals == std::string_view::npos) return {part, std::nullopt};
    const Segment key = Trim(part.text.substr(0, equals), part.position);
    const Segment value = Trim(part.text.substr(equals + 1), part.position + equals + 1);
    if (value.text.empty()) Fail(value.position, "expected a value after '='");
    return {key, value};
  }

  void NoRepeat(std::set<std::string>& seen, const Segment& key) {
    if (!seen.insert(std::string(key.text)).second) {
      Fail(key.position, "option " + std::string(key.text) + " given twice");
    }
  }

  Expr ParseExpression(const Segment& part) {
    try {
      return actsearch::Parse(part.text);
    } catch (const ParseError& e) {
      Fail(part.position + e.position(), e.detail());
    }
  }

  double ParseNumber(const Segment& value) {
    const std::string s(value.text);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) {
      Fail(value.position, "expected a number, found '" + s + "'");
    }
    return v;
  }

  int64_t ParseInteger(const Segment& value, int64_t minimum) {
    const std::string s(value.text);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size() || errno != 0 || v < minimum) {
      Fail(value.position,
           "expected a whole number >= " + std::to_string(minimum) + ", found '" + s + "'");
    }
    return v;
  }

  [[noreturn]] void Fail(size_t position, const std::string& message) {
    throw ParseError(std::string(text_), position, message);
  }

  std::string_view text_;
};

}  // namespace

ActivationSpec ParseActivationSpec(std::string_view text) { return SpecParser(text).Parse(); }

torch::nn::AnyModule MakeActivation(const ActivationSpec& spec, int64_t channels,
                                    bool relu_in_place) {
  switch (spec.kind) {
    case ActivationSpec::Kind::kRelu:
      return torch::nn::AnyModule(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(relu_in_place)));
    case ActivationSpec::Kind::kExpression:
      return torch::nn::AnyModule(
          ExpressionActivation(ExpressionActivationOptions(spec.expression, channels)));
    case ActivationSpec::Kind::kSugar:
      return torch::nn::AnyModule(Sugar(SugarOptions(spec.surrogate).variant(spec.variant)));
    case ActivationSpec::Kind::kPwlu: {
      PwluOptions options = spec.pwlu;
      options.channels(channels);
      return torch::nn::AnyModule(Pwlu(options));
    }
  }
  TORCH_CHECK(false, "unknown activation kind");
}

}  // namespace actsearch
