// The controller and its workers over real gRPC on loopback, in one process: fake workers that
// "train" instantly (the reward is a candidate's closeness to Swish), so that what is tested is
// dispatch: leases, retries, idempotent reports, tokens, graceful stop and resume.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "controller/controller_server.h"
#include "controller/local_search.h"
#include "controller/search_setup.h"
#include "proto/controller.grpc.pb.h"
#include "search_space/parser.h"
#include "storage/search_queries.h"
#include "storage/test_support.h"
#include "worker/worker_loop.h"

namespace actsearch {
namespace {

using controller::SearchEnd;

proto::SearchConfig SmallSearch(const std::string& strategy) {
  proto::SearchConfig config;
  config.set_name("dispatch test");
  config.mutable_space()->set_units(1);
  for (const char* op : {"identity", "neg", "tanh", "sigmoid", "beta"}) {
    config.mutable_space()->add_unary(op);
  }
  for (const char* op : {"add", "mul", "max"}) config.mutable_space()->add_binary(op);
  if (strategy == "exhaustive") config.mutable_strategy()->mutable_exhaustive();
  if (strategy == "random") config.mutable_strategy()->mutable_random();
  config.mutable_child()->mutable_proxy();
  config.mutable_dispatch()->set_lease_seconds(1.0);
  config.mutable_dispatch()->set_heartbeat_seconds(0.2);
  config.mutable_dispatch()->set_max_attempts(3);
  return config;
}

// An instant "training": the reward is the candidate's closeness to Swish.
proto::TrialOutcome InstantTraining(const proto::Trial& trial,
                                    const std::function<bool(const proto::Progress&)>&) {
  static const controller::RewardFunction reward =
      controller::ClosenessTo(Parse("x * sigmoid(beta * x)"));
  proto::TrialOutcome outcome;
  outcome.set_status(proto::TrialOutcome::DONE);
  outcome.set_validation_accuracy(reward(Parse(trial.expression())));
  outcome.set_steps(1);
  outcome.set_device("fake");
  return outcome;
}

// A controller serving `config` from `db`, run on its own thread.
class LoopbackController {
 public:
  LoopbackController(const proto::SearchConfig& config, const std::string& db,
                     const std::string& token = "secret")
      : setup_(config, db) {
    controller::ServiceOptions service = setup_.service_options();
    service.token = token;
    service.retry_after_seconds = 0.05;
    controller::ServerOptions options;
    options.expire_check_seconds = 0.1;
    options.checkpoint_seconds = 0.3;
    options.progress_seconds = 0;
    options.linger_seconds = 0.5;
    options.drain_seconds = 5;
    options.handle_signals = false;
    server_ = std::make_unique<controller::ControllerServer>(setup_.scheduler(), setup_.store(),
                                                             service, options);
    thread_ = std::thread([this] { end_ = server_->Run(); });
  }
  ~LoopbackController() { Join(); }

  SearchEnd Join() {
    if (thread_.joinable()) thread_.join();
    return end_;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  controller::ControllerServer& server() { return *server_; }
  controller::SearchSetup& setup() { return setup_; }

 private:
  controller::SearchSetup setup_;
  std::unique_ptr<controller::ControllerServer> server_;
  std::thread thread_;
  SearchEnd end_ = SearchEnd::kStopped;
};

worker::WorkerLoopOptions WorkerOptions(const std::string& address, const std::string& name,
                                        const std::string& token = "secret") {
  worker::WorkerLoopOptions o;
  o.controller = address;
  o.token = token;
  o.name = name;
  o.quiet = true;
  o.give_up_seconds = 5;
  return o;
}

// A bare client for the tests that play a misbehaving worker.
class RawClient {
 public:
  RawClient(const std::string& address, const std::string& token)
      : stub_(proto::Controller::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        token_(token) {}

  template <typename Request, typename Reply, typename Method>
  grpc::Status Call(Method method, const Request& request, Reply* reply) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token_);
    return (stub_.get()->*method)(&context, request, reply);
  }
  int64_t Register(const std::string& name) {
    proto::RegisterWorkerRequest request;
    request.set_name(name);
    proto::RegisterWorkerReply reply;
    EXPECT_TRUE(Call(&proto::Controller::Stub::RegisterWorker, request, &reply).ok());
    sessions_[reply.worker_id()] = reply.session();
    return reply.worker_id();
  }
  proto::AcquireTrialReply Acquire(int64_t worker_id) {
    proto::AcquireTrialRequest request;
    request.set_worker_id(worker_id);
    request.set_session(sessions_[worker_id]);
    proto::AcquireTrialReply reply;
    EXPECT_TRUE(Call(&proto::Controller::Stub::AcquireTrial, request, &reply).ok());
    return reply;
  }
  bool Report(int64_t worker_id, const proto::Trial& trial) {
    proto::ReportResultRequest request;
    request.set_worker_id(worker_id);
    request.set_session(sessions_[worker_id]);
    request.set_trial_id(trial.trial_id());
    *request.mutable_outcome() = InstantTraining(trial, nullptr);
    proto::ReportResultReply reply;
    EXPECT_TRUE(Call(&proto::Controller::Stub::ReportResult, request, &reply).ok());
    return reply.accepted();
  }

