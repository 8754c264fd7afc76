#include "dashboard/dashboard_api.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "controller/stored_config.h"
#include "proto/controller.pb.h"
#include "proto/search_config.pb.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/probes.h"
#include "search_space/program.h"
#include "storage/leaderboard.h"
#include "storage/results_store.h"
#include "storage/schema.h"
#include "storage/search_queries.h"
#include "storage/trial_queries.h"
#include "storage/worker_queries.h"

namespace actsearch::dashboard {
namespace {

using nlohmann::json;

// A request parameter that is not what the endpoint takes: answered with 400.
struct BadParameter : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A search or trial that is not in the database: answered with 404.
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

HttpResponse Json(const json& value) { return {200, "application/json", value.dump()}; }

std::optional<std::string> Parameter(const HttpRequest& r, const std::string& name) {
  const auto found = r.query.find(name);
  if (found == r.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

// All of `text` read as a number by `read` (std::stoll or std::stod); nullopt if it is not.
template <class T, class Read>
std::optional<T> WholeNumber(const std::string& text, Read read) {
  try {
    size_t used = 0;
    const T value = read(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {  // not a number, or out of range
  }
  return std::nullopt;
}

int64_t IntegerParameter(const HttpRequest& r, const std::string& name, int64_t fallback,
                         int64_t low, int64_t high) {
  const std::optional<std::string> text = Parameter(r, name);
  if (!text) return fallback;
  const std::optional<int64_t> value = WholeNumber<int64_t>(
      *text, [](const std::string& t, size_t* used) { return std::stoll(t, used); });
  if (!value || *value < low || *value > high) {
    throw BadParameter("parameter " + name + ": expected an integer from " + std::to_string(low) +
                       " to " + std::to_string(high) + ", got '" + *text + "'");
  }
  return *value;
}

double NumberParameter(const HttpRequest& r, const std::string& name, double fallback) {
  const std::optional<std::string> text = Parameter(r, name);
  if (!text) return fallback;
  const std::optional<double> value = WholeNumber<double>(
      *text, [](const std::string& t, size_t* used) { return std::stod(t, used); });
  if (!value || !std::isfinite(*value)) {
    throw BadParameter("parameter " + name + ": expected a finite number, got '" + *text + "'");
  }
  return *value;
}

std::vector<std::string> ListParameter(const HttpRequest& r, const std::string& name) {
  std::vector<std::string> items;
  if (const std::optional<std::string> text = Parameter(r, name)) {
    std::stringstream list(*text);
    for (std::string item; std::getline(list, item, ',');) {
      if (!item.empty()) items.push_back(item);
    }
  }
  return items;
}

std::optional<int64_t> SearchParameter(sql::Database& db, const HttpRequest& r) {
  const std::optional<std::string> text = Parameter(r, "search");
  if (!text) return std::nullopt;
  try {
    return storage::ResolveSearch(db, *text);
  } catch (const std::runtime_error& error) {
    throw NotFound(error.what());
  }
}

json OptionalNumber(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

json CountsJson(const storage::TrialCounts& t) {
  return {{"queued", t.queued},
          {"leased", t.leased},
          {"done", t.done},
          {"diverged", t.diverged},
          {"stopped_early", t.stopped_early},
          {"failed", t.failed},
          {"screened", t.screened},
          {"trained", t.trained()}};
}

// What only the controller counts, from its newest checkpoint (at most a checkpoint interval
// old): proposals and repeats (proposals of a class already known). Null without one.
std::pair<json, json> ProposalsAndRepeats(sql::Database& db, int64_t search_id) {
  const std::optional<std::vector<uint8_t>> data =
      storage::LatestCheckpointData(db, search_id, storage::kSchedulerCheckpointKind);
  proto::SchedulerCheckpoint checkpoint;
  if (!data || !checkpoint.ParseFromArray(data->data(), static_cast<int>(data->size()))) {
    return {nullptr, nullptr};
  }
  return {checkpoint.proposed(), checkpoint.repeats()};
}

// The search's early stopping, from its stored config: the rule as one line of the config's
// text format, and whether evaluations judged averaged weights (a curve's points before a
// child's end are then the average's accuracy, not the child's own). Null without a rule.
json EarlyStoppingJson(const std::string& config_text) {
  const std::optional<proto::SearchConfig> config = controller::ParseStoredConfig(config_text);
  if (!config || !config->has_early_stopping()) return nullptr;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string rule;
  printer.PrintToString(config->early_stopping(), &rule);
  while (!rule.empty() && rule.back() == ' ') rule.pop_back();
  return {{"rule", rule}, {"averaged_weights", config->early_stopping().averaged_weights()}};
}

HttpResponse Searches(sql::Database& db) {
  const double now = storage::NowSeconds();
  json out = json::array();
  for (const storage::SearchSummary& s : storage::ListSearches(db)) {
    const auto [proposals, repeats] = ProposalsAndRepeats(db, s.id);
    out.push_back({{"id", s.id},
                   {"name", s.name},
                   {"kind", s.kind},
                   {"status", storage::LiveStatus(s, now)},
                   {"started_at", s.started_at},
                   {"ended_at", OptionalNumber(s.ended_at)},
                   {"active_seconds", storage::ActiveSeconds(s, now)},
                   {"candidates", s.candidates},
                   {"trials", CountsJson(s.trials)},
                   {"proposals", proposals},
                   {"repeats", repeats},
                   {"best_validation", OptionalNumber(s.best_validation)},
                   {"early_stopping", EarlyStoppingJson(s.config)},
                   {"end_reason", s.end_reason}});
  }
  return Json(out);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

HttpResponse Leaderboard(sql::Database& db, const HttpRequest& r) {
  storage::LeaderboardFilter filter;
  filter.search_id = SearchParameter(db, r);
  if (const std::vector<std::string> states = ListParameter(r, "state"); !states.empty()) {
    filter.states = states;
  }
  filter.operators = ListParameter(r, "operators");
  filter.min_trials = IntegerParameter(r, "min_trials", 1, 1, 1000000);
  filter.min_steps = IntegerParameter(r, "min_steps", 0, 0, 100000000);
  filter.top = IntegerParameter(r, "top", 50, 1, 100000);
  const std::string format = Parameter(r, "format").value_or("json");
  if (format != "json" && format != "csv") {
    throw BadParameter("parameter format: expected json or csv, got '" + format + "'");
  }
  std::vector<storage::LeaderboardRow> rows;
  try {
    rows = storage::QueryLeaderboard(db, filter);
  } catch (const sql::Error& error) {  // an unknown trial state
    throw BadParameter(error.what());
  }
  if (format == "csv") {
    std::string csv =
        "rank,expression,fingerprint,trials,validation_mean,validation_std,"
        "validation_best,test_mean,steps,model\n";
    for (const storage::LeaderboardRow& row : rows) {
      csv += std::to_string(row.rank) + "," + CsvField(row.expression) + "," + row.fingerprint +
             "," + std::to_string(row.trials) + "," + std::to_string(row.mean) + "," +
             std::to_string(row.stddev) + "," + std::to_string(row.best) + "," +
             (row.mean_test ? std::to_string(*row.mean_test) : "") + "," +
             std::to_string(row.steps) + "," + CsvField(row.model) + "\n";
    }
    return {200, "text/csv; charset=utf-8", csv};
  }
  json out = json::array();
  for (const storage::LeaderboardRow& row : rows) {
    out.push_back({{"rank", row.rank},
                   {"expression", row.expression},
                   {"fingerprint", row.fingerprint},
                   {"trials", row.trials},
                   {"validation_mean", row.mean},
                   {"validation_std", row.stddev},
                   {"validation_best", row.best},
                   {"test_mean", OptionalNumber(row.mean_test)},
                   {"steps", row.steps},
                   {"model", row.model}});
  }
  return Json(out);
}

json TrialJson(const storage::TrialInfo& t, bool whole) {
  json out = {{"id", t.trial_id},
              {"search_id", t.search_id},
              {"state", t.state},
              {"expression", t.expression},
              {"fingerprint", t.fingerprint},
              {"proposed_by", t.proposed_by},
              {"attempt", t.attempt},
              {"seed", t.seed},
              {"model", t.model},
              {"worker", t.worker},
              {"created_at", t.created_at},
              {"started_at", OptionalNumber(t.started_at)},
              {"finished_at", OptionalNumber(t.finished_at)},
              {"validation_accuracy", OptionalNumber(t.validation_accuracy)},
              {"test_accuracy", OptionalNumber(t.test_accuracy)},
              {"steps", t.steps},
              {"pruned", t.pruned},
              {"reward", OptionalNumber(t.reward)},
              {"wall_seconds", t.wall_seconds}};
  if (whole) {
    out["tokens"] = t.tokens;
    out["screen_reason"] = t.screen_reason;
    out["loss"] = OptionalNumber(t.loss);
    out["device"] = t.device;
    out["error"] = t.error;
    out["learning_curve"] = json::parse(t.learning_curve, nullptr, false);
  }
  return out;
}

HttpResponse Trials(sql::Database& db, const HttpRequest& r) {
  storage::TrialFilter filter;
  filter.search_id = SearchParameter(db, r);
  filter.states = ListParameter(r, "state");
  filter.expression_contains = Parameter(r, "contains").value_or("");
  filter.limit = IntegerParameter(r, "limit", 1000, 1, 1000000);
  std::vector<storage::TrialInfo> trials;
  try {
    trials = storage::ListTrials(db, filter);
  } catch (const sql::Error& error) {  // an unknown trial state
    throw BadParameter(error.what());
  }
  json out = json::array();
  for (const storage::TrialInfo& t : trials) out.push_back(TrialJson(t, false));
  return Json(out);
}

HttpResponse Trial(sql::Database& db, const std::string& id_text) {
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos) {
    throw BadParameter("a trial id is a number, got '" + id_text + "'");
  }
  const std::optional<storage::TrialInfo> trial = storage::FindTrial(db, std::stoll(id_text));
  if (!trial) throw NotFound("no trial " + id_text + " in this database");
  return Json(TrialJson(*trial, true));
}

HttpResponse Workers(sql::Database& db, const HttpRequest& r) {
  const double now = storage::NowSeconds();
  json out = json::array();
  for (const storage::WorkerInfo& w : storage::ListWorkers(db, SearchParameter(db, r), now)) {
    // Children per hour over the time it has worked: first lease to its last result.
    json rate = nullptr;
    if (w.first_lease && w.last_result && *w.last_result > *w.first_lease) {
      rate = 3600.0 * static_cast<double>(w.finished) / (*w.last_result - *w.first_lease);
    }
    out.push_back({{"name", w.name},
                   {"device", w.capabilities},
                   {"last_seen", w.last_seen},
                   {"seconds_since_seen", now - w.last_seen},
                   {"current_trial", w.current_trial ? json(*w.current_trial) : json(nullptr)},
                   {"current_expression", w.current_expression},
                   {"finished", w.finished},
                   {"finished_last_hour", w.finished_last_hour},
                   {"children_per_hour", rate}});
  }
  return Json(out);
}

HttpResponse Policy(sql::Database& db, const HttpRequest& r) {
  const std::optional<int64_t> search = SearchParameter(db, r);
  if (!search) throw BadParameter("parameter search: the search is required");
  json out = json::array();
  for (const storage::PolicyUpdateRow& u : storage::ListPolicyUpdates(db, *search)) {
    out.push_back({{"update", u.index},
                   {"entropy", u.entropy},
                   {"baseline", u.baseline},
                   {"mean_reward", u.mean_reward},
                   {"batch_size", u.batch_size},
                   {"recorded_at", u.recorded_at}});
  }
  return Json(out);
}

HttpResponse Function(const HttpRequest& r) {
  const std::optional<std::string> text = Parameter(r, "expr");
  if (!text) throw BadParameter("parameter expr: an expression is required");
  if (text->size() > 2000) throw BadParameter("parameter expr: longer than 2000 characters");
  Expr e;
  try {
    e = Parse(*text);
  } catch (const ParseError& error) {
    return {400, "application/json",
            json{{"error", error.what()}, {"position", error.position()}}.dump()};
  }
  const double from = NumberParameter(r, "from", -5), to = NumberParameter(r, "to", 5);
  const int64_t points = IntegerParameter(r, "points", 201, 2, 10001);
  if (!(from < to)) throw BadParameter("parameters from and to: from must be below to");
  const Program program(e);
  std::vector<double> x(points);
  for (int64_t i = 0; i < points; ++i) x[i] = from + (to - from) * i / (points - 1);
  const ProbeResult at = EvaluateAt(program, x, program.initial_betas());
  // JSON has no infinity or NaN: those points are null, a gap in a chart.
  auto finite = [](const std::vector<double>& v) {
    json out = json::array();
    for (double value : v) out.push_back(std::isfinite(value) ? json(value) : json(nullptr));
    return out;
  };
  return Json({{"expression", ToString(e)},
               {"betas", program.initial_betas()},
               {"x", x},
               {"y", finite(at.value)},
               {"dy", finite(at.slope)}});
}

}  // namespace

HttpResponse DashboardApi::Handle(const HttpRequest& request) const {
  const std::string& path = request.path;
  try {
    if (path == "/api/function") return Function(request);
    const bool known = path == "/api/searches" || path == "/api/leaderboard" ||
                       path == "/api/trials" || path == "/api/workers" || path == "/api/policy" ||
                       path.rfind("/api/trials/", 0) == 0;
    if (!known) return ErrorResponse(404, "no such endpoint: " + path);
    sql::Database db(db_path_, sql::OpenMode::kReadOnly);
    storage::CheckReadable(db);
    if (path == "/api/searches") return Searches(db);
    if (path == "/api/leaderboard") return Leaderboard(db, request);
    if (path == "/api/trials") return Trials(db, request);
    if (path == "/api/workers") return Workers(db, request);
    if (path == "/api/policy") return Policy(db, request);
    return Trial(db, path.substr(std::string("/api/trials/").size()));
  } catch (const BadParameter& error) {
    return ErrorResponse(400, error.what());
  } catch (const NotFound& error) {
    return ErrorResponse(404, error.what());
  }
}

}  // namespace actsearch::dashboard
