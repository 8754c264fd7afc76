// Which search a reading command reads: `--search NAME|ID`, `--all-searches` to pool them, and
// by default the latest one, never a silent pool of incomparable searches.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "storage/sqlite.h"

namespace actsearch::cli {

struct SearchChoice {
  std::string search;  // a name or an id; empty: the latest
  bool all = false;
};

void AddSearchFlags(boost::program_options::options_description& flags, SearchChoice& choice);

// The search to read, or nullopt for all of them. By default the newest search not of
// `excluded_kind` ("" for none); when the file holds several, a note on stderr says which one
// was taken. Throws UsageError for --search with --all-searches, and std::runtime_error for a
// search the file does not hold.
std::optional<int64_t> ChooseSearch(sql::Database& db, const SearchChoice& choice,
                                    const std::string& excluded_kind = "");

}  // namespace actsearch::cli
