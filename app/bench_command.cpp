#include "app/bench_command.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "app/mpi_group.h"
#include "app/run_setup.h"
#include "core/tensor/cpu_info.h"
#include "core/tensor/kernels/gemm_ops.h"
#include "core/nn/spectral_norm.h"

namespace sngan {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// GFLOP/s of the fp32 GEMM engine the kernels run on (the AVX-512 micro-kernel or Eigen) at
// conv-like shapes, on the benchmark's threads: the ceiling for GEMM-shaped work. The best
// shape's median over 5 runs.
double sgemm_probe() {
  struct S { int64_t m, k, n; };
  kernels::PrecisionScope fp32(kernels::Precision::kFp32);
  std::mt19937 rng(1);
  double best = 0;
  for (S s : {S{128, 1152, 4096}, S{256, 2304, 1024}, S{64, 576, 16384}}) {
    // Plain vectors, not pooled tensors: freed at once, so they never add to the training's
    // peak memory.
    std::vector<Scalar> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n));
    std::vector<Scalar> c(static_cast<size_t>(s.m * s.n));
    std::uniform_real_distribution<Scalar> uniform(-1, 1);
    for (Scalar& v : a) v = uniform(rng);
    for (Scalar& v : b) v = uniform(rng);
    auto product = [&] {
      kernels::matmul(c.data(), a.data(), b.data(), s.m, s.k, s.n, false, false, false);
    };
    product();  // warm-up
    std::vector<double> rates;
    for (int r = 0; r < 5; ++r) {
      auto t = std::chrono::steady_clock::now();
      product();
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      rates.push_back(2.0 * s.m * s.k * s.n / sec / 1e9);
    }
    best = std::max(best, median(rates));
  }
  return best;
}

}  // namespace

