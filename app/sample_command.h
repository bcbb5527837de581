// `sngan sample`.
#pragma once

#include <cstdint>
#include <string>

namespace sngan {

struct SampleOptions {
  std::string checkpoint;
  int64_t n = 64;
  std::string out_dir;
  uint64_t seed = 0;
  bool grid = false;       // also write grid.png
  bool grid_only = false;  // only grid.png
  bool ema = false;        // sample from the EMA generator
};
int run_sample(const SampleOptions& options);

}  // namespace sngan
