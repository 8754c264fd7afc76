// `actsearch plot`: functions (and their derivatives) drawn to an SVG or PNG file by gnuplot.
#pragma once

#include <string>
#include <vector>

namespace actsearch::cli {

int RunPlotCommand(const std::vector<std::string>& args);

}  // namespace actsearch::cli
