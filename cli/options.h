// Command-line parsing shared by the subcommands (Boost.Program_options).
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace actsearch::cli {

// Parses `args` into `options` (which gains --help). Returns false after printing the help
// when --help was given. Throws UsageError for unknown or malformed options.
bool ParseOptions(const std::vector<std::string>& args,
                  boost::program_options::options_description& options,
                  const boost::program_options::positional_options_description& positional,
                  const char* synopsis);

// "a,b,c" -> {"a", "b", "c"}, spaces trimmed, empty items dropped.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace actsearch::cli
