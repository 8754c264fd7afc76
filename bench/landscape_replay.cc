// Replays a fixed landscape of real learning curves (bench/landscape/, built by the project
// itself) under full-budget random search, median stopping and ASHA, the rules deciding
// through controller/stopping_rule.h exactly as the controller does, with W workers running
// children asynchronously. For each method: the compute (child-steps) spent until the true
// top 1% and top 10 classes have each trained their whole budget, its median over seeds, and
// its ratio to full-budget random search. With --truth (the best classes trained again with
// other seeds), also how many of that truth's top 10 the leaderboard's top 10 holds (mean and
// spread over the orders): a measure that does not reward reproducing the landscape's own
// seed. Results: docs/benchmarks.md.
#include <google/protobuf/text_format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "controller/stopping_rule.h"

namespace {

using actsearch::controller::StoppingRule;
using actsearch::controller::StoppingSettings;
using actsearch::controller::Verdict;

// One class's training: its validation accuracy at each evaluated step, how far it got
// (`steps`: the budget, or where it diverged) and its reward there.
struct Curve {
  std::string fingerprint, expression;
  std::map<int64_t, double> accuracy_at;
  int64_t steps = 0;
  double final_accuracy = 0;
};

struct Landscape {
  std::vector<Curve> classes;
  int64_t budget = 0;
};

// A CSV field as written: "a, ""b""" -> a, "b".
std::string Unquoted(const std::string& field) {
  if (field.size() < 2 || field.front() != '"' || field.back() != '"') return field;
  std::string out;
  for (size_t i = 1; i + 1 < field.size(); ++i) {
    out += field[i];
    if (field[i] == '"' && field[i + 1] == '"') ++i;
  }
  return out;
}

// The data lines of a CSV file, gzip-compressed or not, header left out, line ends removed;
// each with its line number for errors.
std::vector<std::pair<int, std::string>> CsvDataLines(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::vector<std::pair<int, std::string>> lines;
  char line[4096];
  for (int number = 1; gzgets(file, line, sizeof line) != nullptr; ++number) {
    if (number == 1) continue;  // the header
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    lines.emplace_back(number, std::move(text));
  }
  gzclose(file);
  return lines;
}

// fingerprint,expression,steps,step,validation_accuracy; a row with step == steps is the
// class's final result (0 for a child that diverged there).
Landscape LoadLandscape(const std::string& path) {
  std::map<std::string, Curve> by_class;
  for (const auto& [number, text] : CsvDataLines(path)) {
    // The expression may hold commas: the two fields before it and the three after it do not.
    const size_t first = text.find(',');
    const size_t last = text.rfind(',');
    const size_t middle = last == std::string::npos ? std::string::npos : text.rfind(',', last - 1);
    const size_t third =
        middle == std::string::npos ? std::string::npos : text.rfind(',', middle - 1);
    if (first == std::string::npos || third == std::string::npos || third <= first) {
      throw std::runtime_error(path + ": line " + std::to_string(number) +
                               ": expected fingerprint,expression,steps,step,validation_accuracy");
    }
    Curve& curve = by_class[text.substr(0, first)];
    curve.fingerprint = text.substr(0, first);
    curve.expression = Unquoted(text.substr(first + 1, third - first - 1));
    curve.steps = std::stoll(text.substr(third + 1, middle - third - 1));
    const int64_t step = std::stoll(text.substr(middle + 1, last - middle - 1));
    const double accuracy = std::stod(text.substr(last + 1));
    if (step == curve.steps) {
      curve.final_accuracy = accuracy;
    } else {
      curve.accuracy_at[step] = accuracy;
    }
  }
  Landscape landscape;
  for (auto& [fingerprint, curve] : by_class) {
    landscape.budget = std::max(landscape.budget, curve.steps);
    landscape.classes.push_back(std::move(curve));
  }
  if (landscape.classes.empty()) throw std::runtime_error(path + ": no classes");
  return landscape;
}

// The fields of a line of a three-field CSV file that quotes nothing, or an error naming the
// file, the line and the layout expected.
std::array<std::string, 3> ThreeFields(const std::string& path, int number, const std::string& text,
                                       const std::string& layout) {
  std::stringstream line(text);
  std::array<std::string, 3> fields;
  if (!std::getline(line, fields[0], ',') || !std::getline(line, fields[1], ',') ||
      !std::getline(line, fields[2])) {
    throw std::runtime_error(path + ": line " + std::to_string(number) + ": expected " + layout);
  }
  return fields;
}

// Restart-style rungs (ASHA's checkpoint-free promotion by retraining): each class's result
// after a training of its own at a rung's budget, warm-up and decay to that budget (0 where it
// diverged). fingerprint,budget,validation_accuracy.
using RungResults = std::map<std::string, std::map<int64_t, double>>;

RungResults LoadRungResults(const std::string& path) {
  RungResults results;
  for (const auto& [number, text] : CsvDataLines(path)) {
    const auto [fingerprint, budget, accuracy] =
        ThreeFields(path, number, text, "fingerprint,budget,validation_accuracy");
    results[fingerprint][std::stoll(budget)] = std::stod(accuracy);
  }
  return results;
}

// A truth independent of the landscape's seed: each class's validation accuracy trained again
// to the full budget with other seeds (bench/landscape/reseed.sh: fingerprint,seed,
// validation_accuracy). Only classes every truth seed trained are covered; their truth is the
// mean over those seeds.
struct Truth {
  std::map<size_t, double> mean_of;  // class -> mean accuracy over the truth's seeds
  std::set<std::string> seeds;
};

Truth LoadTruth(const std::vector<std::string>& paths, const Landscape& landscape) {
  std::map<std::string, size_t> class_of;
  for (size_t c = 0; c < landscape.classes.size(); ++c) {
    class_of[landscape.classes[c].fingerprint] = c;
  }
  Truth truth;
  std::map<size_t, std::map<std::string, double>> by_seed;  // class -> seed -> accuracy
  for (const std::string& path : paths) {
    for (const auto& [number, text] : CsvDataLines(path)) {
      const auto [fingerprint, seed, accuracy] =
          ThreeFields(path, number, text, "fingerprint,seed,validation_accuracy");
      const auto found = class_of.find(fingerprint);
      if (found == class_of.end()) {
        throw std::runtime_error(path + ": line " + std::to_string(number) + ": class " +
                                 fingerprint + " is not in the landscape");
      }
      by_seed[found->second][seed] = std::stod(accuracy);
      truth.seeds.insert(seed);
    }
  }
  for (const auto& [cls, accuracies] : by_seed) {
    if (accuracies.size() != truth.seeds.size()) continue;  // not trained with every seed
    double sum = 0;
    for (const auto& [seed, accuracy] : accuracies) sum += accuracy;
    truth.mean_of[cls] = sum / static_cast<double>(accuracies.size());
  }
  if (truth.mean_of.size() < 10) {
    throw std::runtime_error("the truth covers " + std::to_string(truth.mean_of.size()) +
                             " classes with every seed: it needs at least 10");
  }
  return truth;
}

// What one replay found: when (in child-steps spent by then) each class completed its budget.
struct Replay {
  std::map<size_t, int64_t> completed_at;  // class -> compute spent when it completed
  int64_t total = 0;                       // compute spent visiting every class once
};

// Random search over the classes (each once, in a random order), W workers each taking the
// next class when its child ends or is stopped. Time is counted in steps: every worker trains
// one step per unit of time. With `restart` (restart-style rungs), a child's rung is a training
// of its own at that budget, judged by its result there, and a promoted child trains the next
// budget from the start: its compute is the sum of the budgets it trained.
Replay Run(const Landscape& landscape, const StoppingSettings& settings, int workers, uint64_t seed,
           const RungResults* restart = nullptr) {
  std::vector<size_t> order(landscape.classes.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  StoppingRule rule(settings);
  Replay replay;
  int64_t finished_compute = 0;  // of children that ended or were stopped
  struct Running {
    size_t cls = 0;
    int64_t trial = 0;  // its place in the order: the rule's trial id (its bracket)
    int64_t started = 0;
    size_t next = 0;  // index into its checkpoints
    std::vector<int64_t> checkpoints;
    std::vector<int64_t> elapsed;  // its compute when it reaches each checkpoint
  };
  std::vector<Running> running(workers);
  // (time of the worker's next checkpoint, worker): the earliest first, ties by worker.
  using Event = std::pair<int64_t, int>;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  size_t next_class = 0;
  auto start = [&](int worker, int64_t now) {
    if (next_class == order.size()) return;
    Running& r = running[worker];
    r.trial = static_cast<int64_t>(next_class);
    r.cls = order[next_class++];
    r.started = now;
    r.next = 0;
    r.checkpoints.clear();
    const Curve& curve = landscape.classes[r.cls];
    for (int64_t step : settings.decide_at) {
      if (!rule.decides_at(r.trial, step)) continue;  // not a rung of its bracket
      // A restart rung is a training of its own: it happens whatever the full one does.
      if (restart || step < curve.steps) r.checkpoints.push_back(step);
    }
    r.checkpoints.push_back(curve.steps);
    r.elapsed.clear();
    for (int64_t step : r.checkpoints) {
      r.elapsed.push_back(restart && !r.elapsed.empty() ? r.elapsed.back() + step : step);
    }
    events.push({now + r.elapsed.front(), worker});
  };
  for (int w = 0; w < workers; ++w) start(w, 0);
  while (!events.empty()) {
    const auto [now, worker] = events.top();
    events.pop();
    Running& r = running[worker];
    const Curve& curve = landscape.classes[r.cls];
    const int64_t step = r.checkpoints[r.next];
    bool ended = step == curve.steps;
    if (!ended) {
      const std::map<int64_t, double>& accuracies =
          restart ? restart->at(curve.fingerprint) : curve.accuracy_at;
      const auto found = accuracies.find(step);
      if (found == accuracies.end()) {
        throw std::runtime_error("class " + curve.fingerprint + " has no evaluation at step " +
                                 std::to_string(step) + ": rungs must be on the landscape's grid");
      }
      ended = rule.Evaluate(r.trial, step, found->second) == Verdict::kStop;
    } else if (curve.steps == landscape.budget) {
      rule.Finish(r.trial, curve.final_accuracy);
      // Compute spent by now: the children that ended, this one, and the others' progress.
      int64_t spent = finished_compute + r.elapsed[r.next];
      for (int w = 0; w < workers; ++w) {
        if (w != worker && !running[w].checkpoints.empty()) spent += now - running[w].started;
      }
      replay.completed_at[r.cls] = spent;
    }
    if (ended) {
      finished_compute += r.elapsed[r.next];
      r.checkpoints.clear();
      start(worker, now);
    } else {
      ++r.next;
      events.push({r.started + r.elapsed[r.next], worker});
    }
  }
  replay.total = finished_compute;
  return replay;
}

StoppingSettings SettingsOf(const std::string& early_stopping, int64_t budget) {
  actsearch::proto::SearchConfig config;
  config.mutable_child()->mutable_proxy()->set_steps(budget);  // only its budget counts here
  if (!early_stopping.empty() && !google::protobuf::TextFormat::ParseFromString(
                                     early_stopping, config.mutable_early_stopping())) {
    throw std::runtime_error("not an early_stopping setting: " + early_stopping);
  }
  return actsearch::controller::StoppingSettingsOf(config);
}

int64_t Median(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The value below which a fraction `q` of the values lie (nearest rank).
double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[rank];
}

// The k best of some classes by a value (final accuracy, or a truth's). Classes tied with the
// k-th are interchangeable (the value cannot tell them apart): any of them fills the places
// left by those above.
struct TopClasses {
  std::vector<size_t> above;  // strictly better than the k-th
  std::vector<size_t> tied;   // as good as the k-th
  size_t tied_places = 0;     // k - above.size()
  double kth = 0;             // the k-th best value
};

TopClasses BestClasses(std::vector<size_t> classes, size_t k,
                       const std::function<double(size_t)>& value_of) {
  TopClasses top;
  k = std::min(k, classes.size());
  if (k == 0) return top;
  std::nth_element(classes.begin(), classes.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   classes.end(), [&](size_t a, size_t b) { return value_of(a) > value_of(b); });
  top.kth = value_of(classes[k - 1]);
  for (size_t c : classes) {
    if (value_of(c) > top.kth) top.above.push_back(c);
    if (value_of(c) == top.kth) top.tied.push_back(c);
  }
  top.tied_places = k - top.above.size();
  return top;
}

// The compute spent once the top classes had completed their budget (every class above and
// enough tied ones to fill the places); -1 when that never happened.
int64_t ComputeToFind(const Replay& replay, const TopClasses& top) {
  int64_t last = 0;
  for (size_t cls : top.above) {
    const auto found = replay.completed_at.find(cls);
    if (found == replay.completed_at.end()) return -1;
    last = std::max(last, found->second);
  }
  std::vector<int64_t> tied_times;
  for (size_t cls : top.tied) {
    const auto found = replay.completed_at.find(cls);
    if (found != replay.completed_at.end()) tied_times.push_back(found->second);
  }
  if (tied_times.size() < top.tied_places) return -1;
  std::sort(tied_times.begin(), tied_times.end());
  if (top.tied_places > 0) last = std::max(last, tied_times[top.tied_places - 1]);
  return last;
}

// How many of the top places the classes that completed their budget fill.
int64_t Recall(const Replay& replay, const TopClasses& top) {
  size_t above = 0, tied = 0;
  for (size_t cls : top.above) above += replay.completed_at.count(cls);
  for (size_t cls : top.tied) tied += replay.completed_at.count(cls);
  return static_cast<int64_t>(above + std::min(tied, top.tied_places));
}

// The chance that a class holds one of the top places: 1 above the k-th, its share of the places
// left among the classes tied with the k-th, else 0.
double ChanceIn(const TopClasses& top, size_t cls) {
  if (std::find(top.above.begin(), top.above.end(), cls) != top.above.end()) return 1;
  if (std::find(top.tied.begin(), top.tied.end(), cls) != top.tied.end()) {
    return static_cast<double>(top.tied_places) / static_cast<double>(top.tied.size());
  }
  return 0;
}

// How many classes two top lists share, expected over the ways their ties may fill them.
double ExpectedOverlap(const TopClasses& a, const TopClasses& b) {
  double overlap = 0;
  for (size_t cls : a.above) overlap += ChanceIn(b, cls);
  for (size_t cls : a.tied) overlap += ChanceIn(a, cls) * ChanceIn(b, cls);
  return overlap;
}

// The top 10 a search's leaderboard shows once `spent` child-steps are spent: the best by final
// accuracy among the classes that had completed their budget by then (a stopped class ranks
// below every completed one).
TopClasses LeaderboardTop10(const Replay& replay, const std::function<double(size_t)>& final_of,
                            int64_t spent = INT64_MAX) {
  std::vector<size_t> completed;
  for (const auto& [cls, at] : replay.completed_at) {
    if (at <= spent) completed.push_back(cls);
  }
  return BestClasses(std::move(completed), 10, final_of);
}

// Ranks 1..n by value, highest first; ties share their mean rank.
std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] > values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = (i + j) / 2.0 + 1;
    i = j + 1;
  }
  return ranks;
}

