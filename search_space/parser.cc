#include "search_space/parser.h"

#include <cctype>
#include <optional>

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

  Expr ParseAll() {
    if (token_.kind == Token::kEnd) Fail("expected an expression, found the end of the input");
    Expr e = ParseSum();
    if (token_.kind != Token::kEnd) Fail("expected an operator or the end, found " + Describe());
    return e;
  }

 private:
  // Each nesting (a parenthesis, a call, a unary minus) recurses: deep input would overflow
  // the stack, here and in every walk of the tree after it.
  class Nesting {
   public:
    explicit Nesting(Parser& parser) : parser_(parser) {
      if (++parser_.depth_ > kMaxExpressionDepth) {
        parser_.Fail("the expression nests deeper than " + std::to_string(kMaxExpressionDepth) +
                     " levels");
      }
    }
    ~Nesting() { --parser_.depth_; }

   private:
    Parser& parser_;
  };

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

  // primary := 'x' | 'beta' | '(' sum ')' | name '(' arguments ')'
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
    if (!IsSymbol("(")) {
      Fail(name.position, "unknown name '" + std::string(name.text) +
                              "': the variables are x and beta, functions take '('");
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

  [[noreturn]] void Fail(const std::string& message) const { Fail(token_.position, message); }
  [[noreturn]] void Fail(size_t position, const std::string& message) const {
    throw ParseError(std::string(text_), position, message);
  }

  std::string_view text_;
  Lexer lexer_;
  Token token_{};
  int depth_ = 0;
};

}  // namespace

ParseError::ParseError(std::string text, size_t position, std::string message)
    : std::runtime_error(FormatError(text, position, message)),
      position_(position),
      detail_(std::move(message)) {}

Expr Parse(std::string_view text) { return Parser(text).ParseAll(); }

}  // namespace actsearch
