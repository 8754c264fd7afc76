#include "search_space/parser.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "search_space/suggest.h"

namespace actsearch {
namespace {

std::string FormatError(const std::string& text, size_t position, const std::string& message) {
  return "column " + std::to_string(position + 1) + ": " + message + "\n  " + text + "\n  " +
         std::string(position, ' ') + "^";
}

struct Token {
  enum Kind { kName, kNumber, kSymbol, kEnd } kind;
  std::string_view text;
  size_t position;
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token Next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    const size_t start = pos_;
    if (pos_ == text_.size()) return {Token::kEnd, {}, start};
    const unsigned char c = text_[pos_];
    if (std::isalpha(c) || c == '_') {
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      return {Token::kName, text_.substr(start, pos_ - start), start};
    }
    if (std::isdigit(c) || c == '.') {
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
        ++pos_;
      }
      return {Token::kNumber, text_.substr(start, pos_ - start), start};
    }
    ++pos_;
    return {Token::kSymbol, text_.substr(start, 1), start};
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text) { Advance(); }

  // input := (name '=' sum ';')* sum
  Expr ParseAll() {
    while (token_.kind == Token::kName && PeekIsSymbol("=")) ParseDefinition();
    if (token_.kind == Token::kEnd) Fail("expected an expression, found the end of the input");
    Expr e = ParseSum();
    if (token_.kind != Token::kEnd) Fail("expected an operator or the end, found " + Describe());
    for (const Definition& d : definitions_) {
      if (!d.used) Fail(d.position, "'" + d.name + "' is defined but never used");
    }
    return e;
  }

 private:
  // Each nesting (a parenthesis, a call, a unary minus) recurses: deep input would overflow
  // the stack, here and in every walk of the tree after it.
  class Nesting {
   public:
    explicit Nesting(Parser& parser) : parser_(parser) { parser_.Reach(++parser_.depth_); }
    ~Nesting() { --parser_.depth_; }

   private:
    Parser& parser_;
  };

  // A named value: `u1 = x + beta;`. Every use of the name reads this one value, with its betas.
  struct Definition {
    std::string name;
    size_t position;
    Expr value;
    int depth;  // how deep the value nests, names it reads included
    bool used = false;
  };

  void ParseDefinition() {
    const Token name = token_;
    const std::string text(name.text);
    if (text == "x" || text == "beta" || IsFunctionName(text)) {
      Fail(name.position, "'" + text + "' is taken by the grammar; name a value u1, u2, ...");
    }
    if (FindDefinition(text)) Fail(name.position, "'" + text + "' is already defined");
    Advance();  // the name
    Advance();  // '='
    const size_t start = token_.position;
    deepest_ = 0;
    Expr value = ParseSum();
    if (value->op == OpId::kBeta) {
      Fail(start, "a name stands for a computed value; a lone beta is one already");
    }
    Expect(";", "after the definition of '" + text + "'");
    definitions_.push_back({text, name.position, std::move(value), deepest_});
  }

