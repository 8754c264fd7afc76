#include "controller/ppo_strategy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "controller/strategy_state.h"

namespace actsearch::controller {

namespace {

// Token sequences as a [rows, steps] tensor and back.
torch::Tensor TokenRows(const std::vector<std::vector<int>>& rows, int steps) {
  torch::Tensor tensor = torch::empty({static_cast<int64_t>(rows.size()), steps}, torch::kLong);
  auto cells = tensor.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int step = 0; step < steps; ++step) cells[i][step] = rows[i][step];
  }
  return tensor;
}

std::vector<std::vector<int>> RowsOf(const torch::Tensor& tensor) {
  std::vector<std::vector<int>> rows(tensor.size(0));
  auto cells = tensor.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int64_t step = 0; step < tensor.size(1); ++step) {
      rows[i].push_back(static_cast<int>(cells[i][step]));
    }
  }
  return rows;
}

torch::Tensor Doubles(const std::vector<double>& values) {
  return torch::from_blob(const_cast<double*>(values.data()), {static_cast<int64_t>(values.size())},
                          torch::kDouble)
      .clone();
}

std::vector<double> DoublesOf(const torch::Tensor& tensor) {
  const torch::Tensor contiguous = tensor.contiguous();
  return std::vector<double>(contiguous.data_ptr<double>(),
                             contiguous.data_ptr<double>() + contiguous.numel());
}

// Archive keys cannot contain the dots of parameter names ("cell.weight_ih").
std::string ParameterKey(const std::string& name) {
  std::string key = "policy";
  for (const char c : name) key += c == '.' ? std::string("__") : std::string(1, c);
  return key;
}

}  // namespace

torch::Tensor ClippedSurrogateLoss(const torch::Tensor& log_prob, const torch::Tensor& old_log_prob,
                                   const torch::Tensor& advantage, double clip) {
  const torch::Tensor ratio = (log_prob - old_log_prob).exp();
  const torch::Tensor clipped = ratio.clamp(1 - clip, 1 + clip);
  return -torch::min(ratio * advantage, clipped * advantage).mean();
}

PpoStrategy::PpoStrategy(const Space* space, PpoOptions options)
    : space_(space),
      options_(options),
      policy_(nullptr),
      generator_(at::detail::createCPUGenerator(options.seed)) {
  if (options_.batch_size < 1 || options_.epochs < 1) {
    throw std::invalid_argument("ppo needs a batch size and epochs of at least 1");
  }
  if (!(options_.top_fraction > 0 && options_.top_fraction <= 1)) {
    throw std::invalid_argument("ppo's top fraction must be in (0, 1]");
  }
  torch::manual_seed(options.seed);  // the policy's initial weights
  policy_ = Policy(space_, options_.policy);
  optimizer_ = NewOptimizer();
}

std::unique_ptr<torch::optim::Adam> PpoStrategy::NewOptimizer() const {
  return std::make_unique<torch::optim::Adam>(policy_->parameters(),
                                              torch::optim::AdamOptions(options_.learning_rate));
}

std::optional<Proposal> PpoStrategy::Propose() {
  // A batch at a time, from the policy as it is now: each sample keeps the log-probability it
  // was drawn with, so the importance ratio stays right after later updates.
  if (drawn_.empty()) drawn_ = policy_->Draw(options_.batch_size, generator_);
  PolicyImpl::Sample sample = std::move(drawn_.back());
  drawn_.pop_back();
  const uint64_t id = next_id_++;
  Proposal proposal{id, sample.tokens};
  pending_.emplace(id, std::move(sample));
  return proposal;
}