int run_bench(const BenchOptions& o) {
  SNGAN_CHECK(o.iters > 0, "--iters: expected > 0, got ", o.iters);
  RunConfig cfg = load_run_config(o.config_path, o.overrides);
  const bool bf16 = cfg.train.precision == kernels::Precision::kBf16;
  ProcessGroup* group = world_group();  // under mpirun: one job over the ranks
  const int ranks = group ? group->size() : 1;
  if (group && group->rank() > 0 && !std::freopen("/dev/null", "w", stdout)) return 0;  // rank 0 reports
  const int threads = set_threads(threads_per_rank(o.threads > 0 ? o.threads : cfg.threads));
  // The ceiling first: its matrices are freed before training, so they never add to the
  // training's peak memory.
  const double ceiling = sgemm_probe();
  const CpuInfo cpu = cpu_info();
  const double fma_peak = fma_peak_gflops(threads), bf16_peak = bf16_dot_peak_gflops(threads);
  const double amx_peak = amx_bf16_peak_gflops(threads);
  const ModelCost cost = measure_model_cost(cfg);
  release_cached_memory();  // the cost probe's small trainers: not part of the benchmark's memory
  Trainer trainer(cfg.train, cfg.generator, cfg.discriminator);
  trainer.set_process_group(group);

  // Synthetic data: a few fixed batches in [-1, 1], cycled.
  std::vector<int64_t> dims{cfg.train.batch_size};
  for (int64_t d : example_shape(cfg).to_vector()) dims.push_back(d);
  std::vector<Tensor> batches;
  Rng rng(1);
  for (int i = 0; i < 4; ++i) {
    Tensor t = Tensor::empty(Shape(dims));
    rng.fill_uniform(t, -1, 1);
    batches.push_back(t);
  }
  size_t next = 0;
  auto source = [&] { return batches[next++ % batches.size()]; };

  std::printf("CPU: %s\n", describe_cpu(cpu).c_str());
  const char* fp32 = kernels::fp32_runs_on_avx512() ? "fp32 (AVX-512 GEMM)" : "fp32 (Eigen GEMM)";
  const std::string precision = !bf16 ? fp32 : detail::concat("bf16 (", kernels::describe(kernels::bf16_engine()), ")");
  std::printf("model %s, batch %ld, G batch %ld, n_dis %ld, %d rank(s) x %d threads, %s; %.1f GFLOP per generator "
              "iteration\n", to_string(cfg.generator.architecture), static_cast<long>(cfg.train.batch_size),
              static_cast<long>(cfg.train.g_batch_size), static_cast<long>(cfg.train.n_dis), ranks, threads,
              precision.c_str(), cost.flop_per_iteration / 1e9);
  for (int64_t i = 0; i < o.warmup; ++i) trainer.step(source);
  PhaseTimes p;
  trainer.set_phase_times(&p);
  const double sn_before = spectral_norm_seconds();
  const double comm_before = group ? group->seconds() : 0;
  mac_counter() = 0;  // what the timed iterations compute (fewer than the model's FLOPs when
                      // ResNet blocks fold their resampling or convs run as Winograd)
  std::vector<double> ms;
  for (int64_t i = 0; i < o.iters; ++i) {
    auto t = std::chrono::steady_clock::now();
    trainer.step(source);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
    std::printf("  iteration %ld: %.1f ms\n", static_cast<long>(i + 1), ms.back());
    std::fflush(stdout);
  }
  const double med = median(ms), best = *std::min_element(ms.begin(), ms.end());
  const double images = static_cast<double>(cfg.train.n_dis * cfg.train.batch_size) / (med / 1e3);
  const double gflops = cost.flop_per_iteration / (med / 1e3) / 1e9;
  // This rank's share of the computed work, times the ranks (their shards differ by a row at most).
  const double computed_flop = 2.0 * static_cast<double>(mac_counter()) * ranks / static_cast<double>(o.iters);
  const double computed_gflops = computed_flop / (med / 1e3) / 1e9;
  const double sn_seconds = spectral_norm_seconds() - sn_before;
  const double comm_seconds = group ? group->seconds() - comm_before : 0;
  const double n = static_cast<double>(o.iters) / 1e3;  // ms per iteration
  std::printf("median %.1f ms per generator iteration (min %.1f, %ld iterations)\n", med, best,
              static_cast<long>(o.iters));
  std::printf("%.1f real images/s, %.1f GFLOP/s of the model's FLOPs\n", images, gflops);
  if (computed_flop < 0.99 * cost.flop_per_iteration)
    std::printf("computed: %.1f GFLOP per iteration (fewer than the model's: Winograd convs, folded resampling), %.1f GFLOP/s\n",
                computed_flop / 1e9, computed_gflops);
  std::printf("per iteration: G forward %.1f ms, G backward %.1f ms, D forward %.1f ms, D backward %.1f ms\n",
              p.g_forward / n, p.g_backward / n, p.d_forward / n, p.d_backward / n);
  std::printf("               spectral norm %.1f ms (inside D forward), optimizer %.1f ms, EMA %.1f ms, data %.2f ms\n",
              sn_seconds / n, p.optimizer / n, p.ema / n, p.data / n);
  if (group)
    std::printf("               communication %.1f ms (%.0f%% of the iteration): gradient sums %.1f ms, the rest "
                "batch-norm statistics and waiting for the slowest rank (rank 0's view)\n",
                comm_seconds / n, 100 * comm_seconds / n / med, p.communicate / n);
  std::printf("SGEMM ceiling (%s): %.1f GFLOP/s; the computed FLOPs run at %.0f%% of it\n",
              kernels::fp32_runs_on_avx512() ? "AVX-512 micro-kernel" : "Eigen", ceiling,
              100 * computed_gflops / ceiling);
  std::string bf16_text = bf16_peak > 0 ? detail::concat(", AVX512_BF16 dot products ", static_cast<int>(bf16_peak + 0.5),
                                                         " GFLOP/s")
                                       : std::string(", no AVX512_BF16");
  if (amx_peak > 0) bf16_text += detail::concat(", AMX-BF16 tiles ", static_cast<int>(amx_peak + 0.5), " GFLOP/s");
  std::printf("FMA peak of %d threads (measured): fp32 %.1f GFLOP/s%s; the computed FLOPs run at %.0f%% of the fp32 "
              "peak\n",
              threads, fma_peak, bf16_text.c_str(), fma_peak > 0 ? 100 * computed_gflops / fma_peak : 0.0);
  const kernels::Bf16Engine engine = kernels::bf16_engine();
  if (bf16 && engine == kernels::Bf16Engine::kAmxTiles && amx_peak > 0)
    std::printf("bf16 on AMX tiles: the computed FLOPs run at %.1f%% of the AMX-BF16 peak\n",
                100 * computed_gflops / amx_peak);
  if (bf16 && engine == kernels::Bf16Engine::kAvx512Dot && bf16_peak > 0)
    std::printf("bf16 on AVX512_BF16 dot products: the computed FLOPs run at %.1f%% of their peak\n",
                100 * computed_gflops / bf16_peak);
  std::printf("RESULT sgemm_gflops=%.2f\n", ceiling);
  std::printf("RESULT fma_peak_gflops=%.2f bf16_peak_gflops=%.2f amx_bf16_peak_gflops=%.2f\n", fma_peak, bf16_peak,
              amx_peak);
  std::printf("RESULT impl=sngan arch=%s precision=%s batch=%ld n_dis=%ld ranks=%d threads=%d ms_per_iter=%.2f "
              "images_per_s=%.2f gflop_per_iter=%.3f gflops=%.2f computed_gflops=%.2f peak_rss_mb=%.1f "
              "comm_ms_per_iter=%.2f\n",
              to_string(cfg.generator.architecture), bf16 ? "bf16" : "fp32", static_cast<long>(cfg.train.batch_size),
              static_cast<long>(cfg.train.n_dis), ranks, threads, med, images, cost.flop_per_iteration / 1e9,
              gflops, computed_gflops, peak_rss_mb(), comm_seconds * 1e3 / static_cast<double>(o.iters));
  return 0;
}

}  // namespace sngan
