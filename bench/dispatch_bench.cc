// Dispatch under load: one controller in-process on loopback and simulated workers whose
// "training" is instant, so that what is measured is the cost of handing a trial out and
// taking its result back (gRPC, the strand, the scheduler, the durable SQLite commits).
//
//   build/cpu/bench/dispatch_bench [--workers 64] [--trials 3000] [--units 2]
//
// Variants, each on a fresh results database in a temporary directory, in one run:
//   in-process             the Scheduler called directly from one thread, no gRPC: the reference
//   in-process, sync off   the same with PRAGMA synchronous = OFF: what the fsyncs cost
//   grpc, 1 client         one raw client: the unloaded round trip (also with sync off)
//   grpc, W clients        W raw clients, each its own connection: acquire -> report, each call
//                          timed with steady_clock
//   grpc, W clients, sync off
//   grpc, W worker loops   W threads running worker::RunWorkerLoop itself (a heartbeat thread
//                          per trial included); throughput only, its calls are not timed
//   grpc, W worker loops, sync off
// Throughput is the same for all: trials trained over the time from the first proposal
// (candidates.created_at) to the last result (results.recorded_at), read from the database.
// Exit status: 0; 1 if a client saw a failed call; 2 for bad flags.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "controller/controller_server.h"
#include "controller/search_setup.h"
#include "proto/controller.grpc.pb.h"
#include "worker/trial_outcome.h"
#include "worker/worker_loop.h"

namespace {

using namespace actsearch;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "bench-token";  // so that calls carry metadata as real ones do
constexpr int64_t kSingleClientTrials = 500;

struct Options {
  int workers = 64;
  int64_t trials = 3000;
  int units = 2;
};

// A strict positive integer in [1, max]; false for anything else.
bool ParseCount(const char* text, int64_t max, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > max) return false;
  *out = value;
  return true;
}

bool ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    int64_t value = 0;
    if (i + 1 >= argc) return false;
    if (flag == "--workers" && ParseCount(argv[i + 1], 4096, &value)) {
      o->workers = static_cast<int>(value);
    } else if (flag == "--trials" && ParseCount(argv[i + 1], 10'000'000, &value)) {
      o->trials = value;
    } else if (flag == "--units" && ParseCount(argv[i + 1], 5, &value)) {
      o->units = static_cast<int>(value);
    } else {
      return false;
    }
  }
  return true;
}

// Random search over every operator: a 2-unit space has far more classes than the budget, so
// the search ends on max_trials, not on an exhausted space.
proto::SearchConfig BenchConfig(int units, int64_t trials) {
  proto::SearchConfig config;
  config.set_name("dispatch bench");
  config.set_seed(1);
  config.mutable_space()->set_units(units);
  config.mutable_strategy()->mutable_random();
  config.mutable_child()->mutable_proxy();
  config.mutable_budget()->set_max_trials(trials);
  config.mutable_dispatch()->set_lease_seconds(120);
  config.mutable_dispatch()->set_heartbeat_seconds(10);
  return config;
}

// The instant "training": a cheap deterministic reward, so that clients spend no CPU the
// controller could use (they share its two cores).
proto::TrialOutcome InstantOutcome(const std::string& expression) {
  proto::TrialOutcome outcome;
  outcome.set_status(proto::TrialOutcome::DONE);
  outcome.set_validation_accuracy(static_cast<double>(expression.size() % 100) / 100);
  outcome.set_steps(1);
  outcome.set_device("fake");
  return outcome;
}

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

struct Result {
  std::string name;
  int clients = 0;
  int64_t trials = 0;  // trained (done) trials in the database
  double seconds = 0;  // first proposal to last result
  double commits_per_trial = 0;
  int64_t waits = 0, errors = 0;
  std::vector<double> acquire_ms, report_ms;  // per call; acquires answered with a trial only
  bool timed_calls = false;

  double per_second() const { return seconds > 0 ? static_cast<double>(trials) / seconds : 0; }
};

double QueryReal(sql::Database& db, const char* query) {
  sql::Statement statement = db.Prepare(query);
  statement.Step();
  return statement.Double(0);
}

