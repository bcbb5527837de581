// What the two Winograd conv families share (winograd.cpp: F(2x2, 3x3) for 3x3 stride-1
// convs; winograd_stride2.cpp: F(2x2, 2x2) for 4x4 stride-2 ones): the grid of 2x2 output
// tiles over a chunk of samples, the tiles' values as shifted runs of phase planes, the plan of
// chunks that keeps every sum's order independent of the thread count, and per-thread buffers.
// Internal to the kernels; only called where the CPU has AVX-512F (and, in bf16, a bf16 engine).
#pragma once

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor/kernels/avx512_block.h"
#include "core/tensor/kernels/gemm_avx512.h"
#include "core/tensor/kernels/gemm_bf16.h"
#include "core/tensor/kernels/winograd.h"

namespace sngan::kernels::winograd_tiles {

#define SNGAN_WINOGRAD_AVX512 __attribute__((target("avx512f")))

// Chunks are planned for two threads whatever the thread count, so every GEMM's shape and
// every sum's order stays the same.
constexpr int64_t kPlanThreads = 2;

// The output tiles of a chunk, t = (sample, tile row th, tile column tw) in order.
struct TileGrid {
  int64_t TH, TW, tps, T;  // tile rows and columns per sample, tiles per sample, in the chunk
  int64_t groups() const { return (T + 15) / 16; }
};

// masks[g * 9 + (di + 1) * 3 + (dj + 1)]: the tiles of 16-tile group g whose neighbour
// (th + di, tw + dj) lies in the grid (a run of a phase plane shifted by di * TW + dj reads
// the neighbour's value).
inline const uint16_t* shift_masks(const TileGrid& grid) {
  thread_local std::vector<uint16_t> masks;
  masks.assign(static_cast<size_t>(grid.groups() * 9), 0);
  for (int64_t t = 0; t < grid.T; ++t) {
    const int64_t th = (t % grid.tps) / grid.TW, tw = t % grid.TW;
    for (int di = -1; di <= 1; ++di)
      for (int dj = -1; dj <= 1; ++dj)
        if (th + di >= 0 && th + di < grid.TH && tw + dj >= 0 && tw + dj < grid.TW)
          masks[static_cast<size_t>((t / 16) * 9 + (di + 1) * 3 + (dj + 1))] |= uint16_t(1u << (t % 16));
  }
  return masks.data();
}

// Lane permutations between a 16-float run of a row and its S phases, phase k's 16/S values
// in lanes [k * 16/S, (k + 1) * 16/S): split[k * 16/S + j] = S * j + k, merge its inverse.
template <int S>
SNGAN_WINOGRAD_AVX512 inline __m512i split_lanes() {
  alignas(64) int32_t idx[16];
  for (int l = 0; l < 16; ++l) idx[l] = (l % (16 / S)) * S + l / (16 / S);
  return _mm512_load_si512(idx);
}
template <int S>
SNGAN_WINOGRAD_AVX512 inline __m512i merge_lanes() {
  alignas(64) int32_t idx[16];
  for (int l = 0; l < 16; ++l) idx[l] = (l % S) * (16 / S) + l / S;
  return _mm512_load_si512(idx);
}

// The same for an 8-float row and its 4 stride-4 phases: split[k * 2 + j] = 4 * j + k, merge
// its inverse.
SNGAN_WINOGRAD_AVX512 inline __m256i stride4_split8() { return _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7); }
SNGAN_WINOGRAD_AVX512 inline __m256i stride4_merge8() { return _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7); }

// Small maps go several rows per step: 16 values of stride-2 phase planes (a, c) = (q / 2, q %
// 2), 4 per plane, are rows h, h + 1 of a map 8 wide (lane a * 8 + col) or rows h .. h + 3 of a
// map 4 wide (lane row * 4 + col); lane_of_pair_rows8 / lane_of_quad_rows4 give each plane
// value's lane, plane q's value j (or i * 2 + j) at q * 4 + j. And stride-4 phase planes of a map 8 wide, 8 rows
// (four registers of two rows each): Q_a (the planes (a, c), c = 0..3, four values each: lane c *
// 4 + i * 2 + j for map(4i + a, 4j + c)) comes from registers a / 2 (i = 0) and 2 + a / 2 (i =
// 1), lane (a % 2) * 8 + 4j + c. (conv_bench, 2 threads, batch 64, best of 40, three alternating
// rounds, AMD EPYC Zen 4, forward against row by row: 3x3 256 -> 512 at 4x4 6.1-7.3 against
// 6.4-8.4 ms, 128 -> 256 at 8x8 5.6 against 5.6-6.4; the stride-2 layers at 8x8 within noise.)
inline int lane_of_pair_rows8(int L) { const int q = L / 4, j = L % 4; return (q / 2) * 8 + 2 * j + q % 2; }
inline int lane_of_quad_rows4(int L) {
  const int q = L / 4, i = (L % 4) / 2, j = L % 2;
  return (2 * i + q / 2) * 4 + 2 * j + q % 2;
}
inline int lane_of_stride4_rows8(int a_odd, int L) {
  const int c = L / 4, i = (L % 4) / 2, j = L % 2;
  return (i == 1 ? 16 : 0) + a_odd * 8 + 4 * j + c;
}
// A 16-lane index vector from f(lane), or its inverse permutation.
template <typename F>
SNGAN_WINOGRAD_AVX512 inline __m512i lane_table(F&& f, bool inverse = false) {
  alignas(64) int32_t idx[16];
  for (int l = 0; l < 16; ++l) {
    if (inverse) idx[f(l) % 16] = l;
    else idx[l] = f(l);
  }
  return _mm512_load_si512(idx);
}
SNGAN_WINOGRAD_AVX512 inline void store4x4(float* const dst[4], __m512 v) {
  _mm_storeu_ps(dst[0], _mm512_extractf32x4_ps(v, 0));
  _mm_storeu_ps(dst[1], _mm512_extractf32x4_ps(v, 1));
  _mm_storeu_ps(dst[2], _mm512_extractf32x4_ps(v, 2));
  _mm_storeu_ps(dst[3], _mm512_extractf32x4_ps(v, 3));
}
SNGAN_WINOGRAD_AVX512 inline __m512 load4x4(const float* const src[4]) {
  __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(src[0]));
  v = _mm512_insertf32x4(v, _mm_loadu_ps(src[1]), 1);
  v = _mm512_insertf32x4(v, _mm_loadu_ps(src[2]), 2);
  return _mm512_insertf32x4(v, _mm_loadu_ps(src[3]), 3);
}

