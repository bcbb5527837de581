// Winograd F(2x2, 2x2) for 4x4 stride-2 pad-1 convolutions (see winograd.h).
//
// Splitting the 4x4 kernel w by the parity of its taps, w_ab(t, s) = w(2t + a, 2s + b), turns
// the stride-2 conv into four stride-1 2x2 correlations: phase (a, b) of the kernel meets the
// input's rows 2(y + t) + a - 1 for output row y. A 2x2 block of outputs (rows 2*th, 2*th + 1)
// therefore reads, for kernel phase a, the three input rows 4*th + 2r + a - 1 (r = 0, 1, 2):
// a 6x6 input tile (rows 4*th - 1 .. 4*th + 4) holds the four 3x3 tiles of the phases.
//
// F(2, 2): with d a 3-vector and k a 2-tap kernel, y0 = d0 k0 + d1 k1 and y1 = d1 k0 + d2 k1
// are A^T [(G k) .* (B^T d)] with
//   B^T = [1 -1 0; 0 1 0; 0 -1 1],  G = [1 0; 1 1; 0 1],  A^T = [1 1 0; 0 1 1],
// three multiplies for two outputs instead of four; nested over rows and columns, nine for a
// 2x2 block instead of sixteen. Over channels, for each of the nine positions xi of the 3x3
// transform, the forward is one GEMM over all four kernel phases at once,
//   M_xi (out, T) = U_xi (out, 4 in) * V_xi (4 in, T),
// 36 multiplies per tile and channel pair where the direct conv takes 64. The transforms only
// add and subtract: each output is the exact sum in another order.
//
// The input gradient (the forward of the 4x4 stride-2 transposed conv) splits by the parity of
// dx instead: dx's phase (p, q), dx(2m + p, 2n + q), is the 2x2 correlation of dy's rows
// m - 1 + p, m + p with the kernel taps w(3 - p - 2j, ...) (j = 0, 1), so a 2x2 block of
// every phase (dx rows 4*th .. 4*th + 3) reads dy's 4x4 tile at rows 2*th - 1 .. 2*th + 2 (the
// 3x3 Winograd's tile), phase p its rows p .. p + 2: 36 GEMMs (phase, xi) of
// (in, out) x (out, T). The weight gradient is the forward's adjoint per kernel phase:
// dw_ab = G^T [sum over tiles of (A e A^T) .* (B^T d_ab B)] G for dy's 2x2 block e.
//
// The batch goes in chunks of whole samples planned for two threads (winograd_tiles.h), as in
// the 3x3 Winograd: the same bits at every thread count.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/tensor/check.h"
#include "core/tensor/kernels/avx512_block.h"
#include "core/tensor/kernels/gemm_avx512.h"
#include "core/tensor/kernels/winograd.h"
#include "core/tensor/kernels/winograd_tiles.h"