// Spearman's rank correlation: Pearson's of the ranks.
double RankCorrelation(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = Ranks(a), rb = Ranks(b);
  const double n = static_cast<double>(ra.size());
  const double mean = (n + 1) / 2;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) * (ra[i] - mean);
    bb += (rb[i] - mean) * (rb[i] - mean);
  }
  return ab / std::sqrt(aa * bb);
}

// How well a step's accuracy predicts the final one, over the classes that trained their whole
// budget: the rank correlation, and the worst place a final top-10 class had at that step. What
// any rule deciding there can do at best. With a truth, also the rank correlation with the
// truth over the classes it covers, the end's included: how well a step predicts what other
// seeds find, which one seed's end does not settle.
void PrintRankAgreement(const Landscape& landscape, const Truth* truth) {
  std::vector<size_t> finished;
  for (size_t c = 0; c < landscape.classes.size(); ++c) {
    if (landscape.classes[c].steps == landscape.budget) finished.push_back(c);
  }
  std::vector<double> final_accuracy;
  for (size_t c : finished) final_accuracy.push_back(landscape.classes[c].final_accuracy);
  const std::vector<double> final_rank = Ranks(final_accuracy);
  std::vector<size_t> covered;  // positions in `finished` of the classes the truth covers
  std::vector<double> truth_accuracy;
  for (size_t i = 0; truth && i < finished.size(); ++i) {
    const auto found = truth->mean_of.find(finished[i]);
    if (found == truth->mean_of.end()) continue;
    covered.push_back(i);
    truth_accuracy.push_back(found->second);
  }
  auto with_truth = [&](const std::vector<double>& values) {
    std::vector<double> picked;
    for (size_t i : covered) picked.push_back(values[i]);
    return RankCorrelation(picked, truth_accuracy);
  };
  std::set<int64_t> steps;
  for (size_t c : finished) {
    for (const auto& [step, accuracy] : landscape.classes[c].accuracy_at) steps.insert(step);
  }
  std::printf("%zu classes trained their whole budget; how each step ranks them against the end",
              finished.size());
  if (truth) std::printf(" (and the truth, over the %zu it covers)", covered.size());
  std::printf(":\n%8s %16s %24s%s\n", "step", "rank correlation", "worst rank of a top 10",
              truth ? "   with the truth" : "");
  for (int64_t step : steps) {
    std::vector<double> at_step;
    for (size_t c : finished) {
      const auto found = landscape.classes[c].accuracy_at.find(step);
      if (found == landscape.classes[c].accuracy_at.end()) break;
      at_step.push_back(found->second);
    }
    if (at_step.size() != finished.size()) continue;  // not evaluated there for every class
    const std::vector<double> rank = Ranks(at_step);
    double worst = 0;
    for (size_t i = 0; i < finished.size(); ++i) {
      if (final_rank[i] <= 10) worst = std::max(worst, rank[i]);
    }
    std::printf("%8lld %16.2f %24.0f", static_cast<long long>(step),
                RankCorrelation(at_step, final_accuracy), worst);
    if (truth) std::printf(" %17.2f", with_truth(at_step));
    std::printf("\n");
  }
  if (truth) {
    std::printf("%8s %16s %24s %17.2f\n", "end", "", "", with_truth(final_accuracy));
  }
  std::printf("\n");
}

