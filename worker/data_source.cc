#include "worker/data_source.h"

#include "worker/cifar.h"
#include "worker/idx.h"
#include "worker/synthetic.h"

namespace actsearch::worker {
namespace {

struct ParsedSpec {
  std::string kind;
  std::string dir;
};

ParsedSpec ParseSpec(const std::string& spec) {
  const size_t colon = spec.find(':');
  ParsedSpec parsed{spec.substr(0, colon),
                    colon == std::string::npos ? "" : spec.substr(colon + 1)};
  const bool known = parsed.kind == "cifar10" || parsed.kind == "cifar100" ||
                     parsed.kind == "fashion-mnist" || parsed.kind == "mnist" ||
                     parsed.kind == "synthetic";
  if (!known) {
    throw DataError("unknown dataset '" + spec +
                    "' (cifar10:DIR, cifar100:DIR, fashion-mnist[:DIR], mnist:DIR, synthetic)");
  }
  const bool needs_dir = parsed.kind != "fashion-mnist" && parsed.kind != "synthetic";
  if (needs_dir && parsed.dir.empty()) {
    throw DataError("dataset '" + parsed.kind + "' needs a directory: " + parsed.kind + ":DIR");
  }
  return parsed;
}

}  // namespace

void CheckDatasetSpec(const std::string& spec) { ParseSpec(spec); }

DatasetSplits LoadDataset(const std::string& spec, int64_t validation_size) {
  const ParsedSpec parsed = ParseSpec(spec);
  const int64_t validation = validation_size < 0 ? 5000 : validation_size;
  if (parsed.kind == "cifar10") return LoadCifar10(parsed.dir, validation);
  if (parsed.kind == "cifar100") return LoadCifar100(parsed.dir, validation);
  if (parsed.kind == "fashion-mnist") {
    return LoadIdxDataset("fashion-mnist", parsed.dir.empty() ? kDebianFashionMnistDir : parsed.dir,
                          validation);
  }
  if (parsed.kind == "mnist") return LoadIdxDataset("mnist", parsed.dir, validation);
  return MakeSyntheticDataset();
}

}  // namespace actsearch::worker
