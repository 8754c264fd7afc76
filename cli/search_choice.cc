#include "cli/search_choice.h"

#include <cstdio>

#include "cli/usage_error.h"
#include "storage/search_queries.h"

namespace actsearch::cli {
namespace po = boost::program_options;

void AddSearchFlags(po::options_description& flags, SearchChoice& choice) {
  // clang-format off
  flags.add_options()
      ("search", po::value(&choice.search),
       "the search to read, by name or id (default: the latest; `actsearch searches` lists them)")
      ("all-searches", po::bool_switch(&choice.all),
       "pool every search of the file (their rewards may not be comparable)");
  // clang-format on
}

std::optional<int64_t> ChooseSearch(sql::Database& db, const SearchChoice& choice,
                                    const std::string& excluded_kind) {
  if (choice.all) {
    if (!choice.search.empty()) throw UsageError("give --search or --all-searches, not both");
    return std::nullopt;
  }
  if (!choice.search.empty()) return storage::ResolveSearch(db, choice.search);
  const std::optional<int64_t> latest = storage::LatestSearch(db, excluded_kind);
  if (!latest) throw std::runtime_error(db.path() + ": holds no search yet");
  const std::vector<std::pair<int64_t, std::string>> searches = storage::SearchNames(db);
  if (searches.size() > 1) {
    for (const auto& [id, name] : searches) {
      if (id != *latest) continue;
      std::fprintf(stderr,
                   "actsearch: reading search %lld '%s', the latest of %zu (--search NAME|ID for "
                   "another, --all-searches for all)\n",
                   static_cast<long long>(id), name.c_str(), searches.size());
    }
  }
  return latest;
}

}  // namespace actsearch::cli
