// `actsearch space`: look at the search space by hand.
#include "cli/space_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/table.h"
#include "cli/usage_error.h"
#include "controller/search_config.h"
#include "search_space/dedup.h"
#include "search_space/equal_encoding.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/suggest.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

constexpr const char* kUsage = R"(usage: actsearch space <command> [options]

Looks at the search space by hand: how big it is, what it holds, and what an expression
computes.

commands:
  count     number of candidates in a space (--distinct: screened and deduplicated)
  list      candidates in enumeration order, with screening verdict and fingerprint class
  sample    uniformly random candidates
  eval      values and derivatives of an expression at given points
  encode    the token sequence of an expression in a space
  decode    the expression of a token sequence
  ops       the grammar's operators

Run `actsearch space <command> --help` for its options.

examples:
  actsearch space count --units 2
  actsearch space list --distinct --limit 20
  actsearch space eval 'x * sigmoid(beta * x)' --points -1,0,1 --beta 2
  actsearch space encode 'x * sigmoid(beta * x)'
)";

const std::vector<std::string> kCommands = {"count",  "list",   "sample", "eval",
                                            "encode", "decode", "ops"};

// Candidates walked to find a member of an expression's functional class (`encode`).
constexpr int64_t kDefaultScanLimit = 1000000;

struct SpaceFlags {
  int units = 1;  // at most 4, as in a search config
  std::string unary = "all";
  std::string binary = "all";
  std::string config;
};

void AddSpaceOptions(po::options_description& options, SpaceFlags& flags) {
  // clang-format off
  options.add_options()
      ("units", InRange(&flags.units, "--units", 1, 4)->default_value(1),
       "number of core units (1 to 4)")
      ("unary", NonEmpty(&flags.unary, "--unary")->default_value("all"),
       "unary tokens allowed, comma-separated (see `actsearch space ops`)")
      ("binary", NonEmpty(&flags.binary, "--binary")->default_value("all"),
       "binary operators allowed, comma-separated")
      ("config", po::value(&flags.config),
       "read the space from this search configuration (text protobuf) instead");
  // clang-format on
}