// Throughput and commits from what the search left in its database. Commits per trained trial
// counts each candidate, each trial row (queued, or screened with its result), each lease and
// each result as one transaction, as ResultsStore writes them.
void ReadDatabase(storage::ResultsStore& store, Result* r) {
  sql::Database& db = store.database();
  r->trials =
      static_cast<int64_t>(QueryReal(db, "SELECT COUNT(*) FROM trials WHERE state = 'done'"));
  r->seconds = QueryReal(db,
                         "SELECT (SELECT MAX(r.recorded_at) FROM results r JOIN trials t "
                         "ON t.id = r.trial_id WHERE t.state = 'done') - "
                         "(SELECT MIN(created_at) FROM candidates)");
  const double commits =
      QueryReal(db,
                "SELECT (SELECT COUNT(*) FROM candidates) + (SELECT COUNT(*) FROM trials) + "
                "(SELECT COALESCE(SUM(attempt), 0) FROM trials) + "
                "(SELECT COUNT(*) FROM trials WHERE state = 'done')");
  r->commits_per_trial = r->trials > 0 ? commits / static_cast<double>(r->trials) : 0;
}

// A fresh results database per variant, in one temporary directory removed at exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "actsearch-dispatch-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string Db(const std::string& name) const { return (path_ / (name + ".db")).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The reference: the scheduler's own calls, one at a time, on this thread (the strand's work
// without the strand, the network or the protobuf).
Result RunInProcess(const Options& o, const std::string& db, bool durable) {
  Result r;
  r.name = durable ? "in-process (reference)" : "in-process, sync off";
  r.clients = 1;
  r.timed_calls = true;
  controller::SearchSetup setup(BenchConfig(o.units, o.trials), db);
  if (!durable) setup.store().database().Execute("PRAGMA synchronous = OFF");
  controller::Scheduler& scheduler = setup.scheduler();
  const int64_t worker_id = setup.store().RegisterWorker("in-process", "fake");
  while (true) {
    const Clock::time_point t0 = Clock::now();
    const controller::Assignment assignment = scheduler.Acquire(worker_id, storage::NowSeconds());
    const Clock::time_point t1 = Clock::now();
    if (assignment.kind == controller::Assignment::Kind::kFinished) break;
    if (assignment.kind == controller::Assignment::Kind::kWait) {  // a long run of repeats
      ++r.waits;
      continue;
    }
    r.acquire_ms.push_back(Milliseconds(t1 - t0));
    scheduler.Report(worker_id, assignment.trial.trial_id,
                     worker::ToTrialResult(InstantOutcome(assignment.trial.expression)));
    r.report_ms.push_back(Milliseconds(Clock::now() - t1));
  }
  ReadDatabase(setup.store(), &r);
  return r;
}

// A worker reduced to its calls, on its own connection (channels with equal arguments would
// otherwise share one TCP connection from gRPC's global pool; real workers are processes).
class RawWorker {
 public:
  explicit RawWorker(const std::string& address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stub_ = proto::Controller::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }

  template <typename Request, typename Reply, typename Method>
  grpc::Status Call(Method method, const Request& request, Reply* reply) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", std::string("Bearer ") + kToken);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return (stub_.get()->*method)(&context, request, reply);
  }

  // Acquire -> report until the controller says finished; each call timed.
  void Loop(const proto::RegisterWorkerReply& registration, Result* r) {
    const int64_t worker_id = registration.worker_id();
    while (true) {
      proto::AcquireTrialRequest ask;
      ask.set_worker_id(worker_id);
      ask.set_session(registration.session());
      proto::AcquireTrialReply offer;
      const Clock::time_point t0 = Clock::now();
      grpc::Status status = Call(&proto::Controller::Stub::AcquireTrial, ask, &offer);
      const Clock::time_point t1 = Clock::now();
      if (!status.ok()) {
        ++r->errors;
        return;
      }
      if (offer.status() == proto::AcquireTrialReply::FINISHED) return;
      if (offer.status() == proto::AcquireTrialReply::WAIT) {  // the budget is all handed out
        ++r->waits;
        std::this_thread::sleep_for(std::chrono::duration<double>(offer.retry_after_seconds()));
        continue;
      }
      r->acquire_ms.push_back(Milliseconds(t1 - t0));
      proto::ReportResultRequest report;
      report.set_worker_id(worker_id);
      report.set_session(registration.session());
      report.set_trial_id(offer.trial().trial_id());
      *report.mutable_outcome() = InstantOutcome(offer.trial().expression());
      proto::ReportResultReply receipt;
      const Clock::time_point t2 = Clock::now();
      status = Call(&proto::Controller::Stub::ReportResult, report, &receipt);
      if (!status.ok()) {
        ++r->errors;
        return;
      }
      r->report_ms.push_back(Milliseconds(Clock::now() - t2));
    }
  }

 private:
  std::unique_ptr<proto::Controller::Stub> stub_;
};