void PpoStrategy::Observe(uint64_t proposal_id, double reward) {
  const auto it = pending_.find(proposal_id);
  if (it == pending_.end()) {
    throw std::invalid_argument("no pending proposal " + std::to_string(proposal_id));
  }
  if (!std::isfinite(reward)) {
    // The controller validates what workers report; this is the last line of defence, since
    // one such value would poison the baseline and every later update.
    std::fprintf(stderr, "actsearch: ppo: proposal %llu has a non-finite reward; counted as 0\n",
                 static_cast<unsigned long long>(proposal_id));
    reward = 0;
  }
  if (!baseline_set_) {
    baseline_ = reward;
    baseline_set_ = true;
  }
  batch_.push_back({std::move(it->second.tokens), it->second.log_prob, reward, reward - baseline_});
  pending_.erase(it);
  baseline_ = options_.baseline_decay * baseline_ + (1 - options_.baseline_decay) * reward;
  if (static_cast<int64_t>(batch_.size()) >= options_.batch_size) Update();
}

std::vector<double> PpoStrategy::BatchAdvantages() const {
  std::vector<double> advantages;
  if (options_.top_fraction < 1) {
    std::vector<double> rewards;
    for (const Observed& o : batch_) rewards.push_back(o.reward);
    std::sort(rewards.begin(), rewards.end());
    const size_t at = static_cast<size_t>(std::floor((1 - options_.top_fraction) * rewards.size()));
    const double quantile = rewards[std::min(at, rewards.size() - 1)];
    for (const Observed& o : batch_) advantages.push_back(std::max(0.0, o.reward - quantile));
  } else {
    for (const Observed& o : batch_) advantages.push_back(o.advantage);
  }
  if (options_.normalize_advantages && advantages.size() > 1) {
    double mean = 0, squares = 0;
    for (const double a : advantages) mean += a / advantages.size();
    for (const double a : advantages) squares += (a - mean) * (a - mean);
    const double deviation = std::sqrt(squares / (advantages.size() - 1));
    // Equal advantages have no spread to normalise; they are left as they are.
    if (deviation > 1e-8) {
      for (double& a : advantages) a /= deviation;
    }
  }
  return advantages;
}

void PpoStrategy::Update() {
  // Weights and Adam's moments are saved first: if the update goes non-finite, both go back to
  // what they were, and the batch is dropped (retrying it would fail the same way).
  std::vector<torch::Tensor> weights;
  for (const torch::Tensor& parameter : policy_->parameters()) {
    weights.push_back(parameter.detach().clone());
  }
  std::ostringstream optimizer_state;
  torch::save(*optimizer_, optimizer_state);
  if (TryUpdate()) {
    ++updates_;
    double reward_sum = 0;
    for (const Observed& o : batch_) reward_sum += o.reward;
    recent_updates_.push_back({updates_, batch_entropy_, baseline_,
                               reward_sum / static_cast<double>(batch_.size()),
                               static_cast<int64_t>(batch_.size()), 0});
  } else {
    {
      torch::NoGradGuard no_grad;
      size_t i = 0;
      for (torch::Tensor& parameter : policy_->parameters()) parameter.copy_(weights[i++]);
    }
    optimizer_ = NewOptimizer();
    std::istringstream saved(optimizer_state.str());
    torch::load(*optimizer_, saved);
    ++refused_updates_;
    std::fprintf(stderr,
                 "actsearch: ppo: a policy update went non-finite and was undone (%lld so far); "
                 "its batch of %zu rewards is dropped\n",
                 static_cast<long long>(refused_updates_), batch_.size());
  }
  batch_.clear();
}

std::vector<storage::PolicyUpdateRow> PpoStrategy::TakePolicyUpdates() {
  return std::exchange(recent_updates_, {});
}

bool PpoStrategy::TryUpdate() {
  std::vector<std::vector<int>> rows;
  std::vector<double> old_log_probs;
  for (const Observed& o : batch_) {
    rows.push_back(o.tokens);
    old_log_probs.push_back(o.old_log_prob);
  }
  const torch::Tensor tokens = TokenRows(rows, space_->num_steps());
  const torch::Tensor old_log_prob = Doubles(old_log_probs).to(torch::kFloat);
  const torch::Tensor advantage = Doubles(BatchAdvantages()).to(torch::kFloat);
  if (!torch::isfinite(advantage).all().item<bool>()) return false;
  for (int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
    const auto [log_prob, entropy] = policy_->Evaluate(tokens);
    if (epoch == 0) batch_entropy_ = entropy.mean().item<double>();
    const torch::Tensor loss =
        ClippedSurrogateLoss(log_prob, old_log_prob, advantage, options_.clip) -
        options_.entropy_weight * entropy.mean();
    if (!std::isfinite(loss.item<double>())) return false;
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
  }
  for (const torch::Tensor& parameter : policy_->parameters()) {
    if (!torch::isfinite(parameter).all().item<bool>()) return false;
  }
  return true;
}

