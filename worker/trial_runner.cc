#include "worker/trial_runner.h"

#include <map>
#include <memory>

#include "search_space/parser.h"
#include "worker/child_budget.h"
#include "worker/data_source.h"
#include "worker/model_registry.h"
#include "worker/proxy_task.h"
#include "worker/training_profile.h"

namespace actsearch::worker {
namespace {

proto::Progress ToProto(const Progress& p) {
  proto::Progress out;
  out.set_step(p.step);
  out.set_total_steps(p.total_steps);
  out.set_loss(p.loss);
  if (p.validation_accuracy) out.set_validation_accuracy(*p.validation_accuracy);
  return out;
}

class Runner {
 public:
  explicit Runner(TrialRunnerOptions options) : options_(std::move(options)) {}

  proto::TrialOutcome operator()(const proto::Trial& trial,
                                 const std::function<bool(const proto::Progress&)>& keep_going) {
    const ProgressCallback progress = [&](const Progress& p) { return keep_going(ToProto(p)); };
    try {
      if (trial.child().has_proxy()) return ToTrialOutcome(TrainOnProxy(trial, progress));
      return ToTrialOutcome(TrainOnImages(trial, progress));
    } catch (const ParseError& error) {
      return FailedOutcome(options_.device, error.what(), /*candidate_at_fault=*/true);
    } catch (const std::exception& error) {
      return FailedOutcome(options_.device, error.what(), /*candidate_at_fault=*/false);
    }
  }

  std::string Preflight(const proto::Child& child) {
    if (child.has_proxy()) return "";
    try {
      const proto::ResNetChild& resnet = child.resnet();
      if (!resnet.model().empty()) CheckModelName(resnet.model());
      Dataset(resnet);
      return "";
    } catch (const std::exception& error) {
      return error.what();
    }
  }

 private:
  TrainResult TrainOnProxy(const proto::Trial& trial, const ProgressCallback& progress) {
    const proto::ProxyChild& child = trial.child().proxy();
    ProxyOptions o;
    if (child.steps() > 0) o.steps = child.steps();
    if (child.hidden() > 0) o.hidden = child.hidden();
    o.seed = trial.seed();
    o.time_limit_seconds = trial.time_limit_seconds();
    o.evaluate_at.assign(trial.evaluate_at().begin(), trial.evaluate_at().end());
    o.evaluate_averaged_weights = trial.evaluate_averaged_weights();
    // A proxy child is far too small to share among threads: more only adds overhead.
    torch::set_num_threads(1);
    return TrainProxy(trial.expression(), o, progress);
  }

  TrainResult TrainOnImages(const proto::Trial& trial, const ProgressCallback& progress) {
    const proto::ResNetChild& child = trial.child().resnet();
    TrainOptions o;
    o.activation = trial.expression();
    if (!child.model().empty()) o.model = child.model();
    o.profile = ChildProfile(child);
    o.device = options_.device;
    o.threads = options_.threads;
    o.seed = trial.seed();
    o.time_limit_seconds = trial.time_limit_seconds();
    o.evaluate_at.assign(trial.evaluate_at().begin(), trial.evaluate_at().end());
    o.evaluate_averaged_weights = trial.evaluate_averaged_weights();
    return TrainChild(Dataset(child), o, progress);
  }

  // Loaded once per worker for each (dataset, validation size, training images) a child names.
  const DatasetSplits& Dataset(const proto::ResNetChild& child) {
    const std::string spec = child.dataset().empty() ? "fashion-mnist" : child.dataset();
    const int64_t validation = child.validation() > 0 ? child.validation() : -1;
    const std::string key =
        spec + "#" + std::to_string(validation) + "#" + std::to_string(child.train_images());
    auto found = datasets_.find(key);
    if (found == datasets_.end()) {
      auto splits = std::make_shared<DatasetSplits>(LoadDataset(spec, validation));
      if (child.train_images() > 0) KeepTrainingImages(*splits, child.train_images());
      found = datasets_.emplace(key, std::move(splits)).first;
    }
    return *found->second;
  }

  TrialRunnerOptions options_;
  std::map<std::string, std::shared_ptr<DatasetSplits>> datasets_;
};

}  // namespace

TrialRunnerWithPreflight MakeTrialRunner(const TrialRunnerOptions& options) {
  auto runner = std::make_shared<Runner>(options);
  return {[runner](const proto::Trial& trial,
                   const std::function<bool(const proto::Progress&)>& keep_going) {
            return (*runner)(trial, keep_going);
          },
          [runner](const proto::Child& child) { return runner->Preflight(child); }};
}

}  // namespace actsearch::worker