  Definition* FindDefinition(const std::string& name) {
    for (Definition& d : definitions_) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  static bool IsFunctionName(const std::string& name) {
    const std::optional<OpId> op = OpByName(Canonical(name));
    return (op && Info(*op).arity > 0) || name == "log" || name == "max" || name == "min";
  }

  // Records that the expression reaches `depth` levels, and refuses what nests too deeply.
  void Reach(int depth) {
    if (depth > kMaxExpressionDepth) {
      Fail("the expression nests deeper than " + std::to_string(kMaxExpressionDepth) + " levels");
    }
    deepest_ = std::max(deepest_, depth);
  }

  // sum := term (('+' | '-') term)*
  Expr ParseSum() {
    const Nesting nesting(*this);
    Expr e = ParseTerm();
    while (IsSymbol("+") || IsSymbol("-")) {
      const OpId op = IsSymbol("+") ? OpId::kAdd : OpId::kSub;
      Advance();
      e = MakeBinary(op, e, ParseTerm());
    }
    return e;
  }

  // term := '-' term | product
  Expr ParseTerm() {
    const Nesting nesting(*this);
    if (IsSymbol("-")) {
      Advance();
      return MakeUnary(OpId::kNeg, ParseTerm());
    }
    return ParseProduct();
  }

  // product := power (('*' | '/') power)*
  Expr ParseProduct() {
    Expr e = ParsePower();
    while (IsSymbol("*") || IsSymbol("/")) {
      const OpId op = IsSymbol("*") ? OpId::kMul : OpId::kDiv;
      Advance();
      if (IsSymbol("-")) Fail("expected an operand after '*' or '/'; write (-a) for a negation");
      e = MakeBinary(op, e, ParsePower());
    }
    return e;
  }

  // power := primary ('^' ('2' | '3'))?
  Expr ParsePower() {
    Expr e = ParsePrimary();
    if (!IsSymbol("^")) return e;
    Advance();
    if (token_.kind == Token::kNumber && token_.text == "2") {
      Advance();
      return MakeUnary(OpId::kSquare, e);
    }
    if (token_.kind == Token::kNumber && token_.text == "3") {
      Advance();
      return MakeUnary(OpId::kCube, e);
    }
    Fail("expected the exponent 2 or 3 after '^' (the grammar has x^2 and x^3 only), found " +
         Describe());
  }

  // primary := 'x' | 'beta' | defined name | '(' sum ')' | function '(' arguments ')'
  Expr ParsePrimary() {
    if (IsSymbol("(")) {
      Advance();
      Expr e = ParseSum();
      Expect(")", "to close the parenthesis");
      return e;
    }
    if (token_.kind == Token::kNumber) {
      Fail(
          "numbers are not part of the grammar (only 0 as an argument of max or min, and the "
          "exponents 2 and 3); found " +
          Describe());
    }
    if (token_.kind != Token::kName) {
      Fail("expected x, beta, a function or '(', found " + Describe());
    }
    const Token name = token_;
    Advance();
    if (name.text == "x") return MakeInput();
    if (name.text == "beta") return MakeBeta();
    if (Definition* d = FindDefinition(std::string(name.text))) {
      Reach(depth_ + d->depth);
      d->used = true;
      return d->value;
    }
    if (!IsSymbol("(")) {
      Fail(name.position, "unknown name '" + std::string(name.text) +
                              "': the variables are x, beta and names defined before "
                              "(u1 = ...;), functions take '('");
    }
    return ParseCall(name);
  }

  Expr ParseCall(const Token& name) {
    Advance();  // '('
    const std::string fn = Canonical(name.text);
    if (fn == "log") return ParseLog();
    if (fn == "max" || fn == "min") return ParseMaxMin(fn == "max");
    const std::optional<OpId> op = OpByName(fn);
    if (!op || Info(*op).arity == 0) {
      std::vector<std::string> functions = {"log", "max", "min"};
      for (const std::string& op : AllOperatorNames()) {
        if (Info(*OpByName(op)).arity > 0) functions.push_back(op);
      }
      const std::string hint = DidYouMean(std::string(name.text), functions);
      Fail(name.position, "unknown function '" + std::string(name.text) + "'" +
                              (hint.empty() ? " (see `actsearch space ops` for the list)" : hint));
    }
    Expr a = ParseSum();
    if (Info(*op).arity == 1) {
      Expect(")", "after the argument of " + fn);
      return MakeUnary(*op, a);
    }
    Expect(",", "between the two arguments of " + fn);
    Expr b = ParseSum();
    Expect(")", "after the second argument of " + fn);
    return MakeBinary(*op, a, b);
  }

  // log(abs(E)) is the grammar's log(|E| + eps); no other logarithm exists in it.
  Expr ParseLog() {
    const size_t argument = token_.position;
    Expr a = ParseSum();
    Expect(")", "after the argument of log");
    if (a->op != OpId::kAbs) {
      Fail(argument, "the grammar's logarithm is log(|x| + eps): write log(abs(...))");
    }
    return MakeUnary(OpId::kLogAbs, a->a);
  }

  // max(a, b) and min(a, b); with a literal 0 they are the unary relu and min(x, 0).
  Expr ParseMaxMin(bool is_max) {
    const bool zero_first = IsZeroArgument();
    Expr a = zero_first ? nullptr : ParseSum();
    Expect(",", std::string("between the two arguments of ") + (is_max ? "max" : "min"));
    const bool zero_second = IsZeroArgument();
    if (zero_first && zero_second) Fail("max and min need x somewhere: found two zeros");
    Expr b = zero_second ? nullptr : ParseSum();
    Expect(")", std::string("after the second argument of ") + (is_max ? "max" : "min"));
    if (zero_first || zero_second) {
      return MakeUnary(is_max ? OpId::kRelu : OpId::kMin0, zero_first ? b : a);
    }
    return MakeBinary(is_max ? OpId::kMax : OpId::kMin, a, b);
  }

  // Consumes a lone literal 0 argument, if that is what comes next.
  bool IsZeroArgument() {
    if (token_.kind != Token::kNumber) return false;
    if (token_.text.find_first_not_of("0.") != std::string_view::npos) {
      Fail("numbers are not part of the grammar; only 0 is allowed here, found " + Describe());
    }
    Advance();
    if (!IsSymbol(",") && !IsSymbol(")")) Fail("expected ',' or ')' after 0, found " + Describe());
    return true;
  }

  static std::string Canonical(std::string_view name) {
    if (name == "arcsinh") return "asinh";
    if (name == "arctan") return "atan";
    return std::string(name);
  }

  bool IsSymbol(std::string_view symbol) const {
    return token_.kind == Token::kSymbol && token_.text == symbol;
  }

  void Expect(std::string_view symbol, const std::string& why) {
    if (!IsSymbol(symbol)) {
      Fail("expected '" + std::string(symbol) + "' " + why + ", found " + Describe());
    }
    Advance();
  }

  std::string Describe() const {
    if (token_.kind == Token::kEnd) return "the end of the input";
    return "'" + std::string(token_.text) + "'";
  }

  void Advance() { token_ = lexer_.Next(); }
  bool PeekIsSymbol(std::string_view symbol) const {
    Lexer ahead = lexer_;
    const Token next = ahead.Next();
    return next.kind == Token::kSymbol && next.text == symbol;
  }

  [[noreturn]] void Fail(const std::string& message) const { Fail(token_.position, message); }
  [[noreturn]] void Fail(size_t position, const std::string& message) const {
    throw ParseError(std::string(text_), position, message);
  }

  std::string_view text_;
  Lexer lexer_;
  Token token_{};
  int depth_ = 0;
  int deepest_ = 0;  // the deepest level reached since the current definition began
  std::vector<Definition> definitions_;
};

}  // namespace

ParseError::ParseError(std::string text, size_t position, std::string message)
    : std::runtime_error(FormatError(text, position, message)),
      position_(position),
      detail_(std::move(message)) {}

Expr Parse(std::string_view text) { return Parser(text).ParseAll(); }

}  // namespace actsearch