// The chunk's samples' (H, W) maps of one channel (the first at `map`, the next `sample`
// floats on) into their S*S phase planes of one value per tile:
// planes[a * S + b] + t = map(S * th + a, S * tw + b) (H = S * TH, W = S * TW), S = 2 or 4.
// Maps 8 wide (and 4 wide in stride 2) go several rows per permute (see above); rows a multiple
// of 16 wide go 16 values at a time, one permute and S stores each; the rest of the maps 8 or 4
// wide (heights not a multiple of 8 in stride 4, of 4 in stride 2) row by row, one short
// permute each.
template <int S>
SNGAN_WINOGRAD_AVX512 void split_phases(float* const planes[S * S], const float* map, int64_t sample,
                                        int64_t H, int64_t W, const TileGrid& grid) {
  static_assert(S == 2 || S == 4 || S == 8, "phase planes of stride 2, 4 or 8");
  const int64_t TW = grid.TW, samples = grid.T / grid.tps;
  const __m512i permute = split_lanes<S>();
  if (S == 2 && (W == 8 || (W == 4 && H % 4 == 0))) {  // 2 rows of 8 or 4 rows of 4 per step
    const int64_t rows = W == 8 ? 2 : 4;
    const __m512i gather = W == 8 ? lane_table(lane_of_pair_rows8) : lane_table(lane_of_quad_rows4);
    for (int64_t b = 0; b < samples; ++b)
      for (int64_t h = 0; h < H; h += rows) {
        const int64_t at = b * grid.tps + (h / 2) * TW;
        float* const dst[4] = {planes[0] + at, planes[1] + at, planes[2] + at, planes[3] + at};
        store4x4(dst, _mm512_permutexvar_ps(gather, _mm512_loadu_ps(map + b * sample + h * W)));
      }
    return;
  }
  if (S == 4 && W == 8 && H % 8 == 0) {  // 8 rows per step
    const __m512i even = lane_table([](int l) { return lane_of_stride4_rows8(0, l); });
    const __m512i odd = lane_table([](int l) { return lane_of_stride4_rows8(1, l); });
    for (int64_t b = 0; b < samples; ++b)
      for (int64_t h = 0; h < H; h += 8) {
        const float* src = map + b * sample + h * W;
        const __m512 z[4] = {_mm512_loadu_ps(src), _mm512_loadu_ps(src + 16), _mm512_loadu_ps(src + 32),
                             _mm512_loadu_ps(src + 48)};
        const int64_t at = b * grid.tps + (h / 4) * TW;
        for (int a = 0; a < 4; ++a) {
          float* const dst[4] = {planes[a * 4] + at, planes[a * 4 + 1] + at, planes[a * 4 + 2] + at,
                                 planes[a * 4 + 3] + at};
          store4x4(dst, _mm512_permutex2var_ps(z[a / 2], a % 2 ? odd : even, z[2 + a / 2]));
        }
      }
    return;
  }
  for (int64_t b = 0; b < samples; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const float* __restrict row = map + b * sample + h * W;
      float* dst[S];
      for (int k = 0; k < S; ++k) dst[k] = planes[(h % S) * S + k] + b * grid.tps + (h / S) * TW;
      if (W % 16 == 0) {
        for (int64_t j = 0; j < W; j += 16) {
          const __m512 v = _mm512_permutexvar_ps(permute, _mm512_loadu_ps(row + j));
          if constexpr (S == 2) {
            _mm256_storeu_ps(dst[0] + j / 2, _mm512_castps512_ps256(v));
            _mm256_storeu_ps(dst[1] + j / 2, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
          } else if constexpr (S == 4) {
            _mm_storeu_ps(dst[0] + j / 4, _mm512_extractf32x4_ps(v, 0));
            _mm_storeu_ps(dst[1] + j / 4, _mm512_extractf32x4_ps(v, 1));
            _mm_storeu_ps(dst[2] + j / 4, _mm512_extractf32x4_ps(v, 2));
            _mm_storeu_ps(dst[3] + j / 4, _mm512_extractf32x4_ps(v, 3));
          } else {  // two values per plane
            const __m128 q[4] = {_mm512_extractf32x4_ps(v, 0), _mm512_extractf32x4_ps(v, 1),
                                 _mm512_extractf32x4_ps(v, 2), _mm512_extractf32x4_ps(v, 3)};
            for (int k = 0; k < 4; ++k) {
              _mm_storel_pi(reinterpret_cast<__m64*>(dst[2 * k] + j / 8), q[k]);
              _mm_storeh_pi(reinterpret_cast<__m64*>(dst[2 * k + 1] + j / 8), q[k]);
            }
          }
        }
        continue;
      }
      if constexpr (S == 4) {
        if (W == 8) {  // (stride 2's maps 8 wide went above) one 8-float permute, 4 pieces of 2
          const __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(row), stride4_split8());
          const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
          _mm_storel_pi(reinterpret_cast<__m64*>(dst[0]), lo);
          _mm_storeh_pi(reinterpret_cast<__m64*>(dst[1]), lo);
          _mm_storel_pi(reinterpret_cast<__m64*>(dst[2]), hi);
          _mm_storeh_pi(reinterpret_cast<__m64*>(dst[3]), hi);
          continue;
        }
      }
      if (S == 2 && W == 4) {  // (e0, o0, e1, o1) -> (e0, e1 | o0, o1)
        const __m128 v = _mm_loadu_ps(row);
        const __m128 p = _mm_shuffle_ps(v, v, _MM_SHUFFLE(3, 1, 2, 0));
        _mm_storel_pi(reinterpret_cast<__m64*>(dst[0]), p);
        _mm_storeh_pi(reinterpret_cast<__m64*>(dst[1]), p);
        continue;
      }
      for (int k = 0; k < S; ++k)
        for (int64_t j = 0; j < TW; ++j) dst[k][j] = row[S * j + k];
    }
}

