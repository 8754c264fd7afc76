// The actsearch binary: one entry point, one subcommand per job.
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/dashboard_command.h"
#include "cli/exit_codes.h"
#include "cli/plot_command.h"
#include "cli/reevaluate_command.h"
#include "cli/results_commands.h"
#include "cli/search_commands.h"
#include "cli/space_command.h"
#include "cli/train_command.h"
#include "cli/trial_commands.h"
#include "cli/usage_error.h"
#include "controller/search_config.h"
#include "search_space/suggest.h"

namespace {

constexpr const char* kUsage = R"(usage: actsearch <command> [options]

Searches for neural-network activation functions.

running a search:
  local         run a search on this machine: a controller and N workers, then the leaderboard
  controller    serve a search to workers over gRPC (resumes a search already in the database)
  worker        train the trials of a controller's search
  stop          ask a running search's controller to stop (its trials are released)

reading results:
  searches      the searches in a results database: status, budget, progress
  trials        a search's trials, filtered: state, reward, worker, error
  trial         one trial whole: its learning curve, error and config
  leaderboard   the best functionally distinct candidates of a search
  export        every trial of a search as JSON lines, JSON or CSV, for data tools
  dashboard     serve a results database read-only over HTTP: a JSON API for pages and scripts

the functions:
  space         inspect the search space: count, list, sample, eval, encode, decode, ops
  plot          draw functions and their derivatives to an SVG or PNG file
  train         train one child network with an activation, print its result
  reevaluate    train a leaderboard's winners again (plain, SUGAR, PWLU) beside baselines
  db            create or migrate (init) or check a results database

Run `actsearch <command> --help` for a command's options and examples; docs/walkthrough.md
takes a search from its config to its leaderboard.
Exit codes: 0 success, 1 failure (including an unreadable database), 2 usage error (bad
flags, expression or configuration); each command's --help lists the others it uses.
)";

using Command = std::function<int(const std::vector<std::string>&)>;

const std::map<std::string, Command>& Commands() {
  using namespace actsearch::cli;
  // clang-format off
  static const std::map<std::string, Command> commands = {
      {"local", RunLocalCommand},       {"controller", RunControllerCommand},
      {"worker", RunWorkerCommand},     {"stop", RunStopCommand},
      {"searches", RunSearchesCommand}, {"trials", RunTrialsCommand},
      {"trial", RunTrialCommand},       {"leaderboard", RunLeaderboardCommand},
      {"export", RunExportCommand},     {"space", RunSpaceCommand},
      {"train", RunTrainCommand},       {"reevaluate", RunReevaluateCommand},
      {"db", RunDbCommand},             {"dashboard", RunDashboardCommand},
      {"plot", RunPlotCommand}};
  // clang-format on
  return commands;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace actsearch::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (command == "--version") {
      std::cout << "actsearch 0.2.0\n";
      return kExitOk;
    }
    const auto found = Commands().find(command);
    if (found == Commands().end()) {
      std::vector<std::string> names;
      for (const auto& [name, run] : Commands()) names.push_back(name);
      throw UsageError("unknown command '" + command + "'" + actsearch::DidYouMean(command, names) +
                       "; see `actsearch --help`");
    }
    return found->second(rest);
  } catch (const UsageError& e) {
    std::cerr << "actsearch: " << e.what() << "\n";
    return kExitUsage;
  } catch (const actsearch::controller::ConfigError& e) {  // a bad config is a usage error
    std::cerr << "actsearch: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "actsearch: " << e.what() << "\n";
    return kExitFailure;
  }
}
