// Does the PPO controller learn? PPO against random search on a 2-unit space whose best
// candidates are known: the reward is a candidate's closeness to a target function, and the
// whole space is enumerated first to find the top classes.
//
//   build/cpu/bench/search_bench [--seeds 10] [--first-seed 1] [--budget 5000] [--top 10]
//       [--strategies random,ppo-paper,ppo-search] [--stall 2000]
//       [--lr X] [--entropy X] [--batch N] [--epochs N] [--top-fraction X] [--normalize 0|1]
//
// For each seed, each strategy runs until it evaluates one of the top classes or spends the
// budget (evaluations: distinct, unscreened candidates; repeats and screened candidates are
// free, as in a real search, and the strategy still observes their known reward). A run also
// ends when `--stall` proposals in a row brought no new evaluation: the strategy has converged
// on classes it knows and would never reach the top. Reported: evaluations to reach the top,
// per seed and median (a run that did not reach it counts as budget + 1).
//
// ppo-paper is PpoOptions' defaults (the paper's settings); ppo-search is what
// docs/controller-strategies.md recommends for finding the best candidates: learn from the
// best quarter of each batch, normalised advantages, a stronger entropy bonus and a higher
// learning rate. The --lr ... --normalize flags change ppo-search.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
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

// The settings docs/controller-strategies.md recommends for a search for the best candidates.
PpoOptions SearchSettings() {
  PpoOptions options;
  options.learning_rate = 0.002;
  options.entropy_weight = 0.01;
  options.top_fraction = 0.25;
  options.normalize_advantages = true;
  return options;
}

std::string Describe(const PpoOptions& o) {
  const std::string learning_from =
      o.top_fraction < 1 ? "best " + std::to_string(static_cast<int>(o.top_fraction * 100 + 0.5)) +
                               "% of each batch against its quantile"
                         : "every sample against an EMA baseline (0.95)";
  char text[256];
  std::snprintf(text, sizeof text,
                "learning rate %g, batch %lld, %lld epochs, clip %g, entropy weight %g, %s, "
                "advantages %s",
                o.learning_rate, static_cast<long long>(o.batch_size),
                static_cast<long long>(o.epochs), o.clip, o.entropy_weight, learning_from.c_str(),
                o.normalize_advantages ? "normalised per batch" : "as they are");
  return text;
}

int64_t Median(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  return items;
}

int Usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--seeds N] [--first-seed N] [--budget N] [--top N] [--stall N]\n"
               "          [--strategies random,ppo-paper,ppo-search]\n"
               "          [--lr X] [--entropy X] [--batch N] [--epochs N] [--top-fraction X]"
               " [--normalize 0|1]\n",
               program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as each run ends
  int seeds = 10, first_seed = 1, top = 10;
  int64_t budget = 5000, stall = 2000;
  std::vector<std::string> names = {"random", "ppo-paper", "ppo-search"};
  PpoOptions search = SearchSettings();
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) return Usage(argv[0]);
      const std::string value = argv[++i];
      if (flag == "--seeds")
        seeds = std::stoi(value);
      else if (flag == "--first-seed")
        first_seed = std::stoi(value);
      else if (flag == "--budget")
        budget = std::stoll(value);
      else if (flag == "--top")
        top = std::stoi(value);
      else if (flag == "--stall")
        stall = std::stoll(value);
      else if (flag == "--strategies")
        names = Split(value);
      else if (flag == "--lr")
        search.learning_rate = std::stod(value);
      else if (flag == "--entropy")
        search.entropy_weight = std::stod(value);
      else if (flag == "--batch")
        search.batch_size = std::stoll(value);
      else if (flag == "--epochs")
        search.epochs = std::stoll(value);
      else if (flag == "--top-fraction")
        search.top_fraction = std::stod(value);
      else if (flag == "--normalize")
        search.normalize_advantages = std::stoi(value) != 0;
      else
        return Usage(argv[0]);
    }
  } catch (const std::exception&) {
    return Usage(argv[0]);
  }
  for (const std::string& name : names) {
    if (name != "random" && name != "ppo-paper" && name != "ppo-search") return Usage(argv[0]);
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
    const Fingerprint f = ComputeFingerprint(e);
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
      "budget: %lld evaluations; a run also ends after %lld proposals in a row without "
      "a new evaluation\n",
      static_cast<long long>(budget), static_cast<long long>(stall));
  std::printf("ppo-paper:  %s\n", Describe(PpoOptions()).c_str());
  std::printf("ppo-search: %s\n\n", Describe(search).c_str());
  std::printf("%-6s %-11s %14s %10s %10s %8s\n", "seed", "strategy", "evals to top", "proposals",
              "best", "seconds");

  std::map<std::string, std::vector<int64_t>> to_top;
  std::map<std::string, int> reached_count;
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    for (const std::string& name : names) {
      std::unique_ptr<Strategy> strategy;
      if (name == "random") {
        strategy = std::make_unique<RandomStrategy>(&space, seed);
      } else {
        PpoOptions options = name == "ppo-paper" ? PpoOptions() : search;
        options.seed = seed;
        strategy = std::make_unique<PpoStrategy>(&space, options);
      }
      const auto start = std::chrono::steady_clock::now();
      const LocalSearchResult r = RunLocalSearch(
          *strategy, space, reward, budget, 20 * budget, [&](double x) { return x >= threshold; },
          stall);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool reached = r.best_reward >= threshold;
      to_top[name].push_back(reached ? r.evaluations : budget + 1);
      reached_count[name] += reached;
      const std::string outcome = reached     ? std::to_string(r.evaluations)
                                  : r.stalled ? "stalled at " + std::to_string(r.evaluations)
                                              : "not reached";
      std::printf("%-6d %-11s %14s %10zu %10.4f %8.1f\n", seed, name.c_str(), outcome.c_str(),
                  r.steps.size(), r.best_reward, seconds);
    }
  }
  std::printf("\nmedian evaluations to reach the top %d (budget + 1 = not reached):\n", top);
  for (const std::string& name : names) {
    std::printf("  %-11s %6lld   (reached in %d of %d seeds)\n", name.c_str(),
                static_cast<long long>(Median(to_top[name])), reached_count[name], seeds);
  }
  return 0;
}