// The adjoint: the phase planes back into the maps (= or +=).
template <int S>
SNGAN_WINOGRAD_AVX512 void merge_phases(const float* const planes[S * S], float* map, int64_t sample,
                                        int64_t H, int64_t W, const TileGrid& grid, bool accumulate) {
  static_assert(S == 2 || S == 4 || S == 8, "phase planes of stride 2, 4 or 8");
  const int64_t TW = grid.TW, samples = grid.T / grid.tps;
  const __m512i permute = merge_lanes<S>();
  if (S == 2 && (W == 8 || (W == 4 && H % 4 == 0))) {  // the split's steps, inverted
    const int64_t rows = W == 8 ? 2 : 4;
    const __m512i scatter =
        W == 8 ? lane_table(lane_of_pair_rows8, true) : lane_table(lane_of_quad_rows4, true);
    for (int64_t b = 0; b < samples; ++b)
      for (int64_t h = 0; h < H; h += rows) {
        const int64_t at = b * grid.tps + (h / 2) * TW;
        const float* const src[4] = {planes[0] + at, planes[1] + at, planes[2] + at, planes[3] + at};
        float* dst = map + b * sample + h * W;
        __m512 v = _mm512_permutexvar_ps(scatter, load4x4(src));
        if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(dst));
        _mm512_storeu_ps(dst, v);
      }
    return;
  }
  if (S == 4 && W == 8 && H % 8 == 0) {
    // Registers k (rows 2k, 2k + 1) from Q_{2 (k % 2)} and Q_{2 (k % 2) + 1}, i = k / 2.
    auto source = [](int k, int l) {
      const int r = 2 * k + l / 8, col = l % 8, a = r % 4, i = r / 4, c = col % 4, j = col / 4;
      return (a % 2 ? 16 : 0) + c * 4 + i * 2 + j;
    };
    const __m512i top = lane_table([&](int l) { return source(0, l); });
    const __m512i bottom = lane_table([&](int l) { return source(2, l); });
    for (int64_t b = 0; b < samples; ++b)
      for (int64_t h = 0; h < H; h += 8) {
        const int64_t at = b * grid.tps + (h / 4) * TW;
        __m512 q[4];
        for (int a = 0; a < 4; ++a) {
          const float* const src[4] = {planes[a * 4] + at, planes[a * 4 + 1] + at, planes[a * 4 + 2] + at,
                                       planes[a * 4 + 3] + at};
          q[a] = load4x4(src);
        }
        float* dst = map + b * sample + h * W;
        for (int k = 0; k < 4; ++k) {
          __m512 v = _mm512_permutex2var_ps(q[2 * (k % 2)], k / 2 ? bottom : top, q[2 * (k % 2) + 1]);
          if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(dst + 16 * k));
          _mm512_storeu_ps(dst + 16 * k, v);
        }
      }
    return;
  }
  for (int64_t b = 0; b < samples; ++b)
    for (int64_t h = 0; h < H; ++h) {
      float* __restrict row = map + b * sample + h * W;
      const float* src[S];
      for (int k = 0; k < S; ++k) src[k] = planes[(h % S) * S + k] + b * grid.tps + (h / S) * TW;
      if (W % 16 == 0) {
        for (int64_t j = 0; j < W; j += 16) {
          __m512 v;
          if constexpr (S == 2) {
            v = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(src[0] + j / 2))),
                                                    _mm256_castps_pd(_mm256_loadu_ps(src[1] + j / 2)), 1));
          } else if constexpr (S == 4) {
            v = _mm512_castps128_ps512(_mm_loadu_ps(src[0] + j / 4));
            v = _mm512_insertf32x4(v, _mm_loadu_ps(src[1] + j / 4), 1);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(src[2] + j / 4), 2);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(src[3] + j / 4), 3);
          } else {  // two values per plane
            __m128 q[4];
            for (int k = 0; k < 4; ++k)
              q[k] = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(src[2 * k] + j / 8)),
                                  reinterpret_cast<const __m64*>(src[2 * k + 1] + j / 8));
            v = _mm512_castps128_ps512(q[0]);
            v = _mm512_insertf32x4(v, q[1], 1);
            v = _mm512_insertf32x4(v, q[2], 2);
            v = _mm512_insertf32x4(v, q[3], 3);
          }
          v = _mm512_permutexvar_ps(permute, v);
          if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(row + j));
          _mm512_storeu_ps(row + j, v);
        }
        continue;
      }
      if constexpr (S == 4) {
        if (W == 8) {  // 4 pieces of 2, one 8-float permute
          const __m128 lo = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(src[0])),
                                         reinterpret_cast<const __m64*>(src[1]));
          const __m128 hi = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(src[2])),
                                         reinterpret_cast<const __m64*>(src[3]));
          __m256 v = _mm256_permutevar8x32_ps(_mm256_set_m128(hi, lo), stride4_merge8());
          if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(row));
          _mm256_storeu_ps(row, v);
          continue;
        }
      }
      if (S == 2 && W == 4) {  // (e0, e1 | o0, o1) -> (e0, o0, e1, o1)
        const __m128 p = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(src[0])),
                                      reinterpret_cast<const __m64*>(src[1]));
        __m128 v = _mm_shuffle_ps(p, p, _MM_SHUFFLE(3, 1, 2, 0));
        if (accumulate) v = _mm_add_ps(v, _mm_loadu_ps(row));
        _mm_storeu_ps(row, v);
        continue;
      }
      for (int k = 0; k < S; ++k) {
        if (accumulate) {
          for (int64_t j = 0; j < TW; ++j) row[S * j + k] += src[k][j];
        } else {
          for (int64_t j = 0; j < TW; ++j) row[S * j + k] = src[k][j];
        }
      }
    }
}

