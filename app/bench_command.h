// `sngan bench`: times generator iterations of a config's model on synthetic data and prints
// the median, the phase breakdown and the machine's SGEMM ceiling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sngan {

struct BenchOptions {
  std::string config_path;
  int64_t iters = 10;   // measured generator iterations
  int64_t warmup = 2;   // untimed iterations first
  int threads = 0;      // 0: the config's thread count
  std::vector<std::string> overrides;  // key.path=value, as train's --set
};
int run_bench(const BenchOptions& options);

}  // namespace sngan
