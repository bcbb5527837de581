// inception_bench: FID Inception-v3 throughput, images per second through embed() (resize to
// 299x299, pool3 features and logits), on the deterministic test weights
// (tests/metrics/inception_test_weights.h; the speed does not depend on the values).
// One warm-up embed, then --reps timed embeds of --images images; prints the median and the
// best wall-clock images/s, the process CPU seconds per image (meaningful on a busy machine,
// where wall-clock is not), GFLOP/s (2 x the multiply-adds the conv and matmul kernels count)
// and the load average before the run.
//
//   inception_bench [--threads N] [--reps N] [--images N] [--batch N] [--size HW]
//                   [--channels C] [--unfolded]
// Defaults: all OpenMP threads, 5 reps, 50 images of 3x32x32, InceptionOptions' batch (8).
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/metrics/inception.h"
#include "core/tensor/ops.h"
#include "tests/metrics/inception_test_weights.h"

using namespace sngan;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--threads N] [--reps N] [--images N] [--batch N] [--size HW] "
               "[--channels C] [--unfolded]\n",
               argv0);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = omp_get_max_threads(), reps = 5;
  int64_t images = 50, size = 32, channels = 3;
  InceptionOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> long {
      if (i + 1 >= argc) usage(argv[0]);
      return std::strtol(argv[++i], nullptr, 10);
    };
    if (a == "--threads") threads = int(next());
    else if (a == "--reps") reps = int(next());
    else if (a == "--images") images = next();
    else if (a == "--batch") options.batch = next();
    else if (a == "--size") size = next();
    else if (a == "--channels") channels = next();
    else if (a == "--unfolded") options.fold_batch_norm = false;
    else usage(argv[0]);
  }
  if (threads < 1 || reps < 1 || images < 1 || options.batch < 1 || size < 1) usage(argv[0]);
  omp_set_num_threads(threads);

  auto net = make_inception_v3(inception_test::formula_inception_weights(), "formula weights", options);
  const Tensor x = inception_test::formula_images("bench", Shape{images, channels, size, size});
  Tensor features, logits;
  std::printf("inception_bench: %lld images of %lldx%lldx%lld, batch %lld, %d threads, %s batch norm, "
              "load average %s\n",
              (long long)images, (long long)channels, (long long)size, (long long)size,
              (long long)options.batch, threads, options.fold_batch_norm ? "folded" : "unfolded",
              load_average().c_str());
  mac_counter() = 0;
  net->embed(x, &features, &logits);  // warm-up: workspaces grow, pages fault in
  const double flops_per_image = 2.0 * double(mac_counter()) / double(images);
  std::vector<double> wall, cpu;
  for (int r = 0; r < reps; ++r) {
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    net->embed(x, &features, &logits);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu.push_back(cpu_seconds() - c0);
    std::printf("  rep %d: %.2f s, %.2f images/s, %.3f CPU s/image\n", r + 1, wall.back(),
                double(images) / wall.back(), cpu.back() / double(images));
  }
  std::vector<double> sorted = wall;
  std::sort(sorted.begin(), sorted.end());
  std::sort(cpu.begin(), cpu.end());
  const double median = sorted[sorted.size() / 2], best = sorted.front();
  std::printf("images/s: median %.2f, best %.2f; CPU s/image median %.3f; %.2f GFLOP/image, "
              "%.1f GFLOP/s median\n",
              double(images) / median, double(images) / best, cpu[cpu.size() / 2] / double(images),
              flops_per_image * 1e-9, flops_per_image * double(images) / median * 1e-9);
  return 0;
}
