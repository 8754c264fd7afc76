#include "worker/activation_record.h"

#include <cctype>
#include <set>
#include <string_view>

#include "activation/activation_spec.h"
#include "search_space/fingerprint.h"
#include "search_space/parser.h"
#include "search_space/printer.h"
#include "storage/candidate_record.h"
#include "worker/trial_outcome.h"

namespace actsearch::worker {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// A mode spec (already validated by ParseActivationSpec) rewritten with its parts trimmed and
// its embedded expressions printed canonically, so that spellings of one spec that differ in
// spaces get one candidate row. Collects the embedded expressions' operators.
std::string CanonicalModeSpec(std::string_view spec, std::set<std::string>& operators) {
  std::string out;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t colon = std::min(spec.find(':', start), spec.size());
    const std::string_view part = Trim(spec.substr(start, colon - start));
    if (!out.empty()) out += ':';
    const size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      out += part;
    } else {
      const std::string_view key = Trim(part.substr(0, equals));
      std::string value(Trim(part.substr(equals + 1)));
      // expr= and init= hold expressions; `init=relu` is the spec's own word for the default.
      if ((key == "expr" || key == "init") && value != "relu") {
        const Expr expression = Parse(value);
        value = ToString(expression);
        for (const std::string& op : OperatorNames(expression)) operators.insert(op);
      }
      out += std::string(key) + "=" + value;
    }
    start = colon + 1;
  }
  return out;
}

}  // namespace

storage::NewCandidate DescribeActivation(int64_t search_id, const std::string& activation,
                                         const std::string& proposed_by) {
  const ActivationSpec spec = ParseActivationSpec(activation);
  switch (spec.kind) {
    case ActivationSpec::Kind::kRelu:
      return storage::CandidateRow(search_id, AnalyzeExpression(Parse("relu(x)")), proposed_by);
    case ActivationSpec::Kind::kExpression:
      return storage::CandidateRow(search_id, AnalyzeExpression(spec.expression), proposed_by);
    case ActivationSpec::Kind::kSugar:
    case ActivationSpec::Kind::kPwlu: break;
  }
  std::set<std::string> operators = {spec.kind == ActivationSpec::Kind::kSugar ? "sugar" : "pwlu"};
  storage::NewCandidate candidate;
  candidate.search_id = search_id;
  candidate.expression = CanonicalModeSpec(Trim(activation), operators);
  candidate.fingerprint = FingerprintToHex(HashText(candidate.expression));
  candidate.proposed_by = proposed_by;
  candidate.operators.assign(operators.begin(), operators.end());
  return candidate;
}

int64_t RecordActivationRun(storage::ResultsStore& store, int64_t search_id,
                            const std::string& activation, const std::string& proposed_by,
                            uint64_t seed, const TrainResult& result) {
  const int64_t candidate =
      store.AddCandidate(DescribeActivation(search_id, activation, proposed_by));
  const int64_t trial = store.QueueTrial(candidate, static_cast<int64_t>(seed));
  store.RecordResult(trial, ToTrialResult(result));
  return trial;
}

}  // namespace actsearch::worker
