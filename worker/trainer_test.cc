#include "worker/trainer.h"

#include <gtest/gtest.h>

#include <set>

#include "worker/model_registry.h"
#include "worker/synthetic.h"

namespace actsearch::worker {
namespace {

const DatasetSplits& Synthetic() {
  static const DatasetSplits data = MakeSyntheticDataset(1200, 300, 4, 11);
  return data;
}

TrainOptions Small(const std::string& activation, int64_t steps) {
  TrainOptions o;
  o.activation = activation;
  o.profile = ProfileByName("test");
  o.profile.steps = steps;
  o.profile.eval_every = 0;
  o.model = "resnet8";
  o.seed = 3;
  return o;
}

TEST(Trainer, ATinyResNetLearnsTheSyntheticTask) {
  const TrainResult r = TrainChild(Synthetic(), Small("relu", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.6) << "chance is 0.25";
  ASSERT_TRUE(r.test_accuracy.has_value());
  EXPECT_GT(*r.test_accuracy, 0.6);
  EXPECT_EQ(r.steps, 120);
  EXPECT_FALSE(r.curve.empty());
}

TEST(Trainer, SwishLearnsToo) {
  const TrainResult r = TrainChild(Synthetic(), Small("x * sigmoid(beta * x)", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.6);
}

TEST(Trainer, AConstantActivationScoresNearChance) {
  const TrainResult r = TrainChild(Synthetic(), Small("beta", 120));
  EXPECT_EQ(r.status, TrainStatus::kDone);
  EXPECT_LT(r.validation_accuracy, 0.45);
}

TEST(Trainer, AnExplodingCandidateEndsAsDivergedNotACrash) {
  const TrainResult r = TrainChild(Synthetic(), Small("exp(exp(x))", 60));
  EXPECT_EQ(r.status, TrainStatus::kDiverged);
  EXPECT_EQ(r.validation_accuracy, 0.0);
  EXPECT_NE(r.error.find("non-finite"), std::string::npos) << r.error;
  EXPECT_LT(r.steps, 60);
}

TEST(Trainer, ASeededCpuRunRepeatsExactly) {
  TrainOptions o = Small("x * sigmoid(beta * x)", 30);
  o.profile.progress_every = 5;
  const TrainResult a = TrainChild(Synthetic(), o);
  const TrainResult b = TrainChild(Synthetic(), o);
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) EXPECT_EQ(a.curve[i].loss, b.curve[i].loss);
  EXPECT_EQ(a.validation_accuracy, b.validation_accuracy);
  o.seed = 4;
  const TrainResult c = TrainChild(Synthetic(), o);
  EXPECT_NE(a.curve.front().loss, c.curve.front().loss) << "another seed, another run";
}

TEST(Trainer, ReportsProgressAndStopsWhenAsked) {
  TrainOptions o = Small("relu", 50);
  o.profile.progress_every = 10;
  std::vector<int64_t> steps;
  const TrainResult r = TrainChild(Synthetic(), o, [&](const Progress& p) {
    steps.push_back(p.step);
    EXPECT_EQ(p.total_steps, 50);
    EXPECT_TRUE(std::isfinite(p.loss));
    return p.step < 30;  // the controller says stop after step 30
  });
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(r.status, TrainStatus::kStopped);
  EXPECT_EQ(r.steps, 30);
}

TEST(Trainer, AveragedWeightsChangeWhatEvaluationsJudgeNeverTheResult) {
  TrainOptions o = Small("x * sigmoid(beta * x)", 60);
  o.evaluate_at = {3, 6};  // early, while accuracy still moves
  const TrainResult current = TrainChild(Synthetic(), o);
  o.evaluate_averaged_weights = true;
  std::vector<double> judged;
  const TrainResult averaged = TrainChild(Synthetic(), o, [&](const Progress& p) {
    if (p.validation_accuracy) judged.push_back(*p.validation_accuracy);
    return true;
  });
  ASSERT_EQ(averaged.status, TrainStatus::kDone) << averaged.error;
  EXPECT_EQ(averaged.validation_accuracy, current.validation_accuracy);
  EXPECT_EQ(averaged.test_accuracy, current.test_accuracy);
  ASSERT_EQ(averaged.curve.size(), current.curve.size());
  int differs = 0;
  std::vector<double> evaluated;
  for (size_t i = 0; i < current.curve.size(); ++i) {
    const CurvePoint &a = averaged.curve[i], &c = current.curve[i];
    EXPECT_EQ(a.loss, c.loss) << "step " << c.step << ": the training itself is untouched";
    if (c.step == 3 || c.step == 6) {
      ASSERT_TRUE(a.validation_accuracy && a.current_weights_accuracy) << c.step;
      EXPECT_EQ(*a.current_weights_accuracy, *c.validation_accuracy) << c.step;
      evaluated.push_back(*a.validation_accuracy);
      differs += *a.validation_accuracy != *c.validation_accuracy;
    } else {
      EXPECT_FALSE(a.current_weights_accuracy) << c.step;
    }
  }
  EXPECT_GE(differs, 1) << "the averaged weights are other weights";
  EXPECT_EQ(judged, evaluated) << "what the search hears is the averaged weights' accuracy";
  EXPECT_EQ(averaged.curve.back().validation_accuracy, averaged.validation_accuracy);
}

TEST(Trainer, AWallClockLimitEndsTheTrialAsTimedOut) {
  TrainOptions o = Small("relu", 100000);
  o.time_limit_seconds = 0.5;
  const TrainResult r = TrainChild(Synthetic(), o);
  EXPECT_EQ(r.status, TrainStatus::kTimedOut);
  EXPECT_LT(r.steps, 100000);
  EXPECT_LT(r.wall_seconds, 30);
}

TEST(Trainer, TrainsAnyModelOfTheRegistry) {
  TrainOptions o = Small("x * sigmoid(beta * x)", 120);
  o.model = "preact-resnet8";
  const TrainResult r = TrainChild(Synthetic(), o);
  EXPECT_EQ(r.status, TrainStatus::kDone) << r.error;
  EXPECT_GT(r.validation_accuracy, 0.6) << "chance is 0.25";
  const ModelShape shape{Synthetic().train.images.size(1), Synthetic().num_classes};
  int64_t parameters = 0;
  for (const torch::Tensor& p :
       MakeModel(o.model, shape, MakeActivationFactory(o.activation)).ptr()->parameters()) {
    parameters += p.numel();
  }
  EXPECT_EQ(r.parameters, parameters);
  o.model = "resnet9";
  EXPECT_THROW(TrainChild(Synthetic(), o), std::invalid_argument);
}

// An activation with a 2-D parameter table, as a piecewise-linear unit has.
class PointTableActivationImpl : public torch::nn::Module {
 public:
  explicit PointTableActivationImpl(int64_t channels)
      : points_(register_parameter("points", torch::zeros({channels, 17}))) {}
  torch::Tensor forward(const torch::Tensor& x) { return x; }

 private:
  torch::Tensor points_;
};
TORCH_MODULE(PointTableActivation);

TEST(Trainer, WeightDecayReachesConvolutionAndLinearWeightsOnly) {
  torch::nn::AnyModule model = MakeModel("resnet8", {}, [](int64_t channels) {
    return torch::nn::AnyModule(PointTableActivation(channels));
  });
  std::set<const c10::TensorImpl*> decayed;
  for (const torch::Tensor& p : WeightDecayedParameters(*model.ptr())) {
    decayed.insert(p.unsafeGetTensorImpl());
  }
  int64_t weights = 0;
  for (const auto& p : model.ptr()->named_parameters()) {
    // stem.weight, stages.N.convK.weight, head.weight; not the BatchNorms, biases or points.
    const bool conv_or_linear_weight = p.key().size() > 7 &&
                                       p.key().compare(p.key().size() - 7, 7, ".weight") == 0 &&
                                       p.key().find("bn") == std::string::npos;
    EXPECT_EQ(decayed.count(p.value().unsafeGetTensorImpl()), conv_or_linear_weight ? 1u : 0u)
        << p.key();
    weights += conv_or_linear_weight;
  }
  EXPECT_EQ(weights, 8) << "stem, 3 blocks of 2 convolutions, head";
  EXPECT_EQ(decayed.size(), 8u);
}

TEST(TrainingProfile, WarmsUpThenDecaysToZero) {
  const TrainingProfile p = ProfileByName("paper");
  EXPECT_EQ(p.steps, 10000);
  EXPECT_EQ(p.batch_size, 128);
  EXPECT_LT(LearningRateAt(p, 0), 0.01);
  EXPECT_NEAR(LearningRateAt(p, 499), 0.1, 1e-9);
  EXPECT_LT(LearningRateAt(p, 9999), 1e-6);
  EXPECT_THROW(ProfileByName("fast"), std::invalid_argument);
}

}  // namespace
}  // namespace actsearch::worker