 private:
  std::unique_ptr<proto::Controller::Stub> stub_;
  std::string token_;
  std::map<int64_t, std::string> sessions_;  // by worker id, from registering
};

int64_t Count(sql::Database& db, const std::string& query) {
  sql::Statement statement = db.Prepare(query);
  statement.Step();
  return statement.Int(0);
}

class DispatchTest : public storage::StorageTest {
 protected:
  // Every trained trial has exactly one result, and no functional class was trained twice.
  void ExpectOneResultPerTrialAndClass(const std::string& path) {
    sql::Database db(path, sql::OpenMode::kReadOnly);
    EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state IN ('queued', 'leased')"), 0);
    EXPECT_EQ(Count(db,
                    "SELECT COUNT(*) FROM trials t LEFT JOIN results r ON r.trial_id = t.id "
                    "WHERE r.trial_id IS NULL"),
              0);
    EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials t JOIN candidates c ON c.id = t.candidate_id"),
              Count(db,
                    "SELECT COUNT(DISTINCT c.fingerprint) FROM trials t "
                    "JOIN candidates c ON c.id = t.candidate_id"));
  }
};

TEST_F(DispatchTest, FakeWorkersFinishAnExhaustiveSearchWithOneResultPerTrial) {
  LoopbackController controller(SmallSearch("exhaustive"), Path("search.db"));
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  std::vector<worker::WorkerExit> exits(4);
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&, i] {
      exits[i] = worker::RunWorkerLoop(WorkerOptions(controller.address(), "w" + std::to_string(i)),
                                       InstantTraining, stop);
    });
  }
  EXPECT_EQ(controller.Join(), SearchEnd::kFinished);
  for (auto& w : workers) w.join();
  for (worker::WorkerExit exit : exits) EXPECT_EQ(exit, worker::WorkerExit::kSearchFinished);
  ExpectOneResultPerTrialAndClass(Path("search.db"));
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_GT(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'done'"), 10);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM searches WHERE status = 'finished'"), 1);
}

TEST_F(DispatchTest, AWorkerThatVanishesMidTrialHasItsTrialFinishedByAnother) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(5);
  LoopbackController controller(config, Path("search.db"));
  RawClient vanishing(controller.address(), "secret");
  const proto::AcquireTrialReply taken = vanishing.Acquire(vanishing.Register("vanishing"));
  ASSERT_EQ(taken.status(), proto::AcquireTrialReply::TRIAL);
  // It never heartbeats nor reports: its lease (1 s) expires and the trial is requeued.
  std::atomic<bool> stop{false};
  EXPECT_EQ(
      worker::RunWorkerLoop(WorkerOptions(controller.address(), "survivor"), InstantTraining, stop),
      worker::WorkerExit::kSearchFinished);
  EXPECT_EQ(controller.Join(), SearchEnd::kFinished);
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  sql::Statement trial = db.Prepare("SELECT state, attempt FROM trials WHERE id = " +
                                    std::to_string(taken.trial().trial_id()));
  ASSERT_TRUE(trial.Step());
  EXPECT_EQ(trial.Text(0), "done");
  EXPECT_EQ(trial.Int(1), 2) << "leased once by the vanished worker, once by the survivor";
  ExpectOneResultPerTrialAndClass(Path("search.db"));
}

