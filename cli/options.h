// Command-line parsing shared by the subcommands (Boost.Program_options), with the checks every
// numeric flag gets: a value out of range is a usage error naming the flag and the range.
#pragma once

#include <boost/program_options.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "cli/usage_error.h"
#include "search_space/expr.h"

namespace actsearch::cli {

// Parses `args` into `options` (which gains --help). Returns false after printing the help
// when --help was given: the synopsis, the options, then `examples` (lines of commands).
// Throws UsageError for unknown or malformed options.
bool ParseOptions(const std::vector<std::string>& args,
                  boost::program_options::options_description& options,
                  const boost::program_options::positional_options_description& positional,
                  const std::string& synopsis, const std::string& examples = "");

// An expression given on the command line; UsageError naming the column for a malformed one.
Expr ParseExpression(const std::string& text);

// "a,b,c" -> {"a", "b", "c"}, spaces trimmed, empty items dropped.
std::vector<std::string> SplitList(const std::string& text);

// A flag whose value must satisfy `ok`; otherwise a UsageError "--flag: got V, must be WHAT".
template <typename T>
boost::program_options::typed_value<T>* Checked(T* target, const std::string& flag,
                                                std::function<bool(const T&)> ok,
                                                const std::string& what) {
  return boost::program_options::value(target)->notifier([=](const T& value) {
    if (ok(value)) return;
    std::ostringstream got;
    got << value;
    throw UsageError(flag + ": got " + (got.str().empty() ? "''" : got.str()) + ", must be " +
                     what);
  });
}

// Integers and finite numbers of at least `min` (and at most `max`).
template <typename T>
boost::program_options::typed_value<T>* AtLeast(T* target, const std::string& flag, T min) {
  std::ostringstream what;
  what << "at least " << min;
  return Checked<T>(
      target, flag, [min](const T& v) { return v >= min && v <= std::numeric_limits<T>::max(); },
      what.str());
}
template <typename T>
boost::program_options::typed_value<T>* InRange(T* target, const std::string& flag, T min, T max) {
  std::ostringstream what;
  what << "from " << min << " to " << max;
  return Checked<T>(
      target, flag, [min, max](const T& v) { return v >= min && v <= max; }, what.str());
}
// A finite number above 0 (a learning rate, a duration).
boost::program_options::typed_value<double>* Positive(double* target, const std::string& flag);
// A finite number of at least 0 (a duration where 0 means none).
boost::program_options::typed_value<double>* NonNegative(double* target, const std::string& flag);
// A text that must not be empty.
boost::program_options::typed_value<std::string>* NonEmpty(std::string* target,
                                                           const std::string& flag);

// One --format vocabulary for every command that prints results.
boost::program_options::typed_value<std::string>* FormatFlag(std::string* target);

}  // namespace actsearch::cli
