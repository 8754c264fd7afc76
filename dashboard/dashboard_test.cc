// The dashboard's API over a real results database, and its HTTP server over a real socket:
// what each endpoint returns, and that every bad path, parameter or request gets a 4xx.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard/dashboard_api.h"
#include "dashboard/http_server.h"
#include "proto/controller.pb.h"
#include "search_space/candidate_analysis.h"
#include "search_space/parser.h"
#include "storage/candidate_record.h"
#include "storage/results_store.h"
#include "storage/test_support.h"

namespace actsearch::dashboard {
namespace {

using nlohmann::json;

HttpRequest Get(const std::string& target) {
  HttpRequest r;
  EXPECT_TRUE(ParseTarget(target, &r)) << target;
  return r;
}

class DashboardApiTest : public storage::StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    db_ = Path("results.db");
    storage::ResultsStore store(db_);
    const int64_t search = store.CreateSearch(
        "proxy <b>bold</b>",
        "space { units: 1 } early_stopping { asha { eta: 3 } averaged_weights: true }", 1);
    const int64_t worker = store.RegisterWorker("gpu-0", "cuda:0");
    // Two classes trained, one of them twice; one trial still queued.
    for (const auto& [text, accuracy] : std::vector<std::pair<std::string, double>>{
             {"x * sigmoid(x)", 0.91}, {"x * sigmoid(x)", 0.89}, {"relu(x)", 0.88}}) {
      const int64_t candidate = store.AddCandidate(
          storage::CandidateRow(search, AnalyzeExpression(Parse(text)), "manual", ""));
      const int64_t trial = store.QueueTrial(candidate, 1);
      ASSERT_TRUE(store.LeaseTrial(trial, worker, storage::NowSeconds() + 60));
      storage::TrialResult result;
      result.validation_accuracy = accuracy;
      result.steps = 100;
      result.learning_curve = "[[50, 1.5, null], [100, 0.7, " + std::to_string(accuracy) + "]]";
      ASSERT_TRUE(store.RecordResult(trial, result));
      trial_ = trial;
    }
    proto::SchedulerCheckpoint checkpoint;
    checkpoint.set_proposed(9);
    checkpoint.set_repeats(5);
    const std::string bytes = checkpoint.SerializeAsString();
    store.SaveCheckpoint(search, storage::kSchedulerCheckpointKind, 1,
                         std::vector<uint8_t>(bytes.begin(), bytes.end()));
    store.RecordPolicyUpdate(search, {1, 2.5, 0.4, 0.5, 4, 0});
    store.RecordPolicyUpdate(search, {2, 2.25, 0.5, 0.7, 4, 0});
    store.RecordPolicyUpdate(search, {2, 2.0, 0.55, 0.75, 4, 0});  // a resumed search repeats
    store.QueueTrial(store.AddCandidate(storage::CandidateRow(
                         search, AnalyzeExpression(Parse("sin(x)")), "manual", "")),
                     1);
  }