namespace sngan::kernels {

namespace {

using namespace winograd_tiles;

constexpr int64_t kPositions = 9;  // xi: the 3x3 transform's positions
constexpr int64_t kPhases = 4;     // the kernel's (or dx's) parity phases (a, b) = (ab / 2, ab % 2)
// Tiles per chunk: the forward and input gradient, and the weight gradient (as deep as a
// chunk's tiles, adding into 9 * out * 4 in floats once per chunk). conv_bench, 2 threads,
// batch 64, 64 -> 128 channels at 32x32, 128 -> 128 at 16x16, 256 -> 512 at 8x8 and 64 -> 64
// at 32x32 (AMD EPYC Zen 4), three alternating runs each of 32, 64 and 128 tiles (128, 256
// and 512 for the weight gradient): no width consistently faster than 64 (256) within the
// machine's 10-30% noise; 16 tiles (one sample of a 16x16 map per chunk) up to 1.7x slower.
// Again with the operands written packed, for the input gradient (256 -> 512 at 8x8, 64 -> 128
// at 32x32, 128 -> 256 at 16x16; 16 to 128 tiles, three rounds): the same.
constexpr int64_t kTargetTiles = 64;
constexpr int64_t kWeightGradientTiles = 256;

// The conv from x (N, in, H, W) to y (N, out, H/2, W/2); a tile is a 2x2 block of y, so
// (H/4, W/4) tiles per sample.
struct Problem {
  int64_t N, in, out, H, W;
  int64_t tile_rows() const { return H / 4; }
  int64_t tile_cols() const { return W / 4; }
  int64_t tiles_per_sample() const { return tile_rows() * tile_cols(); }
  TileGrid grid(int64_t T) const { return {tile_rows(), tile_cols(), tiles_per_sample(), T}; }
};

// The transformed 2x2 kernels of the four phases of 16 4x4 kernels given transposed (register q
// holds tap q of each): out[ph * 9 + xi] = (G k G^T)(xi) for the phase's kernel k(t, s) =
// tap taps[ph][2 * t + s].
using PhaseTaps = std::array<std::array<int, 4>, 4>;
SNGAN_WINOGRAD_AVX512 inline void transform_kernels(const __m512i kernel[16], const PhaseTaps& taps, __m512 out[36]) {
  for (int ph = 0; ph < 4; ++ph) {
    const std::array<int, 4>& t = taps[static_cast<size_t>(ph)];
    __m512 g[4];
    for (int q = 0; q < 4; ++q) g[q] = _mm512_castsi512_ps(kernel[t[static_cast<size_t>(q)]]);
    const __m512 c[3][2] = {{g[0], g[1]},  // G k: the rows combined
                            {_mm512_add_ps(g[0], g[2]), _mm512_add_ps(g[1], g[3])},
                            {g[2], g[3]}};
    for (int i = 0; i < 3; ++i) {  // (G k) G^T: the columns combined
      out[ph * 9 + i * 3 + 0] = c[i][0];
      out[ph * 9 + i * 3 + 1] = _mm512_add_ps(c[i][0], c[i][1]);
      out[ph * 9 + i * 3 + 2] = c[i][1];
    }
  }
}

// Writes U's operands from the 4x4 kernels at w + r * row_stride + k * k_stride (rows r, depths
// k < depth), phase ph of each to targets[ph * 9 + xi].
template <size_t kCount>
void write_kernels(KernelOperands<kCount>& U, const float* w, int64_t row_stride, int64_t k_stride, int64_t depth,
                   const PhaseTaps& taps, const std::array<KernelTarget, 36>& targets) {
  U.write(
      depth,
      [&](int64_t r, int64_t k) SNGAN_WINOGRAD_AVX512 { return _mm512_loadu_si512(w + r * row_stride + k * k_stride); },
      [&](const __m512i kernel[16], __m512 out[36]) SNGAN_WINOGRAD_AVX512 { transform_kernels(kernel, taps, out); },
      targets);
}

// B^T d B of 16 tiles' 3x3 tiles d, their nine values stored `position` floats apart from dst.
SNGAN_WINOGRAD_AVX512 inline void store_input_transform(float* dst, int64_t position, __mmask16 valid,
                                                        const __m512 d[3][3]) {
  __m512 u[3][3];  // B^T d: the rows combined
  for (int s = 0; s < 3; ++s) {
    u[0][s] = _mm512_sub_ps(d[0][s], d[1][s]);
    u[1][s] = d[1][s];
    u[2][s] = _mm512_sub_ps(d[2][s], d[1][s]);
  }
  for (int r = 0; r < 3; ++r) {  // (B^T d) B: the columns combined
    _mm512_mask_storeu_ps(dst + (r * 3 + 0) * position, valid, _mm512_sub_ps(u[r][0], u[r][1]));
    _mm512_mask_storeu_ps(dst + (r * 3 + 1) * position, valid, u[r][1]);
    _mm512_mask_storeu_ps(dst + (r * 3 + 2) * position, valid, _mm512_sub_ps(u[r][2], u[r][1]));
  }
}

// A^T m A of the nine values m (`position` floats apart from src) of 16 tiles: their 2x2
// blocks, out[2 * u + v].
SNGAN_WINOGRAD_AVX512 inline void output_transform(__m512 out[4], const float* src, int64_t position,
                                                   __mmask16 valid) {
  __m512 s[2][3];  // A^T m: the rows combined
  for (int k = 0; k < 3; ++k) {
    const __m512 m0 = _mm512_maskz_loadu_ps(valid, src + (0 * 3 + k) * position);
    const __m512 m1 = _mm512_maskz_loadu_ps(valid, src + (1 * 3 + k) * position);
    const __m512 m2 = _mm512_maskz_loadu_ps(valid, src + (2 * 3 + k) * position);
    s[0][k] = _mm512_add_ps(m0, m1);
    s[1][k] = _mm512_add_ps(m1, m2);
  }
  for (int u = 0; u < 2; ++u) {  // (A^T m) A
    out[u * 2 + 0] = _mm512_add_ps(s[u][0], s[u][1]);
    out[u * 2 + 1] = _mm512_add_ps(s[u][1], s[u][2]);
  }
}

// V (9 operands of 4 in x T, laid out as `ops` says) of a chunk's samples x (B, in, H, W):
// V_xi(ab * in + c, t) = (B^T d B)(xi) for the 3x3 tile d of kernel phase ab,
// d(r, s) = x(c, 4*th + 2r + a - 1, 4*tw + 2s + b - 1) (zero outside). Tile row e = 2r + a of the 6x6 input tile is x's stride-4 phase row
// (e + 3) % 4 at tile row th - 1, th or th + 1 (e = 0, 1..4, 5), and the same for columns: each
// value, over consecutive tiles, is a masked run of one of the 16 phase planes.
SNGAN_WINOGRAD_AVX512 void transform_input(float* __restrict V, const TileOperands& ops,
                                           const float* __restrict x, const Problem& p,
                                           const TileGrid& grid) {
  const int64_t H = p.H, W = p.W, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, 16> planes = phase_planes<16>(T, margin);
  auto phase = [](int e) { return (e + 3) % 4; };
  auto shift = [](int e) { return e == 0 ? -1 : e == 5 ? 1 : 0; };
  for (int64_t c = 0; c < p.in; ++c) {
    split_phases<4>(planes.data(), x + c * H * W, p.in * H * W, H, W, grid);
    const PackedBRow rows[kPhases] = {ops.row(c), ops.row(p.in + c), ops.row(2 * p.in + c), ops.row(3 * p.in + c)};
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* m = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      for (int ab = 0; ab < kPhases; ++ab) {
        const int a = ab / 2, b = ab % 2;
        __m512 d[3][3];
        for (int r = 0; r < 3; ++r)
          for (int s = 0; s < 3; ++s) {
            const int er = 2 * r + a, ec = 2 * s + b;
            const float* src = planes[phase(er) * 4 + phase(ec)] + t + shift(er) * TW + shift(ec);
            d[r][s] = _mm512_maskz_loadu_ps(valid & m[(shift(er) + 1) * 3 + shift(ec) + 1], src);
          }
        store_input_transform(V + rows[ab].at(t), ops.position, valid, d);
      }
    }
    ops.rows_written(V, c);
  }
}

// y (B, out, H/2, W/2) (=|+=) A^T M A (+ bias) for every tile of the chunk, M (9, out, T).
SNGAN_WINOGRAD_AVX512 void transform_output(float* __restrict y, const float* __restrict M,
                                            const float* bias, const Problem& p,
                                            const TileGrid& grid, bool accumulate) {
  const int64_t Ho = p.H / 2, Wo = p.W / 2, T = grid.T, position = p.out * T;
  const std::array<float*, 4> planes = phase_planes<4>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    const __m512 bo = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.0f);
    for (int64_t t = 0; t < T; t += 16) {
      __m512 out[4];
      output_transform(out, M + o * T + t, position, avx512::lanes(T - t));
      for (int q = 0; q < 4; ++q) _mm512_storeu_ps(planes[q] + t, _mm512_add_ps(out[q], bo));
    }
    merge_phases<2>(planes.data(), y + o * Ho * Wo, p.out * Ho * Wo, Ho, Wo, grid, accumulate);
  }
}