// The batch in chunks of B samples (the last may be shorter), at least `target` tiles each
// where the batch allows, and at least kPlanThreads chunks.
struct Chunks {
  int64_t B, chunks;
};
inline Chunks plan_chunks(int64_t N, int64_t tiles_per_sample, int64_t target) {
  int64_t B = std::max<int64_t>(1, (target + tiles_per_sample - 1) / tiles_per_sample);
  B = std::min(B, (N + kPlanThreads - 1) / kPlanThreads);
  return {B, (N + B - 1) / B};
}

// job(j, position_threads) for j in [0, jobs): with at least as many jobs as threads, the jobs
// over the threads, each job's position GEMMs on its own thread (position_threads 1);
// otherwise the jobs in turn, each spreading its position GEMMs over the threads. (Inside a
// parallel region everything runs on the calling thread.) Who runs a GEMM never changes its
// bits. No parallel region around the jobs when they run in turn: a region inside an inactive
// one would start a nested team, with fresh thread-local buffers, on every call.
template <typename Job>
void for_each_job(int64_t jobs, Job&& job) {
  const int threads = omp_get_level() > 0 ? 1 : omp_get_max_threads();
  if (threads > 1 && jobs >= threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t j = 0; j < jobs; ++j) job(j, 1);
    return;
  }
  for (int64_t j = 0; j < jobs; ++j) job(j, threads);
}
// f(xi) for the positions xi in [0, positions) over `threads` threads.
template <typename F>
void for_each_position(int64_t positions, int threads, F&& f) {
  if (threads <= 1) {
    for (int64_t xi = 0; xi < positions; ++xi) f(xi);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t xi = 0; xi < positions; ++xi) f(xi);
}

// f(o, i, valid) for each row o and block of 16 columns from i (lanes `valid`) of a
// rows x cols table of kernels: the per-kernel transforms' loop, over the threads when called
// outside a parallel region with enough kernels to share.
template <typename F>
void for_each_kernel_block(int64_t rows, int64_t cols, F&& f) {
  const bool par = omp_get_level() == 0 && rows * cols >= 4096;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t o = 0; o < rows; ++o)
    for (int64_t i = 0; i < cols; i += 16) f(o, i, avx512::lanes(cols - i));
}

// Where a kernel transform's output goes: operand `operand`, at the depth of the kernels it came
// from plus `shift`.
struct KernelTarget {
  int64_t operand, shift;
};

// A conv's kCount transformed-kernel operands U_k (rows x depth), written once per call by
// write() into this thread's buffers (the chunks' threads only read them), and the position
// GEMMs that multiply them: M (rows, N) = U_k * op(b) (depth, N). In fp32 they are the AVX-512
// GEMM's packed operands (PackedALayout), in bf16 the bf16 engine's (PackedBf16ALayout), rounded
// to bf16 as they are written.
template <size_t kCount>
class KernelOperands {
 public:
  KernelOperands(int64_t rows, int64_t depth, const WinogradGemms& gemms)
      : gemms_(gemms), fp32_layout_(packed_a_layout(rows, depth)), bf16_layout_{} {
    if (!gemms.bf16) {
      thread_local std::vector<float> buffer;
      const int64_t n = static_cast<int64_t>(kCount) * fp32_layout_.floats();
      if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
      fp32_data_ = buffer.data();
      return;
    }
    bf16_layout_ = packed_bf16_a_layout(rows, depth);
    bf16_stride_ = (bf16_layout_.elems() + 31) / 32 * 32;  // 64-byte multiples
    thread_local std::vector<uint16_t> buffer;
    const int64_t n = static_cast<int64_t>(kCount) * bf16_stride_ + 32;
    if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
    const auto misalignment = reinterpret_cast<uintptr_t>(buffer.data()) % 64;
    bf16_data_ = buffer.data() + (64 - misalignment) % 64 / sizeof(uint16_t);
    // Entries past the depth must be zeros and write() stores only up to it.
    if (depth % 32 != 0) std::fill(bf16_data_, bf16_data_ + static_cast<int64_t>(kCount) * bf16_stride_, uint16_t(0));
  }

