#include "cli/plot_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/results_commands.h"
#include "cli/search_choice.h"
#include "cli/usage_error.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"
#include "storage/leaderboard.h"

extern char** environ;

namespace actsearch::cli {
namespace {

namespace po = boost::program_options;

constexpr int kPoints = 401;

// A gnuplot string in single quotes, where a quote is written twice.
std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The curves, one data block per expression (gnuplot's `index`): x, f(x), f'(x), NaN where
// the function is not finite (a gap in the line).
void WriteData(const std::vector<Expr>& expressions, double from, double to,
               const std::string& path) {
  std::ofstream out(path);
  std::vector<double> x(kPoints);
  for (int i = 0; i < kPoints; ++i) x[i] = from + (to - from) * i / (kPoints - 1);
  for (const Expr& e : expressions) {
    const Program program(e);
    const ProbeResult at = EvaluateAt(program, x, program.initial_betas());
    for (int i = 0; i < kPoints; ++i) {
      auto number = [](double v) { return std::isfinite(v) ? std::to_string(v) : "NaN"; };
      out << x[i] << ' ' << number(at.value[i]) << ' ' << number(at.slope[i]) << '\n';
    }
    out << "\n\n";
  }
  if (!out) throw std::runtime_error(path + ": cannot write the plot's data");
}

std::string PlotLine(const std::vector<Expr>& expressions, const std::string& data, int column,
                     size_t references) {
  std::string line = "plot ";
  for (size_t i = 0; i < expressions.size(); ++i) {
    if (i > 0) line += ", \\\n     ";
    line += Quoted(data) + " index " + std::to_string(i) + " using 1:" + std::to_string(column) +
            " with lines lw 2" + (i < references ? " dt 2" : "") + " title " +
            Quoted(ToString(expressions[i]));
  }
  return line + "\n";
}

// Runs gnuplot on `script`; its error output says what went wrong.
void RunGnuplot(const std::string& script, const std::string& log) {
  std::vector<std::string> argv = {"gnuplot", script};
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT, 0600);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, "gnuplot", &files, nullptr, c_argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (error != 0) {
    throw std::runtime_error(
        "plot needs gnuplot, which is not installed (apt-get install gnuplot-nox)");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("gnuplot failed: " + text);
  }
}

}  // namespace

int RunPlotCommand(const std::vector<std::string>& args) {
  std::vector<std::string> texts;
  std::string out, db_path;
  SearchChoice choice;
  int64_t top = 0;
  double from = -5, to = 5;
  bool derivative = false, references = false;
  po::options_description flags("plot options");
  // clang-format off
  flags.add_options()
      ("expr", po::value(&texts)->composing(), "an expression to plot (or give them as arguments)")
      ("out", po::value(&out)->required(), "the figure: F.svg or F.png")
      ("derivative", po::bool_switch(&derivative), "a second panel with the derivatives")
      ("references", po::bool_switch(&references), "ReLU and Swish too, dashed")
      ("from", po::value(&from)->default_value(from), "the x range's start")
      ("to", po::value(&to)->default_value(to), "the x range's end")
      ("from-db", po::value(&db_path), "also plot the best of a results database's leaderboard")
      ("top", AtLeast<int64_t>(&top, "--top", 1)->default_value(5), "how many of the leaderboard");
  AddSearchFlags(flags, choice);
  // clang-format on
  po::positional_options_description positional;
  positional.add("expr", -1);
  if (!ParseOptions(
          args, flags, positional,
          "actsearch plot EXPR... --out F.svg|F.png [options]\n\n"
          "Draws functions at their initial betas, and with --derivative their "
          "slopes, in one figure\nas the Swish paper's Figure 3 shows its winners "
          "(gnuplot draws it).\n\nExit codes: 0 drawn, 1 failure (gnuplot missing or "
          "failed, an unreadable database), 2 usage error",
          "  actsearch plot 'x * sigmoid(x)' 'max(x, sigmoid(x))' --derivative --out f.svg\n"
          "  actsearch plot --from-db results.db --top 4 --references --out best.png\n")) {
    return kExitOk;
  }
  const std::string extension = std::filesystem::path(out).extension().string();
  if (extension != ".svg" && extension != ".png") {
    throw UsageError("--out " + out + ": the figure must be .svg or .png");
  }
  if (!std::isfinite(from) || !std::isfinite(to) || !(from < to)) {
    throw UsageError("--from and --to: from must be below to");
  }
  std::vector<Expr> expressions;
  if (references) {
    for (const char* reference : {"relu(x)", "x * sigmoid(x)"})
      expressions.push_back(Parse(reference));
  }
  const size_t reference_count = expressions.size();
  // Each function once, whichever way it was named.
  auto add = [&expressions](const Expr& e) {
    for (const Expr& shown : expressions) {
      if (ToString(shown) == ToString(e)) return;
    }
    expressions.push_back(e);
  };
  for (const std::string& text : texts) add(ParseExpression(text));
  if (!db_path.empty()) {
    const auto db = OpenForReading(db_path);
    storage::LeaderboardFilter filter;
    filter.search_id = ChooseSearch(*db, choice);
    filter.top = top;
    for (const storage::LeaderboardRow& row : storage::QueryLeaderboard(*db, filter)) {
      add(Parse(row.expression));
    }
  }
  if (expressions.size() == reference_count) {
    throw UsageError("nothing to plot: give expressions or --from-db");
  }

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("actsearch-plot-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string data = (dir / "curves.dat").string(), script = (dir / "plot.gp").string();
  try {
    WriteData(expressions, from, to, data);
    std::ofstream gp(script);
    gp << (extension == ".svg" ? "set terminal svg dynamic noenhanced size "
                               : "set terminal pngcairo noenhanced size ")
       << (derivative ? "1200,500" : "700,500") << "\n"
       << "set output " << Quoted(out) << "\n"
       << "set datafile missing 'NaN'\nset grid\nset key left top\n"
       << "set xrange [" << from << ":" << to << "]\nset xlabel 'x'\n";
    if (derivative) gp << "set multiplot layout 1,2\n";
    gp << "set title 'f(x)'\nset yrange [-2:6]\n"
       << PlotLine(expressions, data, 2, reference_count);
    if (derivative) {
      gp << "set title 'df/dx'\nset yrange [-1.5:2]\n"
         << PlotLine(expressions, data, 3, reference_count) << "unset multiplot\n";
    }
    gp.close();
    RunGnuplot(script, (dir / "gnuplot.log").string());
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  std::fprintf(stderr, "plot: %zu functions drawn to %s\n", expressions.size(), out.c_str());
  return kExitOk;
}

}  // namespace actsearch::cli
