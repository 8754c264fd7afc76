// Read-side queries about the searches of a results database: which search a name or an id
// means, what each search has done, whether its controller is alive, and the one write a
// reader may make: asking a live controller to stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/results_store.h"
#include "storage/sqlite.h"

namespace actsearch::storage {

struct SearchSummary {
  int64_t id = 0;
  std::string name;
  std::string kind;    // kSearchKindSearch, ...
  std::string status;  // as stored: running, finished, stopped, failed
  std::string config;  // text protobuf; empty for re-evaluations and standalone runs
  std::string end_reason;
  int64_t seed = 0;
  double started_at = 0;
  std::optional<double> ended_at;
  double active_seconds = 0;  // up to the last heartbeat of its controller
  std::string controller_host;
  int64_t controller_pid = 0;
  std::string controller_address;
  std::optional<double> heartbeat_at;
  bool stop_requested = false;
  int64_t candidates = 0;
  TrialCounts trials;
  std::optional<double> best_validation;
};

std::vector<SearchSummary> ListSearches(sql::Database& db);
std::optional<SearchSummary> FindSearchSummary(sql::Database& db, int64_t search_id);

// The status a user should see: the stored one, except that a running search is "stopping"
// once asked to stop, and "interrupted" when its controller is gone (no heartbeat for
// kControllerSilenceSeconds, or, on this host, its process no longer exists): resumable.
std::string LiveStatus(const SearchSummary& search, double now);

// How long controllers have run the search: its time budget's clock (a stopped search's
// downtime does not count), up to now for a live one.
double ActiveSeconds(const SearchSummary& search, double now);

// The search `name_or_id` names: an id (digits) or a name. Throws std::runtime_error naming
// the file and the searches it holds when there is none.
int64_t ResolveSearch(sql::Database& db, const std::string& name_or_id);

// Every search's id and name, in id order.
std::vector<std::pair<int64_t, std::string>> SearchNames(sql::Database& db);

// The newest search, or the newest not of `excluded_kind`; nullopt in an empty database.
std::optional<int64_t> LatestSearch(sql::Database& db, const std::string& excluded_kind = "");

// The newest checkpoint of `kind` of the search, read-only (the dashboard reads the
// scheduler's counters from it); nullopt when it has none.
std::optional<std::vector<uint8_t>> LatestCheckpointData(sql::Database& db, int64_t search_id,
                                                         const std::string& kind);

// The search's policy updates in order (empty for a strategy without a learned policy).
std::vector<PolicyUpdateRow> ListPolicyUpdates(sql::Database& db, int64_t search_id);

// Asks the search's live controller to stop (it drains and exits as on SIGTERM). Opens a
// writable connection of its own. False when the search is not running.
bool RequestStop(const std::string& db_path, int64_t search_id);

}  // namespace actsearch::storage