  // Writes the operands: transform(kernels, out) maps 16 kernels, given transposed (register q
  // holds tap q of each; lanes outside the operands hold zeros), to kOut outputs, output j going
  // to targets[j]; load(r, k) gives the taps of the kernel of row r at depth k < `depth` (the
  // depth the transform's kernels span; the targets' shifts place it within the operands').
  // In fp32 the 16 kernels are 16 rows at one depth (a packed panel's 12 used), in bf16 one row
  // at 16 depths (half a row of the engine's 32-deep tiles).
  template <size_t kOut, typename Load, typename Transform>
  void write(int64_t depth, Load&& load, Transform&& transform, const std::array<KernelTarget, kOut>& targets) {
    if (gemms_.bf16) write_bf16(depth, load, transform, targets);
    else write_fp32(depth, load, transform, targets);
  }

  void multiply(int64_t k, float* c, int64_t ldc, const BOperand& b, int64_t N) const {
    const int64_t rows = fp32_layout_.rows, depth = fp32_layout_.depth;
    if (gemms_.bf16) {
      gemm_bf16_packed(gemms_.engine, c, ldc, PackedBf16A{bf16_data_ + k * bf16_stride_, rows, depth}, 0, b, rows, N,
                       false);
    } else {
      gemm_fp32_avx512_packed(c, ldc, PackedA{fp32_data_ + k * fp32_layout_.floats(), rows, depth}, 0, b, rows, N,
                              false);
    }
  }

 private:
  template <size_t kOut, typename Load, typename Transform>
  SNGAN_WINOGRAD_AVX512 void write_fp32(int64_t depth, Load& load, Transform& transform,
                                        const std::array<KernelTarget, kOut>& targets) {
    const PackedALayout& layout = fp32_layout_;
    const int64_t rows = layout.rows, panels = layout.padded_rows / kPackedRowAlign;
    const __mmask16 panel_rows = avx512::lanes(kPackedRowAlign);  // padding rows get zeros
    const bool par = omp_get_level() == 0 && rows * depth >= 4096;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t panel = 0; panel < panels; ++panel) {
      const int64_t r0 = panel * kPackedRowAlign, n = std::min(kPackedRowAlign, rows - r0);
      for (int64_t k = 0; k < depth; ++k) {
        __m512i kernels[16];
        for (int64_t i = 0; i < 16; ++i) kernels[i] = i < n ? load(r0 + i, k) : _mm512_setzero_si512();
        avx512::transpose16(kernels);
        __m512 out[kOut];
        transform(kernels, out);
        int64_t shift = -1, at = 0;  // the offset for the targets' shift (a division: once per shift)
        for (size_t j = 0; j < kOut; ++j) {
          if (targets[j].shift != shift) shift = targets[j].shift, at = layout.offset(r0, k + shift);
          _mm512_mask_storeu_ps(fp32_data_ + targets[j].operand * layout.floats() + at, panel_rows, out[j]);
        }
      }
    }
  }

  template <size_t kOut, typename Load, typename Transform>
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void write_bf16(
      int64_t depth, Load& load, Transform& transform, const std::array<KernelTarget, kOut>& targets) {
    const PackedBf16ALayout& layout = bf16_layout_;
    const int64_t rows = layout.rows;
    const bool par = omp_get_level() == 0 && rows * depth >= 4096;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < layout.padded_rows; ++r) {  // padding rows get zeros
      // 32 depths per step, two transforms of 16: where they start a tile row (no shift off a
      // multiple of 32), one whole 64-byte row per target, else each half in pieces.
      for (int64_t k0 = 0; k0 < depth; k0 += 32) {
        __m512 out[2][kOut];
        int64_t n[2];
        for (int h = 0; h < 2; ++h) {
          const int64_t kh = k0 + 16 * h;
          n[h] = std::clamp<int64_t>(depth - kh, 0, 16);
          __m512i kernels[16];
          for (int64_t i = 0; i < 16; ++i) kernels[i] = r < rows && i < n[h] ? load(r, kh + i) : _mm512_setzero_si512();
          avx512::transpose16(kernels);
          transform(kernels, out[h]);
        }
        int64_t shift = -1;
        bool whole = false;
        int64_t at = 0;
        for (size_t j = 0; j < kOut; ++j) {
          if (targets[j].shift != shift) {  // the offsets (divisions) once per shift
            shift = targets[j].shift;
            whole = n[1] == 16 && (k0 + shift) % 32 == 0;
            at = layout.at(r, k0 + shift);
          }
          uint16_t* dst = bf16_data_ + targets[j].operand * bf16_stride_;
          if (whole) {
            _mm512_store_si512(dst + at, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(out[1][j], out[0][j])));
            continue;
          }
          for (int h = 0; h < 2 && n[h] > 0; ++h) {  // n depths from k: contiguous up to a multiple of 32
            const int64_t k = k0 + 16 * h + shift, first = std::min<int64_t>(n[h], 32 - k % 32);
            const __m256i v = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(out[h][j]));
            _mm256_mask_storeu_epi16(dst + layout.at(r, k), avx512::lanes(first), v);
            if (first < n[h])
              _mm256_mask_storeu_epi16(dst + layout.at(r, k + first) - first,
                                       static_cast<__mmask16>(avx512::lanes(n[h]) & ~avx512::lanes(first)), v);
          }
        }
      }
    }
  }

  WinogradGemms gemms_;
  PackedALayout fp32_layout_;
  PackedBf16ALayout bf16_layout_;
  float* fp32_data_ = nullptr;
  uint16_t* bf16_data_ = nullptr;
  int64_t bf16_stride_ = 0;
};