// dy's transformed 4x4 tiles, V (4 phases x 9 operands of out x T, laid out as `ops` says):
// for dx phase pq = (p, q), the
// (B^T d B)(xi) of the 3x3 tile d = rows p .. p + 2 and columns q .. q + 2 of dy's 4x4 tile
// at rows 2*th - 1 .. 2*th + 2, columns 2*tw - 1 .. 2*tw + 2 (zero outside), read through
// dy's stride-2 phase planes as in the 3x3 Winograd.
SNGAN_WINOGRAD_AVX512 void transform_output_gradient_tiles(float* __restrict V, const TileOperands& ops,
                                                           const float* __restrict dy, const Problem& p,
                                                           const TileGrid& grid) {
  const int64_t Ho = p.H / 2, Wo = p.W / 2, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, 4> planes = phase_planes<4>(T, margin);
  constexpr int kPhaseOf[4] = {1, 0, 1, 0};   // tile row r: phase row 2*th - 1 + r
  constexpr int kShiftOf[4] = {-1, 0, 0, 1};  // and its tile row offset
  for (int64_t o = 0; o < p.out; ++o) {
    split_phases<2>(planes.data(), dy + o * Ho * Wo, p.out * Ho * Wo, Ho, Wo, grid);
    const PackedBRow row = ops.row(o);
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* m = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s) {
          const float* src = planes[kPhaseOf[r] * 2 + kPhaseOf[s]] + t + kShiftOf[r] * TW + kShiftOf[s];
          d[r][s] = _mm512_maskz_loadu_ps(valid & m[(kShiftOf[r] + 1) * 3 + kShiftOf[s] + 1], src);
        }
      for (int pq = 0; pq < kPhases; ++pq) {
        const int pr = pq / 2, pc = pq % 2;
        const __m512 sub[3][3] = {{d[pr][pc], d[pr][pc + 1], d[pr][pc + 2]},
                                  {d[pr + 1][pc], d[pr + 1][pc + 1], d[pr + 1][pc + 2]},
                                  {d[pr + 2][pc], d[pr + 2][pc + 1], d[pr + 2][pc + 2]}};
        store_input_transform(V + pq * kPositions * ops.position + row.at(t), ops.position, valid, sub);
      }
    }
    ops.rows_written(V, o);
  }
}

