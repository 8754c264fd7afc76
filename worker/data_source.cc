#include "worker/data_source.h"

#include "worker/cifar.h"
#include "worker/idx.h"
#include "worker/synthetic.h"

namespace actsearch::worker {

DatasetSplits LoadDataset(const std::string& spec, int64_t validation_size) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string dir = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const int64_t validation = validation_size < 0 ? 5000 : validation_size;
  auto need_dir = [&] {
    if (dir.empty()) throw DataError("dataset '" + kind + "' needs a directory: " + kind + ":DIR");
  };
  if (kind == "cifar10") {
    need_dir();
    return LoadCifar10(dir, validation);
  }
  if (kind == "cifar100") {
    need_dir();
    return LoadCifar100(dir, validation);
  }
  if (kind == "fashion-mnist") {
    return LoadIdxDataset("fashion-mnist", dir.empty() ? kDebianFashionMnistDir : dir, validation);
  }
  if (kind == "mnist") {
    need_dir();
    return LoadIdxDataset("mnist", dir, validation);
  }
  if (kind == "synthetic") return MakeSyntheticDataset();
  throw DataError("unknown dataset '" + spec +
                  "' (cifar10:DIR, cifar100:DIR, fashion-mnist[:DIR], mnist:DIR, synthetic)");
}

}  // namespace actsearch::worker
