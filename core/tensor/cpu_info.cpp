#include "core/tensor/cpu_info.h"

#include <immintrin.h>
#include <omp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/tensor/amx_tiles.h"

namespace sngan {

namespace {

// Linux hands out the AMX tile registers only on request (arch_prctl, Linux 5.16+).
bool request_amx_tiles() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  static const bool granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return granted;
}

}  // namespace

CpuInfo cpu_info() {
  CpuInfo c;
  c.model = "unknown CPU";
  std::string flags;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line) && (c.model == "unknown CPU" || flags.empty());) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line.rfind("model name", 0) == 0 && colon + 2 <= line.size()) c.model = line.substr(colon + 2);
    if (line.rfind("flags", 0) == 0) flags = line.substr(colon + 1) + " ";
  }
  __builtin_cpu_init();
  c.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  c.avx512f = __builtin_cpu_supports("avx512f");
  c.avx512_bf16 = c.avx512f && __builtin_cpu_supports("avx512bf16");
  c.amx_bf16 = flags.find(" amx_bf16 ") != std::string::npos && flags.find(" amx_tile ") != std::string::npos &&
               request_amx_tiles();
  return c;
}

std::string describe_cpu(const CpuInfo& cpu) {
  return cpu.model + " (AVX-512 " + (cpu.avx512f ? "yes" : "no") + ", AVX512_BF16 " +
         (cpu.avx512_bf16 ? "yes" : "no") + ", AMX-BF16 " + (cpu.amx_bf16 ? "yes" : "no") + ")";
}

namespace {

// Iterations of each probe loop per thread and timing: 12 independent chains hide the FMA
// latency (4-5 cycles) on two FMA ports.
constexpr long kLoopIters = 1L << 21;
constexpr int kChains = 12;

// The sum of the 16 lanes (stored and added: GCC 12's _mm512_reduce_add_ps warns spuriously).
__attribute__((target("avx512f"))) float lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float total = 0;
  for (float x : lanes) total += x;
  return total;
}

__attribute__((target("avx512f"))) float fma_loop_avx512(long iters) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(1.0f + 0.01f * static_cast<float>(k));
  const __m512 mul = _mm512_set1_ps(0.9999999f), add = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], mul, add);
  __m512 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm512_add_ps(sum, acc[k]);
  return lane_sum(sum);
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(long iters) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm256_set1_ps(1.0f + 0.01f * static_cast<float>(k));
  const __m256 mul = _mm256_set1_ps(0.9999999f), add = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < kChains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], mul, add);
  __m256 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx512f,avx512bf16"))) float bf16_loop(long iters) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_setzero_ps();
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(3e-3f), _mm512_set1_ps(1e-3f));
  for (long i = 0; i < iters; ++i)
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_dpbf16_ps(acc[k], a, b);
  __m512 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm512_add_ps(sum, acc[k]);
  return lane_sum(sum);
}

// Four independent 16x16 fp32 accumulator tiles, each += a 16x32 bf16 tile times a 32x16 one
// (16*16*32 multiply-adds per tdpbf16ps).
__attribute__((target("amx-tile,amx-bf16"))) float amx_loop(long iters) {
  configure_full_tiles();
  alignas(64) uint16_t a[16 * 32], b[16 * 32];
  for (int i = 0; i < 16 * 32; ++i) {
    a[i] = 0x3c00;  // bf16 2^-7
    b[i] = 0x3b80;  // bf16 2^-8
  }
  _tile_loadd(4, a, 64);
  _tile_loadd(5, b, 64);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, a, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (long i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 5);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 7, 5);
    _tile_dpbf16ps(3, 7, 6);
  }
  alignas(64) float c[16 * 16];
  _tile_stored(0, c, 64);
  _tile_release();
  return c[0];
}

// Best GFLOP/s of `threads` threads each running loop(kLoopIters), which does flop_per_iter
// FLOPs per iteration.
template <typename Loop>
double best_rate(Loop loop, double flop_per_iter, int threads, int repeats) {
  threads = std::max(1, threads);
  volatile float sink = 0;
  double best = 0;
  for (int r = 0; r <= std::max(1, repeats); ++r) {  // the first round warms up the threads
    const auto start = std::chrono::steady_clock::now();
    float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += loop(kLoopIters);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink = sink + total;
    if (r > 0) best = std::max(best, flop_per_iter * static_cast<double>(kLoopIters) * threads / sec / 1e9);
  }
  return best;
}

}  // namespace

double fma_peak_gflops(int threads, int repeats) {
  const CpuInfo cpu = cpu_info();
  if (cpu.avx512f) return best_rate(fma_loop_avx512, 2.0 * 16 * kChains, threads, repeats);
  if (cpu.avx2_fma) return best_rate(fma_loop_avx2, 2.0 * 8 * kChains, threads, repeats);
  return 0;
}

double bf16_dot_peak_gflops(int threads, int repeats) {
  if (!cpu_info().avx512_bf16) return 0;
  return best_rate(bf16_loop, 4.0 * 16 * kChains, threads, repeats);  // 16 lanes x 2 products x 2
}

double amx_bf16_peak_gflops(int threads, int repeats) {
  if (!cpu_info().amx_bf16) return 0;
  // A tile product is ~16 cycles: a quarter of the vector loops' iterations takes ~20 ms too.
  return best_rate([](long iters) { return amx_loop(iters / 4); }, 2.0 * 16 * 16 * 32 * 4 / 4, threads, repeats);
}

}  // namespace sngan