// dx (B, in, H, W) (=|+=) the four phases' A^T M A, M (4 phases, 9, in, T): phase (p, q)'s
// block value (u, v) of tile t is dx(4*th + 2u + p, 4*tw + 2v + q), so the 16 values of a
// tile are one entry each of dx's stride-4 phase planes.
SNGAN_WINOGRAD_AVX512 void transform_input_gradient(float* __restrict dx, const float* __restrict M,
                                                    const Problem& p, const TileGrid& grid,
                                                    bool accumulate) {
  const int64_t H = p.H, W = p.W, T = grid.T, position = p.in * T;
  const std::array<float*, 16> planes = phase_planes<16>(T);
  for (int64_t c = 0; c < p.in; ++c) {
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      for (int pq = 0; pq < kPhases; ++pq) {
        const int pr = pq / 2, pc = pq % 2;
        __m512 out[4];
        output_transform(out, M + pq * kPositions * position + c * T + t, position, valid);
        for (int u = 0; u < 2; ++u)
          for (int v = 0; v < 2; ++v) _mm512_storeu_ps(planes[(2 * u + pr) * 4 + 2 * v + pc] + t, out[u * 2 + v]);
      }
    }
    merge_phases<4>(planes.data(), dx + c * H * W, p.in * H * W, H, W, grid, accumulate);
  }
}

// E (9, out, T) of a chunk's output gradient dy (B, out, H/2, W/2): E_xi(o, t) = (A e A^T)(xi)
// for tile t's 2x2 block e of dy (dy's four stride-2 phase planes over consecutive tiles), the
// adjoint of the output transform.
SNGAN_WINOGRAD_AVX512 void transform_output_gradient(float* __restrict E, const float* __restrict dy,
                                                     const Problem& p, const TileGrid& grid) {
  const int64_t Ho = p.H / 2, Wo = p.W / 2, T = grid.T, position = p.out * T;
  const std::array<float*, 4> planes = phase_planes<4>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    split_phases<2>(planes.data(), dy + o * Ho * Wo, p.out * Ho * Wo, Ho, Wo, grid);
    float* dst = E + o * T;
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 e[2][2];
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) e[r][c] = _mm512_maskz_loadu_ps(valid, planes[r * 2 + c] + t);
      const __m512 u[3][2] = {{e[0][0], e[0][1]},  // A e: the rows combined
                              {_mm512_add_ps(e[0][0], e[1][0]), _mm512_add_ps(e[0][1], e[1][1])},
                              {e[1][0], e[1][1]}};
      for (int r = 0; r < 3; ++r) {  // (A e) A^T: the columns combined
        _mm512_mask_storeu_ps(dst + (r * 3 + 0) * position + t, valid, u[r][0]);
        _mm512_mask_storeu_ps(dst + (r * 3 + 1) * position + t, valid, _mm512_add_ps(u[r][0], u[r][1]));
        _mm512_mask_storeu_ps(dst + (r * 3 + 2) * position + t, valid, u[r][1]);
      }
    }
  }
}

