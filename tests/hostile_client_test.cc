// An authenticated but hostile client against a live `actsearch controller` process (run by
// tests/fault_test.sh, which checks the database afterwards): it plays a token holder trying to
// take what is not its own, and a buggy worker reporting figures no training produces. Each
// call must be refused with its documented status and change nothing.
//   ACTSEARCH_CONTROLLER   host:port of the controller
//   ACTSEARCH_TOKEN        its token
//   OTHER_SEARCH_TRIAL     the id of a trial of another search in the same database
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>

#include "proto/controller.grpc.pb.h"

namespace actsearch {
namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) throw std::runtime_error(std::string("set $") + name);
  return value;
}

// One process's view of the controller: its registration and its calls.
class Client {
 public:
  Client()
      : stub_(proto::Controller::NewStub(grpc::CreateChannel(Environment("ACTSEARCH_CONTROLLER"),
                                                             grpc::InsecureChannelCredentials()))),
        token_(Environment("ACTSEARCH_TOKEN")) {}

  grpc::Status Register(const std::string& name) {
    proto::RegisterWorkerRequest request;
    request.set_name(name);
    request.set_device("cpu");
    return Call(&proto::Controller::Stub::RegisterWorker, request, &me_);
  }
  int64_t id() const { return me_.worker_id(); }
  const std::string& session() const { return me_.session(); }

  grpc::Status Acquire(int64_t worker_id, const std::string& session,
                       proto::AcquireTrialReply* reply) {
    proto::AcquireTrialRequest request;
    request.set_worker_id(worker_id);
    request.set_session(session);
    return Call(&proto::Controller::Stub::AcquireTrial, request, reply);
  }
  // Acquires as itself until it gets a trial.
  proto::Trial Lease() {
    for (int i = 0; i < 200; ++i) {
      proto::AcquireTrialReply reply;
      EXPECT_TRUE(Acquire(id(), session(), &reply).ok());
      if (reply.status() == proto::AcquireTrialReply::TRIAL) return reply.trial();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no trial offered";
    return {};
  }
  grpc::Status Heartbeat(int64_t worker_id, const std::string& session, int64_t trial_id,
                         proto::HeartbeatReply* reply) {
    proto::HeartbeatRequest request;
    request.set_worker_id(worker_id);
    request.set_session(session);
    request.set_trial_id(trial_id);
    return Call(&proto::Controller::Stub::Heartbeat, request, reply);
  }
  grpc::Status Report(int64_t worker_id, const std::string& session, int64_t trial_id,
                      const proto::TrialOutcome& outcome, bool* accepted = nullptr) {
    proto::ReportResultRequest request;
    request.set_worker_id(worker_id);
    request.set_session(session);
    request.set_trial_id(trial_id);
    *request.mutable_outcome() = outcome;
    proto::ReportResultReply reply;
    const grpc::Status status = Call(&proto::Controller::Stub::ReportResult, request, &reply);
    if (accepted != nullptr) *accepted = reply.accepted();
    return status;
  }
  grpc::Status Release(int64_t worker_id, const std::string& session, int64_t trial_id,
                       bool* released) {
    proto::ReleaseTrialRequest request;
    request.set_worker_id(worker_id);
    request.set_session(session);
    request.set_trial_id(trial_id);
    proto::ReleaseTrialReply reply;
    const grpc::Status status = Call(&proto::Controller::Stub::ReleaseTrial, request, &reply);
    *released = reply.released();
    return status;
  }

 private:
  template <typename Request, typename Reply, typename Method>
  grpc::Status Call(Method method, const Request& request, Reply* reply) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return (stub_.get()->*method)(&context, request, reply);
  }

  std::unique_ptr<proto::Controller::Stub> stub_;
  std::string token_;
  proto::RegisterWorkerReply me_;
};

// What the proxy child of fault_test.sh's search (300 steps) could report.
proto::TrialOutcome Sound(double accuracy = 0.75) {
  proto::TrialOutcome outcome;
  outcome.set_status(proto::TrialOutcome::DONE);
  outcome.set_validation_accuracy(accuracy);
  outcome.set_final_loss(0.5);
  outcome.set_steps(300);
  outcome.set_wall_seconds(0.1);
  outcome.set_device("cpu");
  return outcome;
}

#define EXPECT_CODE(call, code)                                                         \
  do {                                                                                  \
    const grpc::Status status_ = (call);                                                \
    EXPECT_EQ(status_.error_code(), grpc::StatusCode::code) << status_.error_message(); \
  } while (false)

TEST(HostileClient, CallsForAWorkerThatNeverRegisteredAreRefused) {
  Client stranger;
  for (const int64_t id : {int64_t{0}, int64_t{-1}, int64_t{424242}}) {
    proto::AcquireTrialReply offer;
    EXPECT_CODE(stranger.Acquire(id, "guess", &offer), PERMISSION_DENIED);
    proto::HeartbeatReply beat;
    EXPECT_CODE(stranger.Heartbeat(id, "guess", 1, &beat), PERMISSION_DENIED);
    EXPECT_CODE(stranger.Report(id, "guess", 1, Sound()), PERMISSION_DENIED);
    bool released = false;
    EXPECT_CODE(stranger.Release(id, "guess", 1, &released), PERMISSION_DENIED);
  }
}

