// `actsearch space`: look at the search space by hand.
#include "cli/space_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>

#include "cli/config_file.h"
#include "cli/exit_codes.h"
#include "cli/json.h"
#include "cli/options.h"
#include "cli/usage_error.h"
#include "search_space/dedup.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"

namespace actsearch::cli {
namespace po = boost::program_options;
namespace {

constexpr const char* kUsage = R"(usage: actsearch space <command> [options]

commands:
  count     number of candidates in a space (--distinct: screened and deduplicated)
  list      candidates in enumeration order, with screening verdict and fingerprint class
  sample    uniformly random candidates
  eval      values and derivatives of an expression at given points
  encode    the token sequence of an expression in a space
  decode    the expression of a token sequence
  ops       the grammar's operators

Run `actsearch space <command> --help` for its options.
)";

struct SpaceFlags {
  int units = 1;
  std::string unary = "all";
  std::string binary = "all";
  std::string config;
};

void AddSpaceOptions(po::options_description& options, SpaceFlags& flags) {
  // clang-format off
  options.add_options()
      ("units", po::value(&flags.units)->default_value(1), "number of core units")
      ("unary", po::value(&flags.unary)->default_value("all"),
       "unary tokens allowed, comma-separated (see `actsearch space ops`)")
      ("binary", po::value(&flags.binary)->default_value("all"),
       "binary operators allowed, comma-separated")
      ("config", po::value(&flags.config),
       "read the space from this search configuration (text protobuf) instead");
  // clang-format on
}

Space MakeSpace(const SpaceFlags& flags) {
  SpaceSpec spec;
  if (!flags.config.empty()) {
    spec = SpaceSpecFromProto(ReadSearchConfig(flags.config).space());
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

void CheckFormat(const std::string& format) {
  if (format != "table" && format != "json") {
    throw UsageError("--format must be table or json, not '" + format + "'");
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

Expr ParseExpression(const std::string& text) {
  try {
    return Parse(text);
  } catch (const ParseError& e) {
    throw UsageError(std::string("malformed expression: ") + e.what());
  }
}

// One line per candidate: an aligned row, or a JSON object.
void PrintCandidate(const Space& space, const Candidate& c, const std::string& format) {
  if (format == "json") {
    JsonObject o;
    o.Add("index", c.index);
    o.Add("expression", c.text);
    o.Add("tokens", space.TokensToString(c.tokens));
    o.Add("fingerprint", FingerprintToHex(c.fingerprint));
    o.Add("screen", VerdictName(c.screen.verdict));
    if (!c.screen.accepted()) o.Add("reason", c.screen.reason);
    std::cout << o.str() << "\n";
    return;
  }
  std::printf("%12llu  %s  %-10s  %s\n", static_cast<unsigned long long>(c.index),
              FingerprintToHex(c.fingerprint).c_str(), VerdictName(c.screen.verdict),
              c.text.c_str());
}

int Count(const std::vector<std::string>& args) {
  SpaceFlags flags;
  bool distinct = false;
  uint64_t limit = UINT64_MAX;
  std::string format = "table";
  po::options_description options("count options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("distinct", po::bool_switch(&distinct), "screen and dedup every candidate, report classes")
      ("limit", po::value(&limit), "with --distinct: walk only the first N candidates")
      ("format", po::value(&format)->default_value("table"), "table or json");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space count [options]")) return kExitOk;
  CheckFormat(format);
  const Space space = MakeSpace(flags);
  if (!distinct) {
    if (!space.size()) {
      std::cout << (format == "json" ? "{\"candidates\": null}" : "more than 2^64") << "\n";
    } else if (format == "json") {
      JsonObject o;
      o.Add("candidates", *space.size());
      std::cout << o.str() << "\n";
    } else {
      std::cout << *space.size() << "\n";
    }
    return kExitOk;
  }
  if (!space.size() && limit == UINT64_MAX) {
    throw UsageError("the space is too large to walk whole: give --limit");
  }
  const SpaceSummary s = SummarizeSpace(space, limit);
  if (format == "json") {
    JsonObject screened;
    for (const auto& [verdict, n] : s.screened) screened.Add(verdict, n);
    JsonObject o;
    o.Add("candidates", s.candidates);
    o.Add("accepted", s.accepted);
    o.Add("distinct", s.distinct);
    o.AddRaw("screened", screened.str());
    std::cout << o.str() << "\n";
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
  uint64_t offset = 0;
  uint64_t limit = 50;
  bool distinct = false;
  std::string format = "table";
  po::options_description options("list options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("offset", po::value(&offset)->default_value(0), "first index to show")
      ("limit", po::value(&limit)->default_value(50), "how many to show")
      ("distinct", po::bool_switch(&distinct),
       "only accepted candidates, the first of each functional class")
      ("format", po::value(&format)->default_value("table"), "table or json (one object a line)");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space list [options]")) return kExitOk;
  CheckFormat(format);
  const Space space = MakeSpace(flags);
  const uint64_t size = space.size().value_or(UINT64_MAX);
  ClassSet classes;
  uint64_t shown = 0;
  // With --distinct, classes seen before the offset still count as seen.
  for (uint64_t index = distinct ? 0 : offset; index < size && shown < limit; ++index) {
    const Candidate c = AnalyzeCandidate(space, index);
    if (distinct && (!c.screen.accepted() || !classes.Insert(c.fingerprint))) continue;
    if (index < offset) continue;
    PrintCandidate(space, c, format);
    ++shown;
  }
  return kExitOk;
}

int Sample(const std::vector<std::string>& args) {
  SpaceFlags flags;
  int count = 10;
  uint64_t seed = 1;
  bool accepted_only = false;
  std::string format = "table";
  po::options_description options("sample options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("count", po::value(&count)->default_value(10), "how many candidates")
      ("seed", po::value(&seed)->default_value(1), "random seed")
      ("accepted", po::bool_switch(&accepted_only), "draw again until screening accepts")
      ("format", po::value(&format)->default_value("table"), "table or json");
  // clang-format on
  if (!ParseOptions(args, options, {}, "actsearch space sample [options]")) return kExitOk;
  CheckFormat(format);
  const Space space = MakeSpace(flags);
  if (!space.size()) throw UsageError("the space is too large to index (more than 2^64)");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint64_t> pick(0, *space.size() - 1);
  for (int drawn = 0; drawn < count;) {
    const Candidate c = AnalyzeCandidate(space, pick(rng));
    if (accepted_only && !c.screen.accepted()) continue;
    PrintCandidate(space, c, format);
    ++drawn;
  }
  return kExitOk;
}

int Eval(const std::vector<std::string>& args) {
  std::string text;
  std::string points_text = "-2,-1,-0.5,0,0.5,1,2";
  std::string betas_text;
  std::string format = "table";
  po::options_description options("eval options");
  // clang-format off
  options.add_options()
      ("expression", po::value(&text)->required(), "the expression, e.g. 'cos(x) - x'")
      ("points", po::value(&points_text)->default_value(points_text), "comma-separated inputs")
      ("beta", po::value(&betas_text), "beta values, comma-separated (default: initial values)")
      ("format", po::value(&format)->default_value("table"), "table or json");
  // clang-format on
  po::positional_options_description positional;
  positional.add("expression", 1);
  if (!ParseOptions(args, options, positional, "actsearch space eval EXPRESSION [options]")) {
    return kExitOk;
  }
  CheckFormat(format);
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
  std::vector<std::vector<double>> beta_arrays;
  std::vector<const double*> beta_in;
  std::vector<std::vector<double>> beta_grad(betas.size(), std::vector<double>(n));
  std::vector<double*> beta_out;
  for (size_t k = 0; k < betas.size(); ++k) {
    beta_arrays.emplace_back(n, betas[k]);
    beta_in.push_back(beta_arrays.back().data());
    beta_out.push_back(beta_grad[k].data());
  }
  std::vector<double> y(n), dy(n), ones(n, 1.0);
  program.Forward<double>(n, x.data(), beta_in.data(), y.data());
  program.Backward<double>(n, x.data(), beta_in.data(), ones.data(), dy.data(), beta_out.data());
  const ScreenResult screen = Screen(program);

  if (format == "json") {
    JsonArray points;
    for (int64_t i = 0; i < n; ++i) {
      JsonObject p;
      p.Add("x", x[i]);
      p.Add("value", y[i]);
      p.Add("dx", dy[i]);
      JsonArray dbeta;
      for (size_t k = 0; k < betas.size(); ++k) dbeta.Add(beta_grad[k][i]);
      p.AddRaw("dbeta", dbeta.str());
      points.AddRaw(p.str());
    }
    JsonArray beta_values;
    for (double b : betas) beta_values.Add(b);
    JsonObject o;
    o.Add("expression", ToString(e));
    o.AddRaw("betas", beta_values.str());
    o.AddRaw("points", points.str());
    o.Add("screen", VerdictName(screen.verdict));
    if (!screen.accepted()) o.Add("reason", screen.reason);
    o.Add("fingerprint", FingerprintToHex(ComputeFingerprint(program)));
    std::cout << o.str() << "\n";
    return kExitOk;
  }
  std::cout << "expression   " << ToString(e) << "\n";
  std::cout << "betas        ";
  if (betas.empty()) std::cout << "none";
  for (size_t k = 0; k < betas.size(); ++k) std::cout << (k ? ", " : "") << betas[k];
  std::cout << "\nscreening    " << VerdictName(screen.verdict)
            << (screen.accepted() ? "" : " (" + screen.reason + ")") << "\n"
            << "fingerprint  " << FingerprintToHex(ComputeFingerprint(program)) << "\n\n";
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
  po::options_description options("encode options");
  AddSpaceOptions(options, flags);
  // clang-format off
  options.add_options()
      ("expression", po::value(&text)->required(), "the expression");
  // clang-format on
  po::positional_options_description positional;
  positional.add("expression", 1);
  if (!ParseOptions(args, options, positional, "actsearch space encode EXPRESSION [options]")) {
    return kExitOk;
  }
  const Space space = MakeSpace(flags);
  const Expr e = ParseExpression(text);
  const std::optional<std::vector<int>> tokens = space.Encode(e);
  if (!tokens) {
    std::cerr << "actsearch: '" << ToString(e) << "' is not reachable in this space ("
              << space.spec().units << " unit(s)); try --units " << space.spec().units + 1 << "\n";
    return kExitFailure;
  }
  std::cout << space.TokensToString(*tokens) << "\n";
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
  if (!ParseOptions(args, options, positional, "actsearch space decode TOKEN... [options]")) {
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
  if (!ParseOptions(args, options, {}, "actsearch space ops")) return kExitOk;
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
  throw UsageError("unknown space command '" + command + "'; see `actsearch space --help`");
}

}  // namespace actsearch::cli