// A controller as the `controller` command runs it, without signals or progress reports,
// serving until the search is finished. Lingering less than the retry-after (1 s) would leave
// workers that were told to wait polling a closed port until they gave up.
class BenchController {
 public:
  BenchController(const Options& o, int64_t trials, const std::string& db, bool durable)
      : setup_(BenchConfig(o.units, trials), db) {
    if (!durable) setup_.store().database().Execute("PRAGMA synchronous = OFF");
    controller::ServiceOptions service = setup_.service_options();
    service.token = kToken;
    controller::ServerOptions options;
    options.progress_seconds = 0;
    options.handle_signals = false;
    server_ = std::make_unique<controller::ControllerServer>(setup_.scheduler(), setup_.store(),
                                                             service, options);
    thread_ = std::thread([this] { end_ = server_->Run(); });
  }
  ~BenchController() { Join(); }

  controller::SearchEnd Join() {
    if (thread_.joinable()) thread_.join();
    return end_;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  storage::ResultsStore& store() { return setup_.store(); }

 private:
  controller::SearchSetup setup_;
  std::unique_ptr<controller::ControllerServer> server_;
  std::thread thread_;
  controller::SearchEnd end_ = controller::SearchEnd::kStopped;
};

// `clients` raw workers: all register first, then start together.
Result RunRawClients(const Options& o, int clients, int64_t trials, const std::string& db,
                     bool durable) {
  Result r;
  r.name = "grpc, " + std::to_string(clients) + (clients == 1 ? " client" : " clients") +
           (durable ? "" : ", sync off");
  r.clients = clients;
  r.timed_calls = true;
  BenchController controller(o, trials, db, durable);
  std::vector<Result> per_client(clients);
  std::mutex mutex;
  std::condition_variable changed;
  int registered = 0;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      RawWorker worker(controller.address());
      proto::RegisterWorkerRequest hello;
      hello.set_name("raw-" + std::to_string(i));
      hello.set_device("fake");
      proto::RegisterWorkerReply registration;
      const bool ok =
          worker.Call(&proto::Controller::Stub::RegisterWorker, hello, &registration).ok();
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++registered;
        changed.notify_all();
        changed.wait(lock, [&] { return go; });
      }
      if (!ok) {
        ++per_client[i].errors;
        return;
      }
      worker.Loop(registration, &per_client[i]);
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return registered == clients; });
    go = true;
  }
  changed.notify_all();
  for (std::thread& t : threads) t.join();
  controller.Join();
  for (const Result& c : per_client) {
    r.acquire_ms.insert(r.acquire_ms.end(), c.acquire_ms.begin(), c.acquire_ms.end());
    r.report_ms.insert(r.report_ms.end(), c.report_ms.begin(), c.report_ms.end());
    r.waits += c.waits;
    r.errors += c.errors;
  }
  ReadDatabase(controller.store(), &r);
  return r;
}

