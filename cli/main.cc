// The actsearch binary: one entry point, one subcommand per job.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/reevaluate_command.h"
#include "cli/results_commands.h"
#include "cli/search_commands.h"
#include "cli/space_command.h"
#include "cli/train_command.h"
#include "cli/usage_error.h"

namespace {

constexpr const char* kUsage = R"(usage: actsearch <command> [options]

Searches for neural-network activation functions.

commands:
  local         run a search on this machine: a controller and N workers, then the leaderboard
  controller    serve a search to workers over gRPC (resumes a search already in the database)
  worker        train the trials of a controller's search
  space         inspect the search space: count, list, sample, eval, encode, decode, ops
  train         train one child network with a candidate activation, print its result
  reevaluate    train a leaderboard's winners again (plain, SUGAR, PWLU) beside baselines
  leaderboard   the best functionally distinct candidates of a results database
  searches      the searches in a results database and their progress
  db            create or migrate (init) or check a results database

Run `actsearch <command> --help` for a command's options.
Exit codes: 0 success, 1 failure (including an unreadable database), 2 usage error (bad
flags, expression or configuration); each command's --help lists the others it uses.
)";

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
      std::cout << "actsearch 0.1.0\n";
      return kExitOk;
    }
    if (command == "local") return RunLocalCommand(rest);
    if (command == "controller") return RunControllerCommand(rest);
    if (command == "worker") return RunWorkerCommand(rest);
    if (command == "space") return RunSpaceCommand(rest);
    if (command == "train") return RunTrainCommand(rest);
    if (command == "reevaluate") return RunReevaluateCommand(rest);
    if (command == "leaderboard") return RunLeaderboardCommand(rest);
    if (command == "searches") return RunSearchesCommand(rest);
    if (command == "db") return RunDbCommand(rest);
    throw UsageError("unknown command '" + command + "'; see `actsearch --help`");
  } catch (const UsageError& e) {
    std::cerr << "actsearch: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "actsearch: " << e.what() << "\n";
    return kExitFailure;
  }
}
