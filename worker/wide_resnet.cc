#include "worker/wide_resnet.h"

#include <stdexcept>
#include <string>

namespace actsearch::worker {

PreActResNetOptions ToPreActResNetOptions(const WideResNetOptions& wide) {
  if (wide.depth < 10 || (wide.depth - 4) % 6 != 0) {
    throw std::invalid_argument("Wide ResNet depth must be 6n + 4 (10, 16, 22, 28, 40), got " +
                                std::to_string(wide.depth));
  }
  if (wide.widen_factor < 1) {
    throw std::invalid_argument("Wide ResNet widening factor must be at least 1, got " +
                                std::to_string(wide.widen_factor));
  }
  if (!(wide.dropout >= 0 && wide.dropout < 1)) {
    throw std::invalid_argument("Wide ResNet dropout must be in [0, 1), got " +
                                std::to_string(wide.dropout));
  }
  const int64_t n = (wide.depth - 4) / 6;
  const int64_t k = wide.widen_factor;
  PreActResNetOptions options;
  options.stem_width = 16;
  options.stage_widths = {16 * k, 32 * k, 64 * k};
  options.blocks_per_stage = {n, n, n};
  options.dropout = wide.dropout;
  return options;
}

}  // namespace actsearch::worker
