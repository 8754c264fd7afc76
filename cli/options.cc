#include "cli/options.h"

#include <iostream>
#include <sstream>

#include "cli/table.h"
#include "search_space/parser.h"

namespace actsearch::cli {
namespace po = boost::program_options;

bool ParseOptions(const std::vector<std::string>& args, po::options_description& options,
                  const po::positional_options_description& positional, const std::string& synopsis,
                  const std::string& examples) {
  options.add_options()("help,h", "show this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: " << synopsis << "\n\n" << options;
      if (!examples.empty()) std::cout << "\nexamples:\n" << examples;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

Expr ParseExpression(const std::string& text) {
  try {
    return Parse(text);
  } catch (const ParseError& e) {
    throw UsageError(std::string("malformed expression: ") + e.what());
  }
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

po::typed_value<double>* Positive(double* target, const std::string& flag) {
  return Checked<double>(
      target, flag, [](const double& v) { return std::isfinite(v) && v > 0; },
      "a finite number above 0");
}

po::typed_value<double>* NonNegative(double* target, const std::string& flag) {
  return Checked<double>(
      target, flag, [](const double& v) { return std::isfinite(v) && v >= 0; },
      "a finite number of at least 0");
}

po::typed_value<std::string>* NonEmpty(std::string* target, const std::string& flag) {
  return Checked<std::string>(
      target, flag, [](const std::string& v) { return !SplitList(v).empty(); }, "a non-empty list");
}

po::typed_value<std::string>* FormatFlag(std::string* target) {
  return po::value(target)->default_value("table")->notifier(
      [](const std::string& format) { CheckTableFormat(format); });
}

}  // namespace actsearch::cli
