#include "cli/reevaluation_table.h"

#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>

#include "controller/search_config.h"
#include "storage/search_queries.h"
#include "worker/trainer.h"

namespace actsearch::cli {
namespace {

// Mean and sample standard deviation; the deviation needs two values, the mean one.
std::pair<Cell, Cell> MeanAndStd(const std::vector<double>& values, double scale) {
  if (values.empty()) return {std::monostate{}, std::monostate{}};
  double sum = 0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return {mean * scale, std::monostate{}};
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean * scale, std::sqrt(squares / static_cast<double>(values.size() - 1)) * scale};
}

}  // namespace

Table ReevaluationTable(const std::vector<ReevaluationRow>& rows, bool percent) {
  const double scale = percent ? 100.0 : 1.0;
  Table table({"rank", "activation", "mode", "model", percent ? "val%" : "validation_mean",
               percent ? "+-" : "validation_std", percent ? "test%" : "test_mean",
               percent ? "+-" : "test_std", "runs", "diverged", "spec"});
  for (const ReevaluationRow& row : rows) {
    // Diverged runs are counted, not averaged as 0.
    const auto [val_mean, val_std] = MeanAndStd(row.validation, scale);
    const auto [test_mean, test_std] = MeanAndStd(row.test, scale);
    // The table right-aligns a column whose first row holds a number; baselines come first,
    // without a rank: as text, every rank is aligned alike.
    Cell rank = std::monostate{};
    if (row.rank) rank = percent ? Cell(std::to_string(*row.rank)) : Cell(*row.rank);
    table.AddRow({rank, row.candidate, row.mode, row.model, val_mean, val_std, test_mean, test_std,
                  row.runs, row.diverged, row.spec});
  }
  return table;
}

std::vector<ReevaluationRow> ReevaluationRowsFromStore(sql::Database& db, int64_t search_id) {
  const std::optional<storage::SearchSummary> summary = storage::FindSearchSummary(db, search_id);
  const std::optional<proto::SearchConfig> config =
      summary ? controller::ParseStoredConfig(summary->config) : std::nullopt;
  if (!config || !config->has_reevaluation()) {
    throw std::runtime_error("search " + std::to_string(search_id) +
                             " is not a re-evaluation served by a controller");
  }
  const std::string& child_model = config->child().resnet().model();
  const std::string search_model = child_model.empty() ? worker::TrainOptions().model : child_model;
  std::vector<ReevaluationRow> rows;
  std::map<std::pair<std::string, std::string>, size_t> by_run;  // (spec, trial's model)
  for (const proto::Reevaluation::Run& run : config->reevaluation().runs()) {
    ReevaluationRow row;
    if (run.rank() > 0) row.rank = run.rank();
    row.candidate = run.candidate();
    row.mode = run.mode();
    row.spec = run.spec();
    row.model = run.model().empty() ? search_model : run.model();
    by_run.emplace(std::make_pair(run.spec(), run.model()), rows.size());
    rows.push_back(std::move(row));
  }
  sql::Statement results = db.Prepare(
      "SELECT c.expression, t.model, t.state, r.validation_accuracy, r.test_accuracy "
      "FROM trials t JOIN candidates c ON c.id = t.candidate_id "
      "JOIN results r ON r.trial_id = t.id WHERE c.search_id = ?1 ORDER BY t.id");
  results.Bind(1, search_id);
  while (results.Step()) {
    const auto found = by_run.find({results.Text(0), results.Text(1)});
    if (found == by_run.end()) continue;  // a run an earlier plan had
    ReevaluationRow& row = rows[found->second];
    ++row.runs;
    const std::string state = results.Text(2);
    if (state == "diverged") ++row.diverged;
    if (state != "done") continue;
    if (!results.IsNull(3)) row.validation.push_back(results.Double(3));
    if (!results.IsNull(4)) row.test.push_back(results.Double(4));
  }
  return rows;
}

std::string ServedReevaluationReport(sql::Database& db, int64_t search_id,
                                     const std::string& format) {
  return ReevaluationTable(ReevaluationRowsFromStore(db, search_id), format == "table")
      .Render(format, 2);
}

}  // namespace actsearch::cli