// The real worker loop, with the instant runner in place of training.
Result RunWorkerLoops(const Options& o, const std::string& db, bool durable) {
  Result r;
  r.name = "grpc, " + std::to_string(o.workers) + " worker loops" + (durable ? "" : ", sync off");
  r.clients = o.workers;
  BenchController controller(o, o.trials, db, durable);
  const worker::TrialRunner instant = [](const proto::Trial& trial,
                                         const std::function<bool(const proto::Progress&)>&) {
    return InstantOutcome(trial.expression());
  };
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < o.workers; ++i) {
    threads.emplace_back([&, i] {
      worker::WorkerLoopOptions options;
      options.controller = controller.address();
      options.token = kToken;
      options.name = "loop-" + std::to_string(i);
      options.device = "fake";
      options.quiet = true;
      options.give_up_seconds = 10;
      if (worker::RunWorkerLoop(options, instant, stop) != worker::WorkerExit::kSearchFinished) {
        ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  controller.Join();
  r.errors = failed;
  ReadDatabase(controller.store(), &r);
  return r;
}

void PrintCall(const std::string& name, const char* call, const std::vector<double>& ms) {
  std::printf("%-30s %-8s %8zu %10.3f %10.3f %10.3f\n", name.c_str(), call, ms.size(),
              Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 0.99));
}

std::string JsonCall(const std::vector<double>& ms) {
  char text[160];
  std::snprintf(text, sizeof text,
                "{\"n\": %zu, \"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f}", ms.size(),
                Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 0.99));
  return text;
}

// The disk's own fsync latency, in the databases' directory, at the time of the run: what each
// durable commit waits for at least (the disk is shared, so it varies from run to run).
std::vector<double> FsyncLatencies(const std::string& path, int count) {
  std::vector<double> ms;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return ms;
  const std::string page(4096, 'x');
  for (int i = 0; i < count; ++i) {
    if (write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size())) break;
    const Clock::time_point start = Clock::now();
    if (fsync(fd) != 0) break;
    ms.push_back(Milliseconds(Clock::now() - start));
  }
  close(fd);
  unlink(path.c_str());
  return ms;
}