// dw (out, in, 4, 4) (=|+=) G^T dU_ab G into taps (2t + a, 2s + b) for each (o, c) and kernel
// phase ab, dU (9, out, 4 in) the sum of `parts` partials `stride` floats apart, added in
// order: sixteen input channels at a time, the 16 taps of each written through a small block.
SNGAN_WINOGRAD_AVX512 void transform_weight_gradient(float* __restrict dw, const float* __restrict dU,
                                                     int64_t parts, int64_t stride, int64_t out,
                                                     int64_t in, bool accumulate) {
  const int64_t plane = out * kPhases * in;
  for_each_kernel_block(out, in, [&](int64_t o, int64_t i, __mmask16 valid) {
    alignas(64) float taps[16][16];
    for (int ab = 0; ab < kPhases; ++ab) {
      const int a = ab / 2, b = ab % 2;
      const float* src = dU + o * kPhases * in + ab * in + i;
      __m512 q[2][3];  // G^T dU: the rows combined
      for (int k = 0; k < 3; ++k) {
        const __m512 u0 = sum_partials(src + (0 * 3 + k) * plane, parts, stride, valid);
        const __m512 u1 = sum_partials(src + (1 * 3 + k) * plane, parts, stride, valid);
        const __m512 u2 = sum_partials(src + (2 * 3 + k) * plane, parts, stride, valid);
        q[0][k] = _mm512_add_ps(u0, u1);
        q[1][k] = _mm512_add_ps(u1, u2);
      }
      for (int t = 0; t < 2; ++t) {  // (G^T dU) G: the columns combined
        _mm512_store_ps(taps[(2 * t + a) * 4 + b], _mm512_add_ps(q[t][0], q[t][1]));
        _mm512_store_ps(taps[(2 * t + a) * 4 + 2 + b], _mm512_add_ps(q[t][1], q[t][2]));
      }
    }
    store_kernel_taps(dw, taps, o, in, i, accumulate);
  });
}

}  // namespace

bool winograd_stride2_shape(const Conv2dDims& d) {
  return d.KH == 4 && d.KW == 4 && d.stride == 2 && d.pad_h == 1 && d.pad_w == 1 && d.H % 4 == 0 &&
         d.W % 4 == 0;
}

void winograd_stride2_forward(float* y, const float* x, const float* w, const float* b,
                              const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_forward: not a Winograd conv here");
  const Problem p{d.N, d.Cin, d.Cout, d.H, d.W};
  const int64_t depth = kPhases * p.in;
  // U_xi (out, 4 in), packed: U_xi(o, ab * in + c) = (G w_ab G^T)(xi) for the kernel phase
  // w_ab(t, s) = w(o, c, 2t + a, 2s + b).
  KernelOperands<kPositions> U(p.out, depth, gemms);
  PhaseTaps taps;
  std::array<KernelTarget, kPhases * kPositions> targets;
  for (int ab = 0; ab < kPhases; ++ab) {
    const int a = ab / 2, b = ab % 2;
    taps[static_cast<size_t>(ab)] = {a * 4 + b, a * 4 + 2 + b, (2 + a) * 4 + b, (2 + a) * 4 + 2 + b};
    for (int64_t xi = 0; xi < kPositions; ++xi) targets[static_cast<size_t>(ab * kPositions + xi)] = {xi, ab * p.in};
  }
  write_kernels(U, w, p.in * 16, 16, p.in, taps, targets);
  const Chunks plan = plan_chunks(p.N, p.tiles_per_sample(), kTargetTiles);
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  for_each_job(plan.chunks, [&](int64_t ch, int position_threads) {
    const int64_t n0 = ch * plan.B, T = std::min(plan.B, p.N - n0) * p.tiles_per_sample();
    const TileOperands ops = gemm_tiles(depth, T, gemms, kPositions, p.in);
    float* V = buffer(Buffer::kTiles, kPositions * ops.position);
    float* M = buffer(Buffer::kProducts, kPositions * p.out * T);
    const TileGrid grid = p.grid(T);
    transform_input(V, ops, x + n0 * xs, p, grid);
    for_each_position(kPositions, position_threads, [&](int64_t xi) {
      U.multiply(xi, M + xi * p.out * T, T, ops.operand(V, xi, false), T);
    });
    transform_output(y + n0 * ys, M, b, p, grid, accumulate);
  });
}

