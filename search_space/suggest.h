// "Did you mean": the known name closest to a mistyped one, for error messages.
#pragma once

#include <string>
#include <vector>

namespace actsearch {

// " (did you mean 'sin'?)" when a known name is within a couple of edits of `word` (or starts
// with it), else "".
std::string DidYouMean(const std::string& word, const std::vector<std::string>& known);

// Every operator name of the grammar, unary tokens then binary operators.
std::vector<std::string> AllOperatorNames();

}  // namespace actsearch
