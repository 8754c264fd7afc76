#include "storage/search_queries.h"

#include <unistd.h>

#include "storage/test_support.h"

namespace actsearch::storage {
namespace {

class SearchQueriesTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    store_ = std::make_unique<ResultsStore>(Path("s.db"));
  }

  int64_t AddTrial(int64_t search, const std::string& expression, TrialState state) {
    NewCandidate c;
    c.search_id = search;
    c.expression = expression;
    c.fingerprint = expression;
    c.proposed_by = "manual";
    const int64_t trial = store_->QueueTrial(store_->AddCandidate(c), 0);
    if (state != TrialState::kQueued) {
      TrialResult r;
      r.state = state;
      r.validation_accuracy = 0.5 + static_cast<double>(expression.size()) / 100;
      store_->RecordResult(trial, r);
    }
    return trial;
  }

  std::unique_ptr<ResultsStore> store_;
};

TEST_F(SearchQueriesTest, CountsEveryTrialStateApart) {
  const int64_t search = store_->CreateSearch("main", "space { units: 1 }", 1);
  AddTrial(search, "x", TrialState::kDone);
  AddTrial(search, "relu(x)", TrialState::kDone);
  AddTrial(search, "exp(exp(x))", TrialState::kDiverged);
  AddTrial(search, "sin(x)", TrialState::kFailed);
  AddTrial(search, "cos(x)", TrialState::kQueued);
  store_->RecordScreenedTrial(
      store_->AddCandidate({search, "x - x", "zero", "", "random", "constant", "constant", {}}));
  store_->FinishSearch(store_->CreateSearch("empty", "", 5), SearchStatus::kStopped, "why");
  const std::vector<SearchSummary> searches = ListSearches(store_->database());
  ASSERT_EQ(searches.size(), 2u);
  const TrialCounts& t = searches[0].trials;
  EXPECT_EQ(searches[0].candidates, 6);
  EXPECT_EQ(t.done, 2);
  EXPECT_EQ(t.diverged, 1);
  EXPECT_EQ(t.failed, 1);
  EXPECT_EQ(t.screened, 1);
  EXPECT_EQ(t.queued, 1);
  EXPECT_EQ(t.trained(), 4) << "screened candidates use no training";
  EXPECT_NEAR(*searches[0].best_validation, 0.57, 1e-12) << "done trials only";
  EXPECT_EQ(searches[1].status, "stopped");
  EXPECT_EQ(searches[1].end_reason, "why");
  EXPECT_FALSE(searches[1].best_validation.has_value());
}

TEST_F(SearchQueriesTest, ASearchIsNamedByIdOrName) {
  const int64_t a = store_->CreateSearch("alpha", "", 1);
  const int64_t b = store_->CreateSearch("42", "", 1);
  EXPECT_EQ(ResolveSearch(store_->database(), "alpha"), a);
  EXPECT_EQ(ResolveSearch(store_->database(), std::to_string(b)), b);
  try {
    ResolveSearch(store_->database(), "alpah");
    FAIL() << "an unknown name resolved";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no search named 'alpah' (it holds 1 'alpha', 2 '42')"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ResolveSearch(store_->database(), "9"), std::runtime_error);
}

TEST_F(SearchQueriesTest, TheLatestSearchCanSkipAKind) {
  EXPECT_FALSE(LatestSearch(store_->database()).has_value());
  const int64_t search = store_->CreateSearch("s", "space {}", 1);
  const int64_t reevaluation = store_->FindOrCreateSearch("r", kSearchKindReevaluation);
  EXPECT_EQ(LatestSearch(store_->database()), reevaluation);
  EXPECT_EQ(LatestSearch(store_->database(), kSearchKindReevaluation), search);
}

TEST_F(SearchQueriesTest, ActiveSecondsCountTheControllersTimeNotTheDowntime) {
  const int64_t search = store_->CreateSearch("s", "space {}", 1);
  auto summary = [&] { return *FindSearchSummary(store_->database(), search); };
  auto heartbeat_ago = [&](double seconds) {
    store_->database()
        .Prepare("UPDATE searches SET heartbeat_at = ?1")
        .Bind(1, NowSeconds() - seconds)
        .Run();
  };
  store_->ClaimSearch(search, "127.0.0.1:1");
  heartbeat_ago(5);
  store_->ControllerHeartbeat(search);
  EXPECT_NEAR(summary().active_seconds, 5, 0.5);
  heartbeat_ago(3);
  store_->FinishSearch(search, SearchStatus::kStopped);
  EXPECT_NEAR(summary().active_seconds, 8, 0.5);
  EXPECT_NEAR(ActiveSeconds(summary(), NowSeconds() + 1000), 8, 0.5) << "stopped: no clock";
  store_->database().Prepare("UPDATE searches SET started_at = started_at - 3600").Run();
  store_->ClaimSearch(search, "127.0.0.1:2");  // resumed an hour later
  EXPECT_NEAR(ActiveSeconds(summary(), NowSeconds() + 2), 10, 0.5) << "live: its clock runs";
  EXPECT_NEAR(store_->FindSearch("s")->active_seconds, 8, 0.5);
}

TEST_F(SearchQueriesTest, ALiveControllerIsToldFromAGoneOne) {
  const int64_t search = store_->CreateSearch("s", "space {}", 1);
  auto status = [&](double now) {
    return LiveStatus(*FindSearchSummary(store_->database(), search), now);
  };
  store_->ClaimSearch(search, "127.0.0.1:1");
  EXPECT_EQ(status(NowSeconds()), "running");
  EXPECT_EQ(status(NowSeconds() + kControllerSilenceSeconds + 1), "interrupted")
      << "no heartbeat for too long";
  store_->database()
      .Prepare("UPDATE searches SET controller_pid = ?1")
      .Bind(1, int64_t{999999999})
      .Run();
  EXPECT_EQ(status(NowSeconds()), "interrupted") << "its process is gone from this host";
  store_->ClaimSearch(search, "127.0.0.1:1");
  EXPECT_FALSE(store_->ControllerHeartbeat(search));
  EXPECT_TRUE(RequestStop(Path("s.db"), search));
  EXPECT_EQ(status(NowSeconds()), "stopping");
  EXPECT_TRUE(store_->ControllerHeartbeat(search)) << "the controller hears the request";
  store_->FinishSearch(search, SearchStatus::kStopped);
  EXPECT_EQ(status(NowSeconds()), "stopped");
  EXPECT_FALSE(RequestStop(Path("s.db"), search)) << "nothing running to stop";
  store_->ClaimSearch(search, "127.0.0.1:2");
  EXPECT_FALSE(store_->ControllerHeartbeat(search)) << "a resumed search starts afresh";
}

}  // namespace
}  // namespace actsearch::storage
