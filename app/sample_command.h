// `sngan sample` and `sngan bench`.
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

struct BenchOptions {
  std::string config_path;
  int64_t iters = 10;
  int64_t warmup = 2;
  int threads = 0;
};
int run_bench(const BenchOptions& options);

}  // namespace sngan