// The weight gradients' GEMMs, c (M, N) (=|+=) op(a) (M, K) * op(b) (K, N), in the conv's
// precision (see gemm_fp32_avx512 and gemm_bf16).
inline void multiply(const WinogradGemms& gemms, float* c, int64_t ldc, const float* a, int64_t lda, bool ta,
                     const BOperand& b, int64_t M, int64_t N, int64_t K, bool add) {
  if (gemms.bf16) gemm_bf16(gemms.engine, c, ldc, a, lda, ta, b, M, N, K, add);
  else gemm_fp32_avx512(c, ldc, a, lda, ta, b, M, N, K, add);
}

// Where a chunk's transformed tiles go: position xi's operand (depth K = channels, T columns =
// tiles) at + xi * position, row k's tile t at row(k).at(t). Either the fp32 GEMM's own packed
// B panels (the forward's and input gradient's operands, read without packing), or plain rows
// of T tiles (the weight gradient's, which its GEMM reads transposed), or, for the bf16
// engine's forward and input gradient, its pair tiles (PackedBf16BLayout, one per position,
// `pairs` elements apart): the transforms then write rows into a staging area of two rows per
// block of `block` rows (depth = blocks x block; row k = b * block + r at slot 2b + r % 2), and
// rows_written(V, r), called once row r of every block is in, rounds and packs rows r - 1 and
// r when r is odd. (Against plain fp32 rows that the engine packs per GEMM, conv_bench,
// 2 threads, batch 64, bf16, best of 20, two alternating rounds, AMD EPYC Zen 4: 4x4 stride 2
// 256 -> 256 at 8x8 forward 3.9-4.0 against 4.7 ms, input gradient 4.4-4.7 against 5.3-5.7;
// 256 -> 512 at 8x8 7.0-7.6 against 8.7-8.9 and 7.9-9.5 against 10.1-10.5; 3x3 128 -> 256
// at 8x8 3.2-3.3 against 3.5-3.6; 64 -> 64 at 32x32 within noise.)
struct TileOperands {
  int64_t position, T;
  bool packed;
  PackedBRows panels;
  uint16_t* bf16 = nullptr;
  PackedBf16BLayout bf16_layout{0, 0};
  int64_t pairs = 0, count = 0, block = 0, staged = 0;  // staged: a staging row's floats

  PackedBRow row(int64_t k) const {
    if (bf16 != nullptr) return {((k / block) * 2 + k % block % 2) * staged, 32};
    return packed ? panels.row(k) : PackedBRow{k * T, 32};
  }
  BOperand operand(const float* V, int64_t xi, bool transposed) const {
    BOperand b{V + xi * position, T, transposed, nullptr, packed};
    if (bf16 != nullptr) b.bf16_tiles = bf16 + xi * pairs;
    return b;
  }
  void rows_written(const float* V, int64_t r) const {
    if (bf16 == nullptr || r % 2 == 0) return;
    const int64_t blocks = bf16_layout.depth / block;
    for (int64_t i = 0; i < count; ++i)
      for (int64_t b = 0; b < blocks; ++b) {
        const float* lo = V + i * position + 2 * b * staged;
        pack_bf16_b_pair(bf16 + i * pairs, bf16_layout, b * block + r - 1, lo, lo + staged);
      }
  }
};
inline TileOperands packed_tiles(int64_t K, int64_t T) {
  const PackedBRows panels = packed_b_rows(K, T);
  return {panels.floats(), T, true, panels};
}
inline TileOperands plain_tiles(int64_t K, int64_t T) { return {K * T, T, false, {}}; }
// The forward's and input gradient's tiles for `count` operands of depth K in blocks of
// `block` rows: the fp32 GEMM's own panels, or the bf16 engine's pair tiles (plain rows the
// engine packs as it reads them where the blocks are odd).
inline TileOperands gemm_tiles(int64_t K, int64_t T, const WinogradGemms& gemms, int64_t count, int64_t block) {
  if (!gemms.bf16) return packed_tiles(K, T);
  if (block % 2 != 0) return plain_tiles(K, T);
  TileOperands ops{0, T, false, {}};
  ops.bf16_layout = PackedBf16BLayout{K, T};
  ops.pairs = (ops.bf16_layout.elems() + 31) / 32 * 32;  // 64-byte multiples
  ops.count = count;
  ops.block = block;
  ops.staged = (T + 15) / 16 * 16;
  ops.position = 2 * (K / block) * ops.staged;
  thread_local std::vector<uint16_t> buffer;
  const int64_t n = count * ops.pairs + 32;
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  const auto misalignment = reinterpret_cast<uintptr_t>(buffer.data()) % 64;
  ops.bf16 = buffer.data() + (64 - misalignment) % 64 / sizeof(uint16_t);
  for (int64_t i = 0; i < count; ++i)  // the padding depths: zeros
    for (int64_t k = K; k < ops.bf16_layout.padded_depth(); k += 2)
      pack_bf16_b_pair(ops.bf16 + i * ops.pairs, ops.bf16_layout, k, nullptr, nullptr);
  return ops;
}