TEST_F(DispatchTest, AStoppedWorkerReleasesItsTrialAtOnce) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(3);
  config.mutable_dispatch()->set_lease_seconds(60);  // an expiry would take a minute
  config.mutable_dispatch()->set_heartbeat_seconds(30);
  LoopbackController controller(config, Path("search.db"));
  std::atomic<bool> stop{false};
  std::atomic<bool> training{false};
  const worker::TrialRunner until_stopped =
      [&](const proto::Trial& trial, const std::function<bool(const proto::Progress&)>& go_on) {
        training = true;
        while (go_on(proto::Progress())) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return InstantTraining(trial, go_on);
      };
  worker::WorkerExit exit{};
  std::thread worker([&] {
    exit = worker::RunWorkerLoop(WorkerOptions(controller.address(), "w"), until_stopped, stop);
  });
  while (!training) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;  // what SIGTERM does
  worker.join();
  EXPECT_EQ(exit, worker::WorkerExit::kStopped);
  {
    sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
    EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'queued' AND attempt = 0"), 1)
        << "given back without waiting for its lease, its attempt unused";
  }
  std::atomic<bool> no_stop{false};
  EXPECT_EQ(
      worker::RunWorkerLoop(WorkerOptions(controller.address(), "w2"), InstantTraining, no_stop),
      worker::WorkerExit::kSearchFinished);
  EXPECT_EQ(controller.Join(), SearchEnd::kFinished);
  ExpectOneResultPerTrialAndClass(Path("search.db"));
}

TEST_F(DispatchTest, EnvironmentFailuresInARowFailTheSearchAndLoseNoTrial) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(10);
  config.mutable_dispatch()->set_max_consecutive_failures(3);
  LoopbackController controller(config, Path("search.db"));
  const worker::TrialRunner broken = [](const proto::Trial&,
                                        const std::function<bool(const proto::Progress&)>&) {
    proto::TrialOutcome failed;
    failed.set_status(proto::TrialOutcome::FAILED);
    failed.set_error("/data/cifar: no such directory");
    return failed;  // not the candidate's fault
  };
  std::atomic<bool> stop{false};
  EXPECT_EQ(worker::RunWorkerLoop(WorkerOptions(controller.address(), "w"), broken, stop),
            worker::WorkerExit::kControllerStopped);
  EXPECT_EQ(controller.Join(), SearchEnd::kFailed);
  EXPECT_NE(controller.server().end_reason().find("3 trials in a row failed"), std::string::npos)
      << controller.server().end_reason();
  EXPECT_NE(controller.server().end_reason().find("/data/cifar: no such directory"),
            std::string::npos);
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_EQ(Count(db,
                  "SELECT COUNT(*) FROM searches WHERE status = 'failed' AND "
                  "end_reason LIKE '%no such directory%'"),
            1);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state IN ('failed', 'leased')"), 0)
      << "no candidate blamed, nothing left leased";
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'queued' AND last_error <> ''"), 3)
      << "three trials failed once each, and wait with their error";
}