std::string Steps(int64_t steps) {
  if (steps < 0) return "never";
  char text[32];
  std::snprintf(text, sizeof text, "%.1fk", steps / 1000.0);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "bench/landscape/fashion-mnist-resnet8.csv.gz";
  std::string rungs_path = "bench/landscape/fashion-mnist-resnet8-rungs.csv.gz";
  int seeds = 101, workers = 8;
  struct Method {
    std::string name, early_stopping;
    bool restart = false;
  };
  std::vector<Method> chosen;            // --method: instead of the default list
  std::vector<std::string> truth_paths;  // --truth: other seeds' full-budget results
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--landscape" && has_value) {
      path = argv[++i];
    } else if (flag == "--rungs" && has_value) {
      rungs_path = argv[++i];
    } else if (flag == "--truth" && has_value) {
      truth_paths.push_back(argv[++i]);
    } else if (flag == "--seeds" && has_value) {
      seeds = std::max(1, std::atoi(argv[++i]));
    } else if (flag == "--workers" && has_value) {
      workers = std::max(1, std::atoi(argv[++i]));
    } else if (flag == "--method" && has_value && std::strchr(argv[i + 1], '=') != nullptr) {
      const std::string method = argv[++i];
      chosen.push_back({method.substr(0, method.find('=')), method.substr(method.find('=') + 1)});
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--landscape FILE.csv.gz] [--rungs FILE.csv.gz|''] [--seeds N] "
          "[--workers W] [--method 'NAME=EARLY_STOPPING' ...] [--truth SEED.csv ...]\n"
          "  --method: replaces the default methods (full budget is always first), e.g.\n"
          "    --method 'asha from 100=evaluate_every: 100 asha { eta: 3 min_steps: 100 "
          "}'\n"
          "  --truth: other seeds' results (bench/landscape/reseed.sh), averaged: adds how\n"
          "    many of their top 10 each method's leaderboard top 10 holds\n",
          argv[0]);
      return 2;
    }
  }
  try {
    const Landscape landscape = LoadLandscape(path);
    // Restart-style rungs are replayed only where their results were measured.
    const RungResults rung_results =
        rungs_path.empty() ? RungResults{} : LoadRungResults(rungs_path);
    const size_t n = landscape.classes.size();
    std::vector<size_t> classes(n);
    std::iota(classes.begin(), classes.end(), 0);
    auto final_of = [&](size_t c) {
      const Curve& curve = landscape.classes[c];
      return curve.steps == landscape.budget ? curve.final_accuracy : 0.0;
    };
    const size_t best = *std::max_element(classes.begin(), classes.end(), [&](size_t a, size_t b) {
      return final_of(a) < final_of(b);
    });
    const size_t top_percent = (n + 99) / 100;
    const TopClasses top1 = BestClasses(classes, top_percent, final_of);
    const TopClasses top10 = BestClasses(classes, 10, final_of);
    std::printf(
        "landscape: %s, %zu classes, budget %lld steps; top 1%% = %zu classes (best %.4f "
        "%s), the 10th best %.4f (%zu classes tied there fill %zu of the ten places)\n",
        path.c_str(), n, static_cast<long long>(landscape.budget), top_percent, final_of(best),
        landscape.classes[best].expression.c_str(), top10.kth, top10.tied.size(),
        top10.tied_places);
    const bool has_truth = !truth_paths.empty();
    const Truth truth = has_truth ? LoadTruth(truth_paths, landscape) : Truth{};
    PrintRankAgreement(landscape, has_truth ? &truth : nullptr);
    TopClasses truth_top10;
    if (has_truth) {
      std::vector<size_t> covered;
      for (const auto& [cls, mean] : truth.mean_of) covered.push_back(cls);
      truth_top10 = BestClasses(covered, 10, [&](size_t c) { return truth.mean_of.at(c); });
      std::string seed_list;
      for (const std::string& seed : truth.seeds) {
        seed_list += (seed_list.empty() ? "" : ", ") + seed;
      }
      std::printf(
          "truth: the mean of seeds %s over %zu classes (the rest taken as outside its top 10); "
          "its 10th best %.4f; the landscape's own top 10 holds %.1f of its top 10\n\n",
          seed_list.c_str(), covered.size(), truth_top10.kth, ExpectedOverlap(top10, truth_top10));
    }
    std::printf(
        "%d workers, %d random orders of the classes (--seeds); compute in child-steps, "
        "medians over the orders\n\n",
        workers, seeds);
    std::vector<Method> methods = {
        {"full budget", ""},
        {"median", "median {}"},
        {"median, grace 150", "median { grace_steps: 150 }"},
        {"asha eta 3 from 30", "asha { eta: 3 min_steps: 30 }"},
        {"asha eta 3 from 15", "asha { eta: 3 min_steps: 15 }"},
        {"asha eta 2 from 30", "asha { eta: 2 min_steps: 30 }"},
        {"asha eta 3 from 90", "asha { eta: 3 min_steps: 90 }"},
        {"median, grace 210", "median { grace_steps: 210 }"},
        {"hyperband eta 3 from 30", "asha { eta: 3 min_steps: 30 brackets: 3 }"},
        {"hyperband, 4 brackets", "asha { eta: 3 min_steps: 30 brackets: 4 }"},
    };
    if (!chosen.empty()) {
      methods = {{"full budget", ""}};
      methods.insert(methods.end(), chosen.begin(), chosen.end());
    } else if (!rung_results.empty()) {
      // Rungs at the budgets of the rung results, 33 and 100 (eta 100/33).
      methods.push_back({"asha restart eta 3", "asha { eta: 3.0303 min_steps: 33 }", true});
      methods.push_back({"asha restart, 100 only", "asha { eta: 3 min_steps: 100 }", true});
    }
    int name_width = 24;
    for (const Method& method : methods) {
      name_width = std::max(name_width, static_cast<int>(method.name.size()));
    }
    std::printf("%-*s %-18s %10s %8s %12s %8s %14s %8s%s\n", name_width, "method", "decides at",
                "total", "ratio", "to top 1%", "ratio", "to top 10", "ratio",
                has_truth ? "  truth top 10 (10-90%)  full budget at that compute" : "");
    int64_t full_total = 0, full_top1 = 0, full_top10 = 0;
    std::vector<Replay> full_replays;  // full budget's, one per order: the equal-compute baseline
    for (const Method& method : methods) {
      const std::string& name = method.name;
      const std::string& text = method.early_stopping;
      const StoppingSettings settings = SettingsOf(text, landscape.budget);
      std::vector<int64_t> totals, to_top1, to_top10, recalls;
      std::vector<double> truth_overlaps;  // one per order
      for (int seed = 1; seed <= seeds; ++seed) {
        const Replay replay = Run(landscape, settings, workers, static_cast<uint64_t>(seed),
                                  method.restart ? &rung_results : nullptr);
        if (text.empty()) full_replays.push_back(replay);
        if (has_truth) {
          truth_overlaps.push_back(
              ExpectedOverlap(LeaderboardTop10(replay, final_of), truth_top10));
        }
        totals.push_back(replay.total);
        const int64_t t1 = ComputeToFind(replay, top1), t10 = ComputeToFind(replay, top10);
        // A top class never completed: counted past every finite figure, so the median says
        // "never" once half the seeds miss it.
        to_top1.push_back(t1 < 0 ? INT64_MAX : t1);
        to_top10.push_back(t10 < 0 ? INT64_MAX : t10);
        recalls.push_back(Recall(replay, top10));
      }
      const int64_t total = Median(totals);
      const int64_t top1_median = Median(to_top1) == INT64_MAX ? -1 : Median(to_top1);
      const int64_t top10_median = Median(to_top10) == INT64_MAX ? -1 : Median(to_top10);
      if (text.empty()) {
        full_total = total;
        full_top1 = top1_median;
        full_top10 = top10_median;
      }
      std::string decides;
      const std::vector<int64_t>& at = settings.decide_at;
      if (at.size() > 4) {  // evenly spaced: first..last/interval
        decides = std::to_string(at.front()) + ".." + std::to_string(at.back()) + "/" +
                  std::to_string(at[1] - at[0]);
      } else {
        for (int64_t step : at) decides += (decides.empty() ? "" : ",") + std::to_string(step);
      }
      if (settings.brackets > 1) decides += " in " + std::to_string(settings.brackets);
      auto ratio = [](int64_t value, int64_t reference) {
        char text[16];
        if (value < 0 || reference <= 0) return std::string("-");
        std::snprintf(text, sizeof text, "%.2f", static_cast<double>(value) / reference);
        return std::string(text);
      };
      std::printf("%-*s %-18s %10s %8s %12s %8s %8s (%2lld/10) %8s", name_width, name.c_str(),
                  decides.empty() ? "-" : decides.c_str(), Steps(total).c_str(),
                  ratio(total, full_total).c_str(), Steps(top1_median).c_str(),
                  ratio(top1_median, full_top1).c_str(), Steps(top10_median).c_str(),
                  static_cast<long long>(Median(recalls)), ratio(top10_median, full_top10).c_str());
      if (has_truth) {
        // Full-budget search stopped once it had spent what this method spends in all.
        double full_overlap = 0;
        for (const Replay& full : full_replays) {
          full_overlap += ExpectedOverlap(LeaderboardTop10(full, final_of, total), truth_top10);
        }
        const double mean =
            std::accumulate(truth_overlaps.begin(), truth_overlaps.end(), 0.0) / seeds;
        std::printf("  %12.1f (%3.1f-%3.1f)  %27.1f", mean, Quantile(truth_overlaps, 0.1),
                    Quantile(truth_overlaps, 0.9),
                    full_overlap / static_cast<double>(full_replays.size()));
      }
      std::printf("\n");
    }
    std::printf(
        "\n(n/10): median top-10 recall once every class was visited; \"to top 10\": "
        "compute until all ten completed their budget (never: in most orders one was "
        "stopped)\n");
    if (has_truth) {
      std::printf(
          "truth top 10: how many of the truth's top 10 the leaderboard's top 10 holds once every "
          "class was visited, mean over orders (and the 10th to 90th percentile of the orders); "
          "full budget at that compute: the same for "
          "full-budget search stopped at the method's median total\n");
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "landscape_replay: %s\n", error.what());
    return 1;
  }
  return 0;
}