  json Body(const std::string& target, int expected_status = 200) {
    const HttpResponse r = DashboardApi(db_).Handle(Get(target));
    EXPECT_EQ(r.status, expected_status) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::string db_;
  int64_t trial_ = 0;
};

TEST_F(DashboardApiTest, SearchesShowTheirTrialsByStateAndTheirBest) {
  const json searches = Body("/api/searches");
  ASSERT_EQ(searches.size(), 1u);
  EXPECT_EQ(searches[0]["name"], "proxy <b>bold</b>") << "names are data, never markup";
  EXPECT_EQ(searches[0]["trials"]["done"], 3);
  EXPECT_EQ(searches[0]["trials"]["queued"], 1);
  EXPECT_DOUBLE_EQ(searches[0]["best_validation"].get<double>(), 0.91);
  EXPECT_EQ(searches[0]["proposals"], 9) << "from the scheduler's checkpoint";
  EXPECT_EQ(searches[0]["repeats"], 5);
  EXPECT_EQ(searches[0]["early_stopping"]["rule"], "asha { eta: 3 } averaged_weights: true");
  EXPECT_EQ(searches[0]["early_stopping"]["averaged_weights"], true)
      << "a curve's points before the end are then the average's accuracy";
}

TEST_F(DashboardApiTest, TheLeaderboardRanksClassesAndExportsCsv) {
  const json rows = Body("/api/leaderboard?search=1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["expression"], "x * sigmoid(x)");
  EXPECT_EQ(rows[0]["trials"], 2);
  EXPECT_NEAR(rows[0]["validation_mean"].get<double>(), 0.90, 1e-9);
  EXPECT_EQ(Body("/api/leaderboard?search=1&min_trials=2").size(), 1u);
  EXPECT_EQ(Body("/api/leaderboard?operators=relu").size(), 1u);
  EXPECT_EQ(rows[0]["steps"], 100);
  EXPECT_EQ(Body("/api/leaderboard?min_steps=100").size(), 2u);
  EXPECT_EQ(Body("/api/leaderboard?min_steps=101").size(), 0u) << "fidelity: no result that long";
  const HttpResponse csv = DashboardApi(db_).Handle(Get("/api/leaderboard?format=csv"));
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.rfind("rank,expression,fingerprint,trials,validation_mean,validation_std,"
                           "validation_best,test_mean,steps,model\n",
                           0),
            0u)
      << "a header for every column: " << csv.body;
  EXPECT_EQ(rows[0]["model"], "") << "the search's own child";
  EXPECT_NE(csv.body.find("\n1,x * sigmoid(x),"), std::string::npos) << csv.body;
}

TEST_F(DashboardApiTest, ATrialComesWholeWithItsLearningCurve) {
  const json trial = Body("/api/trials/" + std::to_string(trial_));
  EXPECT_EQ(trial["expression"], "relu(x)");
  EXPECT_EQ(trial["worker"], "gpu-0");
  ASSERT_EQ(trial["learning_curve"].size(), 2u);
  EXPECT_EQ(trial["learning_curve"][1][0], 100);
  EXPECT_EQ(Body("/api/trials?search=1&state=queued").size(), 1u);
  EXPECT_EQ(Body("/api/trials?limit=2").size(), 2u);
  EXPECT_EQ(Body("/api/trials?contains=sigmoid").size(), 2u);
}

TEST_F(DashboardApiTest, WorkersSayWhatTheyTrainedAndWhenTheyWereSeen) {
  const json workers = Body("/api/workers?search=1");
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["name"], "gpu-0");
  EXPECT_EQ(workers[0]["device"], "cuda:0");
  EXPECT_EQ(workers[0]["finished"], 3);
  EXPECT_EQ(workers[0]["finished_last_hour"], 3);
  EXPECT_TRUE(workers[0]["current_trial"].is_null());
  EXPECT_LT(workers[0]["seconds_since_seen"].get<double>(), 60);
}