TEST_F(DispatchTest, AStopRequestInTheDatabaseStopsTheController) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(1000);  // stopped long before
  LoopbackController controller(config, Path("search.db"));
  const worker::TrialRunner slow = [](const proto::Trial& trial,
                                      const std::function<bool(const proto::Progress&)>& go_on) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return InstantTraining(trial, go_on);
  };
  std::atomic<bool> stop{false};
  worker::WorkerExit exit{};
  std::thread worker(
      [&] { exit = worker::RunWorkerLoop(WorkerOptions(controller.address(), "w"), slow, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(storage::RequestStop(Path("search.db"), controller.setup().search_id()));
  EXPECT_EQ(controller.Join(), SearchEnd::kStopped);  // heard within a heartbeat (2 s)
  worker.join();
  EXPECT_EQ(exit, worker::WorkerExit::kControllerStopped);
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_EQ(Count(db,
                  "SELECT COUNT(*) FROM searches WHERE status = 'stopped' AND "
                  "heartbeat_at IS NULL AND stop_requested_at IS NOT NULL"),
            1);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'leased'"), 0);
}

TEST_F(DispatchTest, ALateReportOfARequeuedTrialIsCountedOnce) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(1);
  LoopbackController controller(config, Path("search.db"));
  RawClient slow(controller.address(), "secret"), fast(controller.address(), "secret");
  const int64_t slow_id = slow.Register("slow"), fast_id = fast.Register("fast");
  const proto::AcquireTrialReply first = slow.Acquire(slow_id);
  ASSERT_EQ(first.status(), proto::AcquireTrialReply::TRIAL);
  proto::AcquireTrialReply second;
  for (int i = 0; i < 100; ++i) {  // until the slow worker's lease has expired
    second = fast.Acquire(fast_id);
    if (second.status() == proto::AcquireTrialReply::TRIAL) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(second.status(), proto::AcquireTrialReply::TRIAL);
  EXPECT_EQ(second.trial().trial_id(), first.trial().trial_id());
  EXPECT_EQ(second.trial().attempt(), 2);
  EXPECT_TRUE(slow.Report(slow_id, first.trial())) << "the late report is the first: it counts";
  EXPECT_FALSE(fast.Report(fast_id, second.trial())) << "the second report is dropped";
  EXPECT_EQ(controller.Join(), SearchEnd::kFinished);
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM results"), 1);
}

TEST_F(DispatchTest, AWorkerWithAWrongTokenIsRefused) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(1);
  LoopbackController controller(config, Path("search.db"));
  std::atomic<bool> stop{false};
  EXPECT_EQ(worker::RunWorkerLoop(WorkerOptions(controller.address(), "intruder", "wrong"),
                                  InstantTraining, stop),
            worker::WorkerExit::kRefused);
  EXPECT_EQ(
      worker::RunWorkerLoop(WorkerOptions(controller.address(), "member"), InstantTraining, stop),
      worker::WorkerExit::kSearchFinished);
  controller.Join();
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM workers WHERE name = 'intruder'"), 0);
}

TEST_F(DispatchTest, AGracefulStopReleasesTrialsAndARestartFinishesTheSearch) {
  proto::SearchConfig config = SmallSearch("random");
  config.mutable_budget()->set_max_trials(6);
  std::atomic<bool> training{false};
  // A slow "training" that keeps reporting progress until told to stop.
  auto slow = [&](const proto::Trial& trial,
                  const std::function<bool(const proto::Progress&)>& keep_going) {
    training = true;
    for (int step = 0; step < 400 && keep_going(proto::Progress()); ++step) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return InstantTraining(trial, keep_going);
  };
  {
    LoopbackController controller(config, Path("search.db"));
    std::atomic<bool> stop{false};
    worker::WorkerExit exit{};
    std::thread worker([&] {
      exit = worker::RunWorkerLoop(WorkerOptions(controller.address(), "w"), slow, stop);
    });
    while (!training) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    controller.server().RequestStop();  // what SIGTERM does
    EXPECT_EQ(controller.Join(), SearchEnd::kStopped);
    worker.join();
    EXPECT_EQ(exit, worker::WorkerExit::kControllerStopped) << "stopped, not finished";
    sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
    EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'queued' AND attempt = 0"), 1)
        << "released, and its attempt given back";
    EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM searches WHERE status = 'stopped'"), 1);
  }
  LoopbackController resumed(config, Path("search.db"));
  EXPECT_TRUE(resumed.setup().resumed());
  std::atomic<bool> stop{false};
  EXPECT_EQ(worker::RunWorkerLoop(WorkerOptions(resumed.address(), "w"), InstantTraining, stop),
            worker::WorkerExit::kSearchFinished);
  EXPECT_EQ(resumed.Join(), SearchEnd::kFinished);
  ExpectOneResultPerTrialAndClass(Path("search.db"));
  sql::Database db(Path("search.db"), sql::OpenMode::kReadOnly);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM trials WHERE state = 'done'"), 6);
}

}  // namespace
}  // namespace actsearch