std::string PpoStrategy::SaveState() const {
  StateWriter writer(name());
  writer.WriteSpace(*space_);
  for (const auto& parameter : policy_->named_parameters()) {
    writer.WriteTensor(ParameterKey(parameter.key()), parameter.value());
  }
  torch::serialize::OutputArchive optimizer = writer.NewNested();
  optimizer_->save(optimizer);
  writer.WriteNested("optimizer", optimizer);
  writer.WriteTensor("generator", generator_.get_state());
  writer.WriteDouble("baseline", baseline_);
  writer.WriteInt("baseline_set", baseline_set_ ? 1 : 0);
  writer.WriteUnsigned("next_id", next_id_);
  writer.WriteInt("updates", updates_);

  const int steps = space_->num_steps();
  std::vector<std::vector<int>> rows;
  std::vector<double> log_probs, advantages;
  std::vector<int64_t> ids;
  for (const auto& [id, sample] : pending_) {
    ids.push_back(static_cast<int64_t>(id));
    rows.push_back(sample.tokens);
    log_probs.push_back(sample.log_prob);
  }
  writer.WriteTensor("pending_ids", torch::tensor(ids, torch::kLong).reshape({-1}));
  writer.WriteTensor("pending_tokens", TokenRows(rows, steps));
  writer.WriteTensor("pending_log_probs", Doubles(log_probs));
  rows.clear();
  log_probs.clear();
  for (const PolicyImpl::Sample& sample : drawn_) {
    rows.push_back(sample.tokens);
    log_probs.push_back(sample.log_prob);
  }
  writer.WriteTensor("drawn_tokens", TokenRows(rows, steps));
  writer.WriteTensor("drawn_log_probs", Doubles(log_probs));
  rows.clear();
  log_probs.clear();
  std::vector<double> rewards;
  for (const Observed& o : batch_) {
    rows.push_back(o.tokens);
    log_probs.push_back(o.old_log_prob);
    rewards.push_back(o.reward);
    advantages.push_back(o.advantage);
  }
  writer.WriteTensor("batch_tokens", TokenRows(rows, steps));
  writer.WriteTensor("batch_old_log_probs", Doubles(log_probs));
  writer.WriteTensor("batch_rewards", Doubles(rewards));
  writer.WriteTensor("batch_advantages", Doubles(advantages));
  return writer.Bytes();
}