TEST_F(DashboardApiTest, ThePolicysUpdatesComeInOrderOncePerIndex) {
  const json updates = Body("/api/policy?search=1");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0]["update"], 1);
  EXPECT_DOUBLE_EQ(updates[1]["entropy"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(updates[1]["mean_reward"].get<double>(), 0.75);
  Body("/api/policy", 400);
}

TEST_F(DashboardApiTest, AFunctionComesWithItsDerivative) {
  const json f = Body("/api/function?expr=relu(x)&from=-1&to=1&points=3");
  EXPECT_EQ(f["x"], json::parse("[-1.0, 0.0, 1.0]"));
  EXPECT_EQ(f["y"], json::parse("[0.0, 0.0, 1.0]"));
  EXPECT_EQ(f["dy"], json::parse("[0.0, 0.0, 1.0]"));
  const json swish = Body("/api/function?expr=x+*+sigmoid(beta+*+x)&points=11");
  EXPECT_EQ(swish["betas"], json::parse("[1.0]"));
  EXPECT_EQ(swish["y"].size(), 11u);
  const json overflow = Body("/api/function?expr=exp(exp(x))&from=5&to=10&points=2");
  EXPECT_TRUE(overflow["y"][1].is_null()) << "infinity is a gap, not invalid JSON";
}

TEST_F(DashboardApiTest, BadRequestsGetA4xxThatSaysWhy) {
  const json parse = Body("/api/function?expr=x+*+%3Cscript%3E", 400);
  EXPECT_EQ(parse["position"], 4) << parse.dump();
  Body("/api/function", 400);
  Body("/api/function?expr=x&from=2&to=1", 400);
  Body("/api/function?expr=x&points=1", 400);
  Body("/api/function?expr=x&from=nan", 400);
  EXPECT_NE(Body("/api/leaderboard?top=ten", 400)["error"].get<std::string>().find("top"),
            std::string::npos);
  Body("/api/leaderboard?state=sleeping", 400);
  Body("/api/leaderboard?format=xml", 400);
  Body("/api/leaderboard?search=nosuch", 404);
  Body("/api/trials/99999", 404);
  Body("/api/trials/1;drop", 400);
  Body("/api/nothing", 404);
  Body("/etc/passwd", 404);
}

TEST(DashboardTarget, PathsAndQueriesAreDecodedAndMalformedOnesRefused) {
  HttpRequest r;
  ASSERT_TRUE(ParseTarget("/api/a%20b?x=1+2&y=%3C%3E&flag&x=3", &r));
  EXPECT_EQ(r.path, "/api/a b");
  EXPECT_EQ(r.query["x"], "3") << "the last of a repeated parameter";
  EXPECT_EQ(r.query["y"], "<>");
  EXPECT_EQ(r.query.count("flag"), 1u);
  EXPECT_FALSE(ParseTarget("/a%2", &r));
  EXPECT_FALSE(ParseTarget("/a?b=%zz", &r));
  EXPECT_FALSE(ParseTarget("http://elsewhere/", &r));
}

// A server on a free loopback port, answering with `handler`, until the test ends.
class RunningServer {
 public:
  RunningServer(const std::string& token, HttpHandler handler)
      : server_({"127.0.0.1:0", token, 2, nullptr}, std::move(handler)),
        thread_([this] { server_.Run(stop_); }) {}
  ~RunningServer() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return server_.port(); }

 private:
  std::atomic<bool> stop_{false};
  HttpServer server_;
  std::thread thread_;
};

struct Reply {
  int status;
  std::string body;
};

Reply Fetch(int port, boost::beast::http::verb method, const std::string& target,
            const std::string& authorization = "") {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  request.prepare_payload();
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return {static_cast<int>(response.result_int()), response.body()};
}

TEST(DashboardServer, AnswersOverHttpAndChecksMethodTargetAndToken) {
  using boost::beast::http::verb;
  RunningServer server("s3cret", [](const HttpRequest& r) {
    if (r.path == "/boom") throw std::runtime_error("handler failed");
    return HttpResponse{200, "text/plain", "path " + r.path};
  });
  const int port = server.port();
  EXPECT_EQ(Fetch(port, verb::get, "/x", "Bearer s3cret").body, "path /x");
  EXPECT_EQ(Fetch(port, verb::get, "/x?token=s3cret").status, 200);
  EXPECT_EQ(Fetch(port, verb::get, "/x").status, 401);
  EXPECT_EQ(Fetch(port, verb::get, "/x", "Bearer wrong").status, 401);
  EXPECT_EQ(Fetch(port, verb::post, "/x", "Bearer s3cret").status, 405);
  EXPECT_EQ(Fetch(port, verb::get, "/x%zz", "Bearer s3cret").status, 400);
  const Reply failed = Fetch(port, verb::get, "/boom", "Bearer s3cret");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("handler failed"), std::string::npos);
}

}  // namespace
}  // namespace actsearch::dashboard