// The CPUs this process may run on. With OMP_PROC_BIND=true, libgomp binds the initial thread
// to one place when it loads, and every thread started later inherits that: the controller,
// gRPC and all the clients then share one CPU.
int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Options o;
  if (!ParseFlags(argc, argv, &o)) {
    std::fprintf(stderr, "usage: %s [--workers N (1-4096)] [--trials N] [--units N (1-5)]\n",
                 argv[0]);
    return 2;
  }
  const TempDir dir;
  const int cpus = UsableCpus();
  std::printf("dispatch: %d workers, %lld trials, random search over %d units; databases in %s\n",
              o.workers, static_cast<long long>(o.trials), o.units, dir.path().c_str());
  std::printf("this process may run on %d of %u CPUs%s\n", cpus,
              std::thread::hardware_concurrency(),
              cpus == 1 ? " (pinned: OMP_PROC_BIND set?)" : "");
  std::printf(
      "(WAL, synchronous = FULL unless \"sync off\"; one unloaded client runs %lld trials)\n\n",
      static_cast<long long>(std::min(o.trials, kSingleClientTrials)));

  const std::vector<double> fsync_ms = FsyncLatencies(dir.Db("fsync-probe"), 200);
  std::printf("fsync of a 4 KiB write here: median %.3f ms, p90 %.3f ms\n\n",
              Percentile(fsync_ms, 0.5), Percentile(fsync_ms, 0.9));

  std::vector<Result> results;
  results.push_back(RunInProcess(o, dir.Db("in-process"), /*durable=*/true));
  results.push_back(RunInProcess(o, dir.Db("in-process-off"), /*durable=*/false));
  results.push_back(RunRawClients(o, 1, std::min(o.trials, kSingleClientTrials), dir.Db("one"),
                                  /*durable=*/true));
  results.push_back(RunRawClients(o, 1, std::min(o.trials, kSingleClientTrials), dir.Db("one-off"),
                                  /*durable=*/false));
  results.push_back(RunRawClients(o, o.workers, o.trials, dir.Db("raw"), /*durable=*/true));
  results.push_back(RunRawClients(o, o.workers, o.trials, dir.Db("raw-off"), /*durable=*/false));
  results.push_back(RunWorkerLoops(o, dir.Db("loops"), /*durable=*/true));
  results.push_back(RunWorkerLoops(o, dir.Db("loops-off"), /*durable=*/false));
  const Result& reference = results[0];
  const Result& unloaded = results[2];
  const Result& loaded = results[4];

  std::printf("%-30s %7s %7s %8s %9s %8s %8s %6s %6s\n", "variant", "clients", "trials", "seconds",
              "trials/s", "vs ref", "commits", "waits", "errors");
  for (const Result& r : results) {
    std::printf("%-30s %7d %7lld %8.2f %9.0f %7.2fx %8.2f %6lld %6lld\n", r.name.c_str(), r.clients,
                static_cast<long long>(r.trials), r.seconds, r.per_second(),
                r.per_second() / reference.per_second(), r.commits_per_trial,
                static_cast<long long>(r.waits), static_cast<long long>(r.errors));
  }
  std::printf("\n%-30s %-8s %8s %10s %10s %10s\n", "variant", "call", "calls", "median ms",
              "p90 ms", "p99 ms");
  for (const Result& r : results) {
    if (!r.timed_calls) continue;
    PrintCall(r.name, "acquire", r.acquire_ms);
    PrintCall(r.name, "report", r.report_ms);
  }

  // What a worker waits between two children: one acquire and one report.
  const double idle_unloaded_ms =
      Percentile(unloaded.acquire_ms, 0.5) + Percentile(unloaded.report_ms, 0.5);
  const double idle_loaded_ms =
      Percentile(loaded.acquire_ms, 0.5) + Percentile(loaded.report_ms, 0.5);
  std::printf(
      "\ndispatch per trial (median acquire + report): %.3f ms unloaded, %.3f ms with %d "
      "clients\n",
      idle_unloaded_ms, idle_loaded_ms, o.workers);
  std::printf("%-32s %8s %12s %12s %10s\n", "child", "seconds", "unloaded", "saturated", "load");
  struct Child {
    const char* name;
    double seconds;
  };
  for (const Child& child :
       {Child{"proxy (spirals MLP), fast end", 0.05}, Child{"proxy (spirals MLP), slow end", 0.2},
        Child{"ResNet-20 1500 steps, H100", 16}, Child{"Fashion-MNIST quick, this CPU", 60}}) {
    // unloaded/saturated: the dispatch time per trial as a fraction of one child's training.
    // load: the trials per second `workers` such children ask for, over what the controller
    // completes when saturated (above 100%, workers queue at the controller).
    std::printf("%-32s %8.2f %11.4f%% %11.4f%% %9.1f%%\n", child.name, child.seconds,
                100 * idle_unloaded_ms / 1000 / child.seconds,
                100 * idle_loaded_ms / 1000 / child.seconds,
                100 * o.workers / child.seconds / loaded.per_second());
  }

  std::printf(
      "\n{\"bench\": \"dispatch\", \"workers\": %d, \"trials\": %lld, \"units\": %d, "
      "\"cpus\": %d, \"fsync\": %s, \"variants\": [",
      o.workers, static_cast<long long>(o.trials), o.units, cpus, JsonCall(fsync_ms).c_str());
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    std::printf(
        "%s{\"name\": \"%s\", \"clients\": %d, \"trials\": %lld, \"seconds\": %.4f, "
        "\"trials_per_second\": %.1f, \"commits_per_trial\": %.3f, \"waits\": %lld, "
        "\"errors\": %lld",
        i ? ", " : "", r.name.c_str(), r.clients, static_cast<long long>(r.trials), r.seconds,
        r.per_second(), r.commits_per_trial, static_cast<long long>(r.waits),
        static_cast<long long>(r.errors));
    if (r.timed_calls) {
      std::printf(", \"acquire\": %s, \"report\": %s", JsonCall(r.acquire_ms).c_str(),
                  JsonCall(r.report_ms).c_str());
    }
    std::printf("}");
  }
  std::printf("]}\n");
  int64_t errors = 0;
  for (const Result& r : results) errors += r.errors;
  return errors == 0 ? 0 : 1;
}