// This thread's buffers (transformed tiles, products or their gradients, partial sums, phase
// planes), grown to at least n floats, never shrunk.
enum class Buffer { kTiles, kProducts, kPartials, kPlanes };
inline float* buffer(Buffer which, int64_t n) {
  thread_local std::vector<float> buffers[4];
  std::vector<float>& b = buffers[static_cast<int>(which)];
  if (static_cast<int64_t>(b.size()) < n + 16) b.resize(static_cast<size_t>(n + 16));
  const auto misalignment = reinterpret_cast<uintptr_t>(b.data()) % 64;
  return b.data() + (64 - misalignment) % 64 / sizeof(float);
}


// This thread's phase-plane buffer as kCount planes of T values (and 16 of slack), each with
// `margin` floats either side that the input transforms' shifted runs may read (masked off).
template <int kCount>
std::array<float*, kCount> phase_planes(int64_t T, int64_t margin = 0) {
  const int64_t stride = T + 2 * margin + 16;
  float* const base = buffer(Buffer::kPlanes, kCount * stride);
  std::array<float*, kCount> planes;
  for (int q = 0; q < kCount; ++q) planes[static_cast<size_t>(q)] = base + q * stride + margin;
  return planes;
}

// The chunk loop of the forwards and input gradients: the batch's N samples in chunks of
// `target` tiles or more (`tps` per sample), each chunk on one thread: transform(V, ops, n0, T)
// writes the transformed tiles of samples from n0 (T tiles) as `ops` lays them out (kCount
// operands of `depth` rows in blocks of `block`), U's kCount position GEMMs multiply them into
// M (kCount products of `rows` x T), and back(M, n0, T) transforms the products back.
template <size_t kCount, typename Transform, typename Back>
void multiply_chunks(const KernelOperands<kCount>& U, int64_t N, int64_t tps, int64_t target, int64_t depth,
                     int64_t block, int64_t rows, const WinogradGemms& gemms, Transform&& transform, Back&& back) {
  constexpr auto count = static_cast<int64_t>(kCount);
  const Chunks plan = plan_chunks(N, tps, target);
  for_each_job(plan.chunks, [&](int64_t ch, int position_threads) {
    const int64_t n0 = ch * plan.B, T = std::min(plan.B, N - n0) * tps;
    const TileOperands ops = gemm_tiles(depth, T, gemms, count, block);
    float* V = buffer(Buffer::kTiles, count * ops.position);
    float* M = buffer(Buffer::kProducts, count * rows * T);
    transform(V, ops, n0, T);
    for_each_position(count, position_threads, [&](int64_t k) {
      U.multiply(k, M + k * rows * T, T, ops.operand(V, k, false), T);
    });
    back(M, n0, T);
  });
}

// The weight gradients' chunk loop: per position xi, dU_xi (rows, depth) += E_xi (rows, T) *
// V_xi (depth, T)^T over each chunk's tiles, where transform(V, E, ops, n0, T) writes a chunk's
// operands (samples from n0, T tiles; V as `ops` lays it out). The chunks (`target` tiles or
// more, `tps` per sample) go in kPlanThreads groups, each summing its chunks in order into its
// own partial dU; returns the partials (each kCount * rows * depth floats, in group order) and
// their count, for the caller to add in order (the same bits at any thread count).
// The weight gradients' chunks, for m x m output blocks: 1024 output pixels. The GEMMs are as
// deep as a chunk's tiles and add into a product of n^2 * rows * depth floats once per chunk,
// so wider chunks than the forwards': 3x3 convs in F(2x2, 3x3) (conv_bench, 64 -> 512 tiles,
// two runs each): 64 -> 128 channels at 16x16 8.4-9.5 ms at 64 tiles, 8.9-10.9 at 256; 128 ->
// 256 at 8x8 8.7-13.7 and 8.7-9.2; 256 -> 512 at 4x4 12.4-12.8 and 8.1-11.1; 512 tiles no
// better. The 4x4 blocks take as many pixels per chunk.
template <int m>
constexpr int64_t kWeightGradientTiles = 1024 / (m * m);

struct Partials {
  const float* dU;
  int64_t count, stride;
};
template <int64_t kCount, typename Transform>
Partials weight_gradient_partials(int64_t N, int64_t tps, int64_t target, int64_t rows, int64_t depth,
                                  const WinogradGemms& gemms, Transform&& transform) {
  const Chunks plan = plan_chunks(N, tps, target);
  const int64_t groups = std::min(plan.chunks, kPlanThreads), per = kCount * rows * depth;
  float* dU = buffer(Buffer::kPartials, groups * per);
  for_each_job(groups, [&](int64_t g, int position_threads) {
    const int64_t first = plan.chunks * g / groups, last = plan.chunks * (g + 1) / groups;
    for (int64_t ch = first; ch < last; ++ch) {
      const int64_t n0 = ch * plan.B, T = std::min(plan.B, N - n0) * tps;
      const TileOperands ops = plain_tiles(depth, T);
      float* V = buffer(Buffer::kTiles, kCount * ops.position);
      float* E = buffer(Buffer::kProducts, kCount * rows * T);
      transform(V, E, ops, n0, T);
      for_each_position(kCount, position_threads, [&](int64_t xi) {
        multiply(gemms, dU + g * per + xi * rows * depth, depth, E + xi * rows * T, T, false, ops.operand(V, xi, true),
                 rows, depth, T, ch > first);
      });
    }
  });
  return {dU, groups, per};
}

