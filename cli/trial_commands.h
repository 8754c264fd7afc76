// `actsearch trials`, `actsearch trial` and `actsearch export`: a search's trials listed and
// filtered, one trial whole (its learning curve, error and config), and a whole search in a
// form data tools read. No user should need SQL to learn why a trial failed.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunTrialsCommand(const std::vector<std::string>& args);
int RunTrialCommand(const std::vector<std::string>& args);
int RunExportCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
