// The table of a re-evaluation: per activation (a winner in a mode, or a baseline) and model, the
// mean and sample standard deviation of validation and test accuracy over its runs that finished,
// its runs and how many diverged. One table for the runs `actsearch reevaluate` trained in
// process and for a re-evaluation served by the controller, read back from the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/table.h"
#include "storage/sqlite.h"

namespace actsearch::cli {

struct ReevaluationRow {
  std::optional<int64_t> rank;  // the winner's place on the leaderboard; none for baselines
  std::string candidate;        // the winner's expression, or the baseline's name
  std::string mode;             // baseline, plain, sugar or pwlu
  std::string spec;             // what trains
  std::string model;            // the child network it trains
  std::vector<double> validation, test;  // of the runs that trained to their end
  int64_t runs = 0;                      // with a result
  int64_t diverged = 0;
};

// Accuracies in percent for the table format, as fractions for the others.
Table ReevaluationTable(const std::vector<ReevaluationRow>& rows, bool percent);

// The rows of a re-evaluation served by the controller (a search whose stored config has a
// reevaluation section), in the order of its runs, from the results its trials have so far.
// Throws std::runtime_error when the search is not such a re-evaluation.
std::vector<ReevaluationRow> ReevaluationRowsFromStore(sql::Database& db, int64_t search_id);

// That table rendered in `format` (table, csv, json, jsonl): what `controller` and `local` print
// at the end of a served re-evaluation and `reevaluate --report` at any time.
std::string ServedReevaluationReport(sql::Database& db, int64_t search_id,
                                     const std::string& format = "table");

}  // namespace actsearch::cli