void winograd_stride2_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                                     bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_backward_input: not a Winograd conv here");
  const Problem p{d.N, d.Cin, d.Cout, d.H, d.W};
  constexpr int64_t kProducts = kPhases * kPositions;
  // U_(pq, xi) (in, out), packed: dx phase (p, q)'s kernels w(o, c, 3 - p - 2j, 3 - q - 2l),
  // transformed.
  KernelOperands<kProducts> U(p.in, p.out, gemms);
  PhaseTaps taps;
  std::array<KernelTarget, kProducts> targets;
  for (int pq = 0; pq < kPhases; ++pq) {
    const int pr = pq / 2, pc = pq % 2;
    taps[static_cast<size_t>(pq)] = {(3 - pr) * 4 + 3 - pc, (3 - pr) * 4 + 1 - pc, (1 - pr) * 4 + 3 - pc,
                                     (1 - pr) * 4 + 1 - pc};
    for (int64_t xi = 0; xi < kPositions; ++xi)
      targets[static_cast<size_t>(pq * kPositions + xi)] = {pq * kPositions + xi, 0};
  }
  write_kernels(U, w, 16, p.in * 16, p.out, taps, targets);
  const Chunks plan = plan_chunks(p.N, p.tiles_per_sample(), kTargetTiles);
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  for_each_job(plan.chunks, [&](int64_t ch, int position_threads) {
    const int64_t n0 = ch * plan.B, T = std::min(plan.B, p.N - n0) * p.tiles_per_sample();
    const TileOperands ops = gemm_tiles(p.out, T, gemms, kProducts, p.out);
    float* V = buffer(Buffer::kTiles, kProducts * ops.position);
    float* M = buffer(Buffer::kProducts, kProducts * p.in * T);
    const TileGrid grid = p.grid(T);
    transform_output_gradient_tiles(V, ops, dy + n0 * ys, p, grid);
    for_each_position(kProducts, position_threads, [&](int64_t k) {
      U.multiply(k, M + k * p.in * T, T, ops.operand(V, k, false), T);
    });
    transform_input_gradient(dx + n0 * xs, M, p, grid, accumulate);
  });
}

void winograd_stride2_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                                      bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_backward_weight: not a Winograd conv here");
  // Per position xi, dU_xi (out, 4 in) += E_xi (out, T) * V_xi (4 in, T)^T over each chunk's
  // tiles, the chunks in kPlanThreads groups summed in order as in the 3x3 Winograd.
  const Problem p{d.N, d.Cin, d.Cout, d.H, d.W};
  const int64_t depth = kPhases * p.in;
  const Chunks plan = plan_chunks(p.N, p.tiles_per_sample(), kWeightGradientTiles);
  const int64_t groups = std::min(plan.chunks, kPlanThreads), per = kPositions * p.out * depth;
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  float* dU = buffer(Buffer::kPartials, groups * per);
  for_each_job(groups, [&](int64_t g, int position_threads) {
    const int64_t first = plan.chunks * g / groups, last = plan.chunks * (g + 1) / groups;
    for (int64_t ch = first; ch < last; ++ch) {
      const int64_t n0 = ch * plan.B, T = std::min(plan.B, p.N - n0) * p.tiles_per_sample();
      const TileOperands ops = plain_tiles(depth, T);
      float* V = buffer(Buffer::kTiles, kPositions * ops.position);
      float* E = buffer(Buffer::kProducts, kPositions * p.out * T);
      const TileGrid grid = p.grid(T);
      transform_input(V, ops, x + n0 * xs, p, grid);
      transform_output_gradient(E, dy + n0 * ys, p, grid);
      for_each_position(kPositions, position_threads, [&](int64_t xi) {
        const BOperand vt = ops.operand(V, xi, true);
        multiply(gemms, dU + g * per + xi * p.out * depth, depth, E + xi * p.out * T, T, false, vt, p.out,
                 depth, T, ch > first);
      });
    }
  });
  transform_weight_gradient(dw, dU, groups, per, p.out, p.in, accumulate);
}

}  // namespace sngan::kernels