TEST(HostileClient, ATokenHolderCannotTouchAnotherWorkersLease) {
  Client honest, mallory;
  ASSERT_TRUE(honest.Register("honest").ok());
  ASSERT_TRUE(mallory.Register("mallory").ok());
  EXPECT_NE(honest.session(), mallory.session());
  const proto::Trial trial = honest.Lease();

  // Acting under the honest worker's id, without its session.
  proto::AcquireTrialReply offer;
  EXPECT_CODE(mallory.Acquire(honest.id(), mallory.session(), &offer), PERMISSION_DENIED);
  EXPECT_CODE(mallory.Acquire(honest.id(), "", &offer), PERMISSION_DENIED);
  proto::HeartbeatReply beat;
  EXPECT_CODE(mallory.Heartbeat(honest.id(), "", trial.trial_id(), &beat), PERMISSION_DENIED);
  EXPECT_CODE(mallory.Report(honest.id(), mallory.session(), trial.trial_id(), Sound(1.0)),
              PERMISSION_DENIED);
  // Under its own identity, on a trial that is not its own.
  EXPECT_CODE(mallory.Report(mallory.id(), mallory.session(), trial.trial_id(), Sound(1.0)),
              FAILED_PRECONDITION);
  ASSERT_TRUE(mallory.Heartbeat(mallory.id(), mallory.session(), trial.trial_id(), &beat).ok());
  EXPECT_EQ(beat.action(), proto::HeartbeatReply::STOP) << "not its lease to renew";
  bool released = true;
  ASSERT_TRUE(mallory.Release(mallory.id(), mallory.session(), trial.trial_id(), &released).ok());
  EXPECT_FALSE(released);
  // Taking over the honest worker's name while it holds a live lease.
  Client impostor;
  EXPECT_CODE(impostor.Register("honest"), FAILED_PRECONDITION);

  // The honest worker is unaffected: its lease renews and its report counts.
  ASSERT_TRUE(honest.Heartbeat(honest.id(), honest.session(), trial.trial_id(), &beat).ok());
  EXPECT_EQ(beat.action(), proto::HeartbeatReply::CONTINUE);
  bool accepted = false;
  ASSERT_TRUE(
      honest.Report(honest.id(), honest.session(), trial.trial_id(), Sound(), &accepted).ok());
  EXPECT_TRUE(accepted);
}

TEST(HostileClient, AReportForATrialOutsideThisSearchIsNotFound) {
  Client worker;
  ASSERT_TRUE(worker.Register("outsider").ok());
  EXPECT_CODE(worker.Report(worker.id(), worker.session(), 99999999, Sound()), NOT_FOUND);
  const int64_t other = std::stoll(Environment("OTHER_SEARCH_TRIAL"));
  EXPECT_CODE(worker.Report(worker.id(), worker.session(), other, Sound()), NOT_FOUND);
}

TEST(HostileClient, ImpossibleFiguresAreRefusedAndTheTrialStaysOpen) {
  Client worker;
  ASSERT_TRUE(worker.Register("buggy").ok());
  const proto::Trial trial = worker.Lease();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double accuracy : {inf, -inf, std::nan(""), -0.5, 1.5}) {
    EXPECT_CODE(worker.Report(worker.id(), worker.session(), trial.trial_id(), Sound(accuracy)),
                INVALID_ARGUMENT);
  }
  proto::TrialOutcome too_long = Sound();
  too_long.set_steps(1000000);
  EXPECT_CODE(worker.Report(worker.id(), worker.session(), trial.trial_id(), too_long),
              INVALID_ARGUMENT);
  bool accepted = false;
  ASSERT_TRUE(
      worker.Report(worker.id(), worker.session(), trial.trial_id(), Sound(0.5), &accepted).ok());
  EXPECT_TRUE(accepted) << "the refusals left the trial open for a sound report";
  ASSERT_TRUE(
      worker.Report(worker.id(), worker.session(), trial.trial_id(), Sound(0.9), &accepted).ok());
  EXPECT_FALSE(accepted) << "a trial has one result";
}

TEST(HostileClient, RegisteringANameAgainEndsItsEarlierSession) {
  Client first, second;
  ASSERT_TRUE(first.Register("reused").ok());  // holds no lease: its name may be taken over
  ASSERT_TRUE(second.Register("reused").ok());
  EXPECT_EQ(first.id(), second.id()) << "one worker, by name";
  proto::AcquireTrialReply offer;
  EXPECT_CODE(first.Acquire(first.id(), first.session(), &offer), PERMISSION_DENIED);
  const proto::Trial trial = second.Lease();
  bool released = false;
  ASSERT_TRUE(second.Release(second.id(), second.session(), trial.trial_id(), &released).ok());
  EXPECT_TRUE(released);
}

}  // namespace
}  // namespace actsearch