// E (n^2, out, T) of a chunk's output gradient dy (B, out, H, W): E_xi(o, t) = (A e A^T)(xi)
// for tile t's m x m block e of dy (dy's stride-m phase planes over consecutive tiles), the
// adjoint of the output transform A^T M A of a Winograd form whose gradient_rows(e, v) gives
// A e (m values to n).
template <typename Form, int m, int n>
SNGAN_WINOGRAD_AVX512 void output_gradient_transform(float* __restrict E, const float* __restrict dy, int64_t out,
                                                     int64_t H, int64_t W, const TileGrid& grid) {
  const int64_t T = grid.T, position = out * T;
  const std::array<float*, m * m> planes = phase_planes<m * m>(T);
  for (int64_t o = 0; o < out; ++o) {
    split_phases<m>(planes.data(), dy + o * H * W, out * H * W, H, W, grid);
    float* dst = E + o * T;
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 u[n][m];  // A e: the rows combined
      for (int c = 0; c < m; ++c) {
        __m512 col[m], v[n];
        for (int r = 0; r < m; ++r) col[r] = _mm512_maskz_loadu_ps(valid, planes[r * m + c] + t);
        Form::gradient_rows(col, v);
        for (int r = 0; r < n; ++r) u[r][c] = v[r];
      }
      for (int r = 0; r < n; ++r) {  // (A e) A^T: the columns combined
        __m512 v[n];
        Form::gradient_rows(u[r], v);
        for (int k = 0; k < n; ++k) _mm512_mask_storeu_ps(dst + (r * n + k) * position + t, valid, v[k]);
      }
    }
  }
}

// The 4x4 stride-2 convs' kernel phases (both Winograd forms). The forward's phase ab = (a, b)
// is the 2x2 kernel k(t, s) = w(2t + a, 2s + b); the input gradient's phase pq = (p, q) (of
// dx) is k(j, l) = w(3 - p - 2j, 3 - q - 2l). taps[ph][2 * t + s] is k(t, s)'s tap of w.
using PhaseTaps = std::array<std::array<int, 4>, 4>;
inline PhaseTaps forward_phase_taps() {
  PhaseTaps taps;
  for (int ab = 0; ab < 4; ++ab) {
    const int a = ab / 2, b = ab % 2;
    taps[static_cast<size_t>(ab)] = {a * 4 + b, a * 4 + 2 + b, (2 + a) * 4 + b, (2 + a) * 4 + 2 + b};
  }
  return taps;
}
inline PhaseTaps input_gradient_phase_taps() {
  PhaseTaps taps;
  for (int pq = 0; pq < 4; ++pq) {
    const int p = pq / 2, q = pq % 2;
    taps[static_cast<size_t>(pq)] = {(3 - p) * 4 + 3 - q, (3 - p) * 4 + 1 - q, (1 - p) * 4 + 3 - q, (1 - p) * 4 + 1 - q};
  }
  return taps;
}
// Where the kPositions transformed values of each phase go: in the forward, phase ab's into
// position xi's operand at depth ab * in (one operand over all four phases); in the input
// gradient, into operand (pq, xi) of their own.
template <size_t kPositions>
std::array<KernelTarget, 4 * kPositions> forward_phase_targets(int64_t in) {
  std::array<KernelTarget, 4 * kPositions> targets;
  for (size_t j = 0; j < targets.size(); ++j)
    targets[j] = {static_cast<int64_t>(j % kPositions), static_cast<int64_t>(j / kPositions) * in};
  return targets;
}
template <size_t kPositions>
std::array<KernelTarget, 4 * kPositions> input_gradient_phase_targets() {
  std::array<KernelTarget, 4 * kPositions> targets;
  for (size_t j = 0; j < targets.size(); ++j) targets[j] = {static_cast<int64_t>(j), 0};
  return targets;
}

// The weight gradients' last step. sum_partials: 16 lanes of `parts` partial sums `stride`
// floats apart, added in order. store_kernel_taps: taps[k][l] into tap k of the kernel
// (o, i + l) of dw (out, in, kTaps), assigned or added, for the lanes l with i + l < in.
SNGAN_WINOGRAD_AVX512 inline __m512 sum_partials(const float* src, int64_t parts, int64_t stride,
                                                 __mmask16 valid) {
  __m512 v = _mm512_maskz_loadu_ps(valid, src);
  for (int64_t g = 1; g < parts; ++g) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(valid, src + g * stride));
  return v;
}
template <int kTaps>
void store_kernel_taps(float* dw, const float (&taps)[kTaps][16], int64_t o, int64_t in, int64_t i,
                       bool accumulate) {
  const int64_t n = std::min<int64_t>(16, in - i);
  for (int64_t l = 0; l < n; ++l) {
    float* kernel = dw + (o * in + i + l) * kTaps;
    for (int k = 0; k < kTaps; ++k) kernel[k] = accumulate ? kernel[k] + taps[k][l] : taps[k][l];
  }
}

}  // namespace sngan::kernels::winograd_tiles