Space MakeSpace(const SpaceFlags& flags) {
  SpaceSpec spec;
  if (!flags.config.empty()) {
    spec = controller::SpaceSpecFromProto(controller::ReadSearchConfig(flags.config).space());
  } else {
    spec.units = flags.units;
    try {
      spec.unary = ParseUnaryList(flags.unary);
      spec.binary = ParseBinaryList(flags.binary);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  try {
    return Space(spec);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::vector<double> ParseNumbers(const std::string& text, const char* flag) {
  std::vector<double> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (item.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError(std::string(flag) + ": '" + item + "' is not a number");
    }
  }
  if (out.empty()) throw UsageError(std::string(flag) + " needs at least one number");
  return out;
}

// Candidates as rows: an aligned table streamed a line at a time (a walk can be long), or the
// other formats whole.
class CandidatePrinter {
 public:
  CandidatePrinter(const Space& space, std::string format)
      : space_(space),
        format_(std::move(format)),
        table_({"index", "fingerprint", "screen", "expression", "tokens", "reason"}) {}
  ~CandidatePrinter() {
    if (format_ != "table") std::cout << table_.Render(format_);
  }

  void Add(const Candidate& c) {
    if (format_ == "table") {
      std::printf("%12llu  %s  %-10s  %s\n", static_cast<unsigned long long>(c.index),
                  FingerprintToHex(c.fingerprint).c_str(), VerdictName(c.screen.verdict),
                  c.text.c_str());
      return;
    }
    table_.AddRow({static_cast<int64_t>(c.index), FingerprintToHex(c.fingerprint),
                   VerdictName(c.screen.verdict), c.text, space_.TokensToString(c.tokens),
                   c.screen.reason});
  }

 private:
  const Space& space_;
  std::string format_;
  Table table_;
};

int Count(const std::vector<std::string>& args) {
  SpaceFlags flags;
  bool distinct = false;
  int64_t limit = 0;
  std::string format;
  po::options_description options("count options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("distinct", po::bool_switch(&distinct), "screen and dedup every candidate, report classes")
      ("limit", AtLeast<int64_t>(&limit, "--limit", 1),
       "with --distinct: walk only the first N candidates")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space count [options]",
                    "  actsearch space count --units 2\n"
                    "  actsearch space count --units 1 --distinct --format json\n")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  if (!distinct) {
    if (format == "table") {
      std::cout << (space.size() ? std::to_string(*space.size()) : "more than 2^64") << "\n";
    } else {
      Table table({"candidates"});
      table.AddRow({space.size()
                        ? Cell(static_cast<int64_t>(std::min<uint64_t>(*space.size(), INT64_MAX)))
                        : Cell(std::monostate{})});
      std::cout << (format == "json" ? table.ToJson()[0].dump() + "\n" : table.Render(format));
    }
    return kExitOk;
  }
  if (!space.size() && limit == 0) {
    throw UsageError("the space is too large to walk whole: give --limit");
  }
  const SpaceSummary s = SummarizeSpace(space, limit > 0 ? limit : UINT64_MAX);
  if (format != "table") {
    Json screened = Json::object();
    for (const auto& [verdict, n] : s.screened) screened[verdict] = n;
    Table table({"candidates", "accepted", "distinct", "screened"});
    table.AddRow({static_cast<int64_t>(s.candidates), static_cast<int64_t>(s.accepted),
                  static_cast<int64_t>(s.distinct), JsonCell{screened}});
    std::cout << (format == "json" ? table.ToJson()[0].dump() + "\n" : table.Render(format));
    return kExitOk;
  }
  std::cout << "candidates  " << s.candidates << "\n"
            << "accepted    " << s.accepted << "\n"
            << "distinct    " << s.distinct << "  (functional classes among the accepted)\n";
  for (const auto& [verdict, n] : s.screened) {
    std::cout << "screened    " << n << "  " << verdict << "\n";
  }
  return kExitOk;
}

int List(const std::vector<std::string>& args) {
  SpaceFlags flags;
  int64_t offset = 0;
  int64_t limit = 50;
  bool distinct = false;
  std::string format;
  po::options_description options("list options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("offset", AtLeast<int64_t>(&offset, "--offset", 0)->default_value(0),
       "first index to show")
      ("limit", AtLeast<int64_t>(&limit, "--limit", 1)->default_value(50), "how many to show")
      ("distinct", po::bool_switch(&distinct),
       "only accepted candidates, the first of each functional class")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space list [options]",
                    "  actsearch space list --limit 20\n"
                    "  actsearch space list --units 2 --distinct --offset 1000 --format csv\n")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  const uint64_t size = space.size().value_or(UINT64_MAX);
  ClassSet classes;
  int64_t shown = 0;
  CandidatePrinter printer(space, format);
  // With --distinct, classes seen before the offset still count as seen.
  for (uint64_t index = distinct ? 0 : offset; index < size && shown < limit; ++index) {
    const Candidate c = AnalyzeCandidate(space, index);
    if (distinct && (!c.screen.accepted() || !classes.Insert(c.fingerprint))) continue;
    if (index < static_cast<uint64_t>(offset)) continue;
    printer.Add(c);
    ++shown;
  }
  return kExitOk;
}

int Sample(const std::vector<std::string>& args) {
  SpaceFlags flags;
  int count = 10;
  int64_t seed = 1;
  bool accepted_only = false;
  std::string format;
  po::options_description options("sample options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("count", InRange(&count, "--count", 1, 1000000)->default_value(10), "how many candidates")
      ("seed", AtLeast<int64_t>(&seed, "--seed", 0)->default_value(1), "random seed")
      ("accepted", po::bool_switch(&accepted_only), "draw again until screening accepts")
      ("format", FormatFlag(&format), "table, csv, json or jsonl");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space sample [options]",
                    "  actsearch space sample --units 2 --count 5 --accepted\n")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  if (!space.size()) throw UsageError("the space is too large to index (more than 2^64)");
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
  CandidatePrinter printer(space, format);
  for (int drawn = 0; drawn < count;) {
    const Candidate c = AnalyzeCandidate(space, pick(rng));
    if (accepted_only && !c.screen.accepted()) continue;
    printer.Add(c);
    ++drawn;
  }
  return kExitOk;
}

int Eval(const std::vector<std::string>& args) {
  std::string text;
  std::string points_text = "-2,-1,-0.5,0,0.5,1,2";
  std::string betas_text;
  std::string format;
  po::options_description options("eval options");
  // clang-format off
  options.add_options()
      ("expression", po::value(&text)->required(), "the expression, e.g. 'cos(x) - x'")
      ("points", po::value(&points_text)->default_value(points_text), "comma-separated inputs")
      ("beta", po::value(&betas_text), "beta values, comma-separated (default: initial values)")
      ("format", FormatFlag(&format),
       "table, csv or jsonl (a row per point), json (the whole evaluation)");
  // clang-format on
  po::positional_options_description positional;
  positional.add("expression", 1);
  if (!ParseOptions(args, options, positional, "actsearch space eval EXPRESSION [options]",
                    "  actsearch space eval 'cos(x) - x' --points -1,0,2.5\n"
                    "  actsearch space eval 'x * sigmoid(beta * x)' --beta 2 --format json\n")) {
    return kExitOk;
  }
  const Expr e = ParseExpression(text);
  const Program program(e);
  const std::vector<double> x = ParseNumbers(points_text, "--points");
  std::vector<double> betas = program.initial_betas();
  if (!betas_text.empty()) {
    betas = ParseNumbers(betas_text, "--beta");
    if (static_cast<int>(betas.size()) != program.num_betas()) {
      throw UsageError("--beta: the expression has " + std::to_string(program.num_betas()) +
                       " betas, " + std::to_string(betas.size()) + " given");
    }
  }
  const int64_t n = static_cast<int64_t>(x.size());
  const ProbeResult at = EvaluateAt(program, x, betas);
  const std::vector<double>& y = at.value;
  const std::vector<double>& dy = at.slope;
  const std::vector<std::vector<double>>& beta_grad = at.beta_slope;
  const ScreenResult screen = Screen(program);

  if (format != "table") {
    std::vector<std::string> columns = {"x", "value", "dx"};
    for (size_t k = 0; k < betas.size(); ++k) columns.push_back("dbeta" + std::to_string(k + 1));
    Table points(columns);
    for (int64_t i = 0; i < n; ++i) {
      std::vector<Cell> row = {x[i], y[i], dy[i]};
      for (size_t k = 0; k < betas.size(); ++k) row.emplace_back(beta_grad[k][i]);
      points.AddRow(std::move(row));
    }
    if (format != "json") {
      std::cout << points.Render(format);
      return kExitOk;
    }
    Json o = Json::object();
    o["expression"] = ToString(e);
    o["betas"] = betas;
    Json owners = Json::array();
    for (const Expr& owner : program.beta_owners()) owners.push_back(ToString(owner));
    o["beta_owners"] = owners;
    o["points"] = points.ToJson();
    o["screen"] = VerdictName(screen.verdict);
    if (!screen.accepted()) o["reason"] = screen.reason;
    o["fingerprint"] = FingerprintToHex(ComputeFingerprint(e));
    std::cout << o.dump() << "\n";
    return kExitOk;
  }
  std::cout << "expression   " << ToString(e) << "\n";
  // Each beta with the node it belongs to: post-order numbering is not the text's order.
  std::cout << "betas        " << (betas.empty() ? "none\n" : "");
  for (size_t k = 0; k < betas.size(); ++k) {
    std::cout << (k ? "             " : "") << "beta" << k + 1 << " = " << betas[k] << "  in "
              << ToString(program.beta_owners()[k]) << "\n";
  }
  std::cout << "screening    " << VerdictName(screen.verdict)
            << (screen.accepted() ? "" : " (" + screen.reason + ")") << "\n"
            << "fingerprint  " << FingerprintToHex(ComputeFingerprint(e)) << "\n\n";
  std::printf("%12s %14s %14s", "x", "f(x)", "df/dx");
  for (size_t k = 0; k < betas.size(); ++k) std::printf(" %13s%zu", "df/dbeta", k + 1);
  std::printf("\n");
  for (int64_t i = 0; i < n; ++i) {
    std::printf("%12.6g %14.8g %14.8g", x[i], y[i], dy[i]);
    for (size_t k = 0; k < betas.size(); ++k) std::printf(" %14.8g", beta_grad[k][i]);
    std::printf("\n");
  }
  return kExitOk;
}

int Encode(const std::vector<std::string>& args) {
  SpaceFlags flags;
  std::string text;
  int64_t scan_limit = kDefaultScanLimit;
  po::options_description options("encode options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("expression", po::value(&text)->required(), "the expression")
      ("scan-limit", AtLeast<int64_t>(&scan_limit, "--scan-limit", 0)->default_value(scan_limit),
       "candidates walked to find another member of the expression's functional class");
  // clang-format on
  po::positional_options_description positional;
  positional.add("expression", 1);
  if (!ParseOptions(args, options, positional, "actsearch space encode EXPRESSION [options]",
                    "  actsearch space encode 'max(x, sin(x))'        # x x identity sin max\n"
                    "  actsearch space encode 'x * sigmoid(beta * x)' # through an equal form\n")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  const Expr e = ParseExpression(text);
  const std::optional<EqualEncoding> found =
      EncodeEqualFunction(space, e, static_cast<uint64_t>(scan_limit));
  if (!found) {
    std::cerr << "actsearch: '" << ToString(e) << "' is not reachable in this space ("
              << space.spec().units << " unit(s)), and no candidate among the first "
              << std::min<uint64_t>(scan_limit, space.size().value_or(UINT64_MAX))
              << " computes the same function; try --units " << space.spec().units + 1 << "\n";
    return kExitFailure;
  }
  if (found->how == EqualEncoding::How::kCommuted) {
    std::cerr << "actsearch: note: encoded the equal form '" << ToString(found->encoded)
              << "' (operands of a symmetric operator swapped)\n";
  } else if (found->how == EqualEncoding::How::kSameClass) {
    std::cerr << "actsearch: note: '" << ToString(e) << "' is not reachable as written; encoded '"
              << ToString(found->encoded) << "', a candidate of its functional class\n";
  }
  std::cout << space.TokensToString(found->tokens) << "\n";
  return kExitOk;
}

int Decode(const std::vector<std::string>& args) {
  SpaceFlags flags;
  std::vector<std::string> words;
  po::options_description options("decode options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("tokens", po::value(&words)->multitoken(), "the tokens");
  // clang-format on
  po::positional_options_description positional;
  positional.add("tokens", -1);
  if (!ParseOptions(args, options, positional, "actsearch space decode TOKEN... [options]",
                    "  actsearch space decode x x identity sin max\n")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  std::string joined;
  for (const std::string& w : words) joined += w + " ";
  try {
    std::cout << ToString(space.Decode(space.TokensFromString(joined))) << "\n";
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return kExitOk;
}

int Ops(const std::vector<std::string>& args) {
  po::options_description options("ops options");
  if (!ParseOptions(args, options, {}, "actsearch space ops", "  actsearch space ops\n")) {
    return kExitOk;
  }
  std::printf("unary (%zu)\n", AllUnaryTokens().size());
  for (OpId op : AllUnaryTokens()) {
    const OpInfo& info = Info(op);
    std::printf("  %-10s %-24s%s\n", std::string(info.name).c_str(),
                std::string(info.formula).c_str(), info.has_beta ? "trainable beta" : "");
  }
  std::printf("binary (%zu)\n", AllBinaryOps().size());
  for (OpId op : AllBinaryOps()) {
    const OpInfo& info = Info(op);
    std::printf("  %-10s %-28s%s\n", std::string(info.name).c_str(),
                std::string(info.formula).c_str(), info.has_beta ? "trainable beta" : "");
  }
  return kExitOk;
}

}  // namespace

int RunSpaceCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "count") return Count(rest);
  if (command == "list") return List(rest);
  if (command == "sample") return Sample(rest);
  if (command == "eval") return Eval(rest);
  if (command == "encode") return Encode(rest);
  if (command == "decode") return Decode(rest);
  if (command == "ops") return Ops(rest);
  throw UsageError("unknown space command '" + command + "'" + DidYouMean(command, kCommands) +
                   "; see `actsearch space --help`");
}

}  // namespace actsearch::cli
