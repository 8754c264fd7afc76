// Does the PPO controller learn? PPO against random search on a 2-unit space whose best
// candidates are known: the reward is a candidate's closeness to a target function, and the
// whole space is enumerated first to find the top classes.
//
//   build/cpu/bench/search_bench [--seeds 5] [--budget 2000] [--top 10] [--lr 0.005]
//                                [--entropy 1e-5]
//
// For each seed, each strategy runs until it evaluates one of the top classes or spends the
// budget (evaluations: distinct, unscreened candidates; repeats and screened candidates are
// free, as in a real search). Reported: evaluations to reach the top, per seed and median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/local_search.h"
#include "controller/ppo_strategy.h"
#include "controller/random_strategy.h"
#include "search_space/fingerprint.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "search_space/screening.h"

namespace {

using namespace actsearch;
using namespace actsearch::controller;

int64_t Median(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as each run ends
  int seeds = 5, top = 10;
  int64_t budget = 2000;
  double lr = 0.005, entropy = 1e-5;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--seeds N] [--budget N] [--top N] [--lr X] [--entropy X]\n",
                   argv[0]);
      return 2;
    }
    if (flag == "--seeds")
      seeds = std::stoi(argv[++i]);
    else if (flag == "--budget")
      budget = std::stoll(argv[++i]);
    else if (flag == "--top")
      top = std::stoi(argv[++i]);
    else if (flag == "--lr")
      lr = std::stod(argv[++i]);
    else if (flag == "--entropy")
      entropy = std::stod(argv[++i]);
    else
      return 2;
  }
  const Space space(SpaceSpec{2, ParseUnaryList("identity,neg,square,tanh,sigmoid,sin,relu"),
                              ParseBinaryList("add,sub,mul,max,min")});
  const Expr target = Parse("tanh(x) * max(x, sin(x))");
  const RewardFunction reward = ClosenessTo(target);

  // Ground truth: the reward of every functional class of the space.
  std::unordered_map<Fingerprint, std::pair<double, std::string>> classes;
  for (uint64_t index = 0; index < *space.size(); ++index) {
    const Expr e = space.Decode(space.TokensAt(index));
    const Program program(e);
    if (!Screen(program).accepted()) continue;
    const Fingerprint f = ComputeFingerprint(program);
    if (!classes.count(f)) classes.emplace(f, std::make_pair(reward(e), ToString(e)));
  }
  std::vector<double> rewards;
  for (const auto& entry : classes) rewards.push_back(entry.second.first);
  std::sort(rewards.rbegin(), rewards.rend());
  const double threshold = rewards[std::min<size_t>(top, rewards.size()) - 1];

  std::printf("space: 2 units, %llu sequences, %zu distinct accepted classes\n",
              static_cast<unsigned long long>(*space.size()), classes.size());
  std::printf("reward: closeness to %s; top %d classes have reward >= %.4f\n",
              ToString(target).c_str(), top, threshold);
  std::printf(
      "budget: %lld evaluations; PPO: learning rate %g, batch 20, 4 epochs, clip 0.2, "
      "entropy weight %g, baseline EMA 0.95\n\n",
      static_cast<long long>(budget), lr, entropy);
  std::printf("%-6s %-8s %14s %12s %10s\n", "seed", "strategy", "evals to top", "best", "seconds");

  std::map<std::string, std::vector<int64_t>> to_top;
  for (int seed = 1; seed <= seeds; ++seed) {
    for (const std::string name : {"random", "ppo"}) {
      std::unique_ptr<Strategy> strategy;
      if (name == "random") {
        strategy = std::make_unique<RandomStrategy>(&space, seed);
      } else {
        PpoOptions options;
        options.learning_rate = lr;
        options.entropy_weight = entropy;
        options.seed = seed;
        strategy = std::make_unique<PpoStrategy>(&space, options);
      }
      const auto start = std::chrono::steady_clock::now();
      const LocalSearchResult r = RunLocalSearch(*strategy, space, reward, budget, 20 * budget,
                                                 [&](double x) { return x >= threshold; });
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool reached = r.best_reward >= threshold;
      // Not reaching the top within the budget counts as budget + 1 for the median.
      to_top[name].push_back(reached ? r.evaluations : budget + 1);
      std::printf("%-6d %-8s %14s %12.4f %10.1f\n", seed, name.c_str(),
                  reached ? std::to_string(r.evaluations).c_str() : "not reached", r.best_reward,
                  seconds);
    }
  }
  std::printf("\nmedian evaluations to reach the top %d (budget + 1 = not reached):\n", top);
  for (const auto& [name, values] : to_top) {
    std::printf("  %-8s %lld\n", name.c_str(), static_cast<long long>(Median(values)));
  }
  return 0;
}