void PpoStrategy::RestoreState(const std::string& bytes) {
  // Everything is read and checked before anything changes, so a bad checkpoint leaves the
  // strategy as it was.
  StateReader reader(bytes, name());
  reader.CheckSpace(*space_);

  std::vector<torch::Tensor> weights;
  for (const auto& parameter : policy_->named_parameters()) {
    torch::Tensor weight =
        reader.ReadTensor(ParameterKey(parameter.key()), torch::kFloat, parameter.value().dim());
    if (!weight.sizes().equals(parameter.value().sizes())) {
      throw reader.Error("policy weights '" + parameter.key() +
                         "' have another shape (another hidden size?)");
    }
    if (!torch::isfinite(weight).all().item<bool>()) {
      throw reader.Error("policy weights '" + parameter.key() + "' are not finite");
    }
    weights.push_back(weight);
  }
  std::unique_ptr<torch::optim::Adam> optimizer = NewOptimizer();
  try {
    torch::serialize::InputArchive archive = reader.ReadNested("optimizer");
    optimizer->load(archive);
  } catch (const c10::Error& e) {
    throw reader.Error(std::string("optimizer state: ") + e.what_without_backtrace());
  }
  torch::Generator generator = at::detail::createCPUGenerator();
  try {
    generator.set_state(reader.ReadTensor("generator", torch::kByte, 1));
  } catch (const c10::Error& e) {
    throw reader.Error(std::string("generator state: ") + e.what_without_backtrace());
  }

  const int steps = space_->num_steps();
  auto read_rows = [&](const std::string& key) {
    const torch::Tensor tensor = reader.ReadTensor(key, torch::kLong, 2);
    if (tensor.size(1) != steps) throw reader.Error("'" + key + "' has the wrong length");
    std::vector<std::vector<int>> rows = RowsOf(tensor);
    for (const std::vector<int>& row : rows) {
      try {
        space_->IndexOf(row);
      } catch (const std::invalid_argument& e) {
        throw reader.Error("'" + key + "' holds an illegal sequence: " + e.what());
      }
    }
    return rows;
  };
  auto read_doubles = [&](const std::string& key, size_t count) {
    const torch::Tensor tensor = reader.ReadTensor(key, torch::kDouble, 1);
    if (static_cast<size_t>(tensor.size(0)) != count) {
      throw reader.Error("'" + key + "' has the wrong length");
    }
    return DoublesOf(tensor);
  };
  auto samples_of = [](std::vector<std::vector<int>> rows, const std::vector<double>& log_probs) {
    std::vector<PolicyImpl::Sample> samples(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) samples[i] = {std::move(rows[i]), log_probs[i]};
    return samples;
  };

  const uint64_t next_id = reader.ReadUnsigned("next_id");
  std::vector<std::vector<int>> rows = read_rows("pending_tokens");
  const std::vector<double> pending_log_probs = read_doubles("pending_log_probs", rows.size());
  const torch::Tensor id_tensor = reader.ReadTensor("pending_ids", torch::kLong, 1);
  if (static_cast<size_t>(id_tensor.size(0)) != rows.size()) {
    throw reader.Error("'pending_ids' has the wrong length");
  }
  std::vector<PolicyImpl::Sample> pending_samples = samples_of(std::move(rows), pending_log_probs);
  std::map<uint64_t, PolicyImpl::Sample> pending;
  for (size_t i = 0; i < pending_samples.size(); ++i) {
    const uint64_t id = static_cast<uint64_t>(id_tensor[i].item<int64_t>());
    if (id >= next_id || !pending.emplace(id, std::move(pending_samples[i])).second) {
      throw reader.Error("pending proposal ids are inconsistent");
    }
  }
  rows = read_rows("drawn_tokens");
  const std::vector<double> drawn_log_probs = read_doubles("drawn_log_probs", rows.size());
  std::vector<PolicyImpl::Sample> drawn = samples_of(std::move(rows), drawn_log_probs);
  rows = read_rows("batch_tokens");
  const std::vector<double> old_log_probs = read_doubles("batch_old_log_probs", rows.size());
  const std::vector<double> rewards = read_doubles("batch_rewards", rows.size());
  const std::vector<double> advantages = read_doubles("batch_advantages", rows.size());
  std::vector<Observed> batch;
  for (size_t i = 0; i < rows.size(); ++i) {
    batch.push_back({std::move(rows[i]), old_log_probs[i], rewards[i], advantages[i]});
  }
  const double baseline = reader.ReadDouble("baseline");
  if (!std::isfinite(baseline)) throw reader.Error("the reward baseline is not finite");
  const bool baseline_set = reader.ReadInt("baseline_set") != 0;
  const int64_t updates = reader.ReadInt("updates");

  {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& parameter : policy_->named_parameters()) parameter.value().copy_(weights[i++]);
  }
  optimizer_ = std::move(optimizer);
  generator_ = generator;
  pending_ = std::move(pending);
  drawn_ = std::move(drawn);
  batch_ = std::move(batch);
  baseline_ = baseline;
  baseline_set_ = baseline_set;
  next_id_ = next_id;
  updates_ = updates;
}

}  // namespace actsearch::controller
