// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions (see winograd.h).
//
// With d an (m + 2)-square input tile, g a 3x3 kernel and, for m = 2,
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// or, for m = 4 (the points 0, 1, -1, 2, -2, infinity; Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016),
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1],
// the tile's m x m output is A^T [(G g G^T) .* (B^T d B)] A. Over channels the elementwise
// product becomes, for each of the (m + 2)^2 positions xi of the transform, one GEMM
//   M_xi (out, tiles) = U_xi (out, in) * V_xi (in, tiles),
// with U the transformed kernels (written straight into packed GEMM operands once per call)
// and V the transformed input tiles: 16 multiplies per 2x2 block and channel pair where the
// direct conv takes 36, or 36 per 4x4 block where it takes 144 (9 / 16 of F(2x2, 3x3)'s GEMM
// work). F(4x4, 3x3)'s transforms scale by up to 8 and 1/24, so its rounding errors grow
// (order 1e-6 relative in fp32; the bf16 error test prints them); in bf16, where the GEMMs
// round the transformed operands, a simulation over 64 channels put its error at 11 times
// the direct bf16 conv's: it serves fp32 only (winograd.h), for the weight gradient on maps of
// 8 and more (see weight_gradient).
// The batch goes in chunks of samples (planned for two threads whatever the thread count, so
// every GEMM's shape and every sum's order stays the same), each chunk on one thread:
// transform its tiles, the position GEMMs, transform the products back into the output. With
// more threads than chunks, the chunks run in turn with their GEMMs spread over the threads.
#include "core/tensor/kernels/winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/tensor/check.h"
#include "core/tensor/kernels/avx512_block.h"
#include "core/tensor/kernels/gemm_avx512.h"
#include "core/tensor/kernels/winograd_tiles.h"

namespace sngan::kernels {

namespace {

using namespace winograd_tiles;

// F(m, 3)'s transforms on 16 lanes: B^T d of m + 2 values (input_rows), A^T s of m + 2 values
// (output_rows), the 2D G g G^T of 16 3x3 kernels given transposed (register q holds tap q of
// each; turned 180 degrees if `flip`), and the tiles per chunk.
template <int m>
struct Form;

template <>
struct Form<2> {
  // Tiles per chunk (the GEMMs' width; a sample's tiles are never split). A chunk's
  // transformed tiles and products, 16 * (in + out) floats per tile, stay small enough to keep
  // in cache: conv_bench, 2 threads, batch 64, forward and input gradient, 64 -> 128 channels
  // at 16x16, 128 -> 256 at 8x8 and 256 -> 512 at 4x4 (AMD EPYC Zen 4): 64 tiles as fast as 128
  // or faster, 256 up to 10% and 512 up to 25% slower.
  static constexpr int64_t kTargetTiles = 64;
  SNGAN_WINOGRAD_AVX512 static void input_rows(const __m512 d[4], __m512 v[4]) {
    v[0] = _mm512_sub_ps(d[0], d[2]);
    v[1] = _mm512_add_ps(d[1], d[2]);
    v[2] = _mm512_sub_ps(d[2], d[1]);
    v[3] = _mm512_sub_ps(d[1], d[3]);
  }
  SNGAN_WINOGRAD_AVX512 static void output_rows(const __m512 s[4], __m512 y[2]) {
    y[0] = _mm512_add_ps(_mm512_add_ps(s[0], s[1]), s[2]);
    y[1] = _mm512_sub_ps(_mm512_sub_ps(s[1], s[2]), s[3]);
  }
  // A e of m values (the output transform's adjoint, for the weight gradient).
  SNGAN_WINOGRAD_AVX512 static void gradient_rows(const __m512 e[2], __m512 v[4]) {
    v[0] = e[0];
    v[1] = _mm512_add_ps(e[0], e[1]);
    v[2] = _mm512_sub_ps(e[0], e[1]);
    v[3] = _mm512_sub_ps(_mm512_setzero_ps(), e[1]);
  }
  // G^T u of m + 2 values (the kernel transform's adjoint, for the weight gradient).
  SNGAN_WINOGRAD_AVX512 static void kernel_gradient_rows(const __m512 u[4], __m512 q[3]) {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512 sum = _mm512_mul_ps(half, _mm512_add_ps(u[1], u[2]));
    q[0] = _mm512_add_ps(u[0], sum);
    q[1] = _mm512_mul_ps(half, _mm512_sub_ps(u[1], u[2]));
    q[2] = _mm512_add_ps(sum, u[3]);
  }
  SNGAN_WINOGRAD_AVX512 static void transform_kernels(const __m512i kernel[16], bool flip, __m512 out[16]) {
    const __m512 half = _mm512_set1_ps(0.5f);
    __m512 g[3][3];
    for (int kh = 0; kh < 3; ++kh)
      for (int kw = 0; kw < 3; ++kw) g[kh][kw] = _mm512_castsi512_ps(kernel[flip ? 8 - 3 * kh - kw : 3 * kh + kw]);
    __m512 q[4][3];  // G g
    for (int kw = 0; kw < 3; ++kw) {
      q[0][kw] = g[0][kw];
      q[1][kw] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(g[0][kw], g[1][kw]), g[2][kw]));
      q[2][kw] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(g[0][kw], g[1][kw]), g[2][kw]));
      q[3][kw] = g[2][kw];
    }
    for (int r = 0; r < 4; ++r) {  // (G g) G^T
      const __m512 sum = _mm512_add_ps(q[r][0], q[r][2]);
      out[r * 4 + 0] = q[r][0];
      out[r * 4 + 1] = _mm512_mul_ps(half, _mm512_add_ps(sum, q[r][1]));
      out[r * 4 + 2] = _mm512_mul_ps(half, _mm512_sub_ps(sum, q[r][1]));
      out[r * 4 + 3] = q[r][2];
    }
  }
};

template <>
struct Form<4> {
  // Each tile 16 output pixels, four times F(2x2, 3x3)'s. Against F(2x2, 3x3) (conv_bench,
  // batch 64, AMD EPYC Zen 4, best of 10, both binaries at once on one core each, 1 thread,
  // two rounds; forward / input gradient in ms): 64 -> 128 at 16x16 8.0-8.1 / 8.5 against
  // 12.2-12.3 / 12.7-12.9; 128 -> 256 at 8x8 7.2-7.4 / 7.3-7.4 against 11.1 / 11.1-11.3; 64 ->
  // 64 at 32x32 17.5-18.0 / 17.6-18.1 against 27.1-27.4 / 27.1-27.2; 128 -> 128 at 32x32
  // 56.8-57.0 / 56.9-57.1 against 90.0-90.3 / 90.1-90.2; at 4x4 (one tile per sample) 256 ->
  // 512 11.6-11.7 / 12.2-12.4 against 12.6-12.8 / 14.0-14.2, 128 -> 128 a tie. 32 tiles
  // against 64, same set-up: 64 -> 128 at 16x16 7.9-8.0 / 8.5-8.6 against 8.1-8.2 / 8.8;
  // 128 -> 256 at 8x8 7.3 / 7.3 against 7.3-7.5 / 7.8-8.0; 256 -> 512 at 4x4 a tie.
  static constexpr int64_t kTargetTiles = 32;
  SNGAN_WINOGRAD_AVX512 static void input_rows(const __m512 d[6], __m512 v[6]) {
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    const __m512 t0 = _mm512_fnmadd_ps(four, d[2], d[4]), t1 = _mm512_fnmadd_ps(four, d[1], d[3]);
    const __m512 t2 = _mm512_sub_ps(d[4], d[2]), t3 = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));
    v[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    v[1] = _mm512_add_ps(t0, t1);
    v[2] = _mm512_sub_ps(t0, t1);
    v[3] = _mm512_add_ps(t2, t3);
    v[4] = _mm512_sub_ps(t2, t3);
    v[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
  }
  SNGAN_WINOGRAD_AVX512 static void output_rows(const __m512 s[6], __m512 y[4]) {
    const __m512 a = _mm512_add_ps(s[1], s[2]), b = _mm512_sub_ps(s[1], s[2]);
    const __m512 c = _mm512_add_ps(s[3], s[4]), e = _mm512_sub_ps(s[3], s[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(s[0], a), c);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), e, b);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), c, a);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), e, b), s[5]);
  }
  // A e: A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1].
  SNGAN_WINOGRAD_AVX512 static void gradient_rows(const __m512 e[4], __m512 v[6]) {
    const __m512 a = _mm512_add_ps(e[0], e[2]), b = _mm512_add_ps(e[1], e[3]);
    const __m512 c = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), e[2], e[0]);
    const __m512 d = _mm512_fmadd_ps(_mm512_set1_ps(8.0f), e[3], _mm512_add_ps(e[1], e[1]));
    v[0] = e[0];
    v[1] = _mm512_add_ps(a, b);
    v[2] = _mm512_sub_ps(a, b);
    v[3] = _mm512_add_ps(c, d);
    v[4] = _mm512_sub_ps(c, d);
    v[5] = e[3];
  }
  // G^T u: G^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1].
  SNGAN_WINOGRAD_AVX512 static void kernel_gradient_rows(const __m512 u[6], __m512 q[3]) {
    const __m512 s12 = _mm512_add_ps(u[1], u[2]), d21 = _mm512_sub_ps(u[2], u[1]);
    const __m512 s34 = _mm512_add_ps(u[3], u[4]), d34 = _mm512_sub_ps(u[3], u[4]);
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f);
    q[0] = _mm512_fmadd_ps(_mm512_set1_ps(0.25f), u[0],
                           _mm512_fmsub_ps(_mm512_set1_ps(1.0f / 24.0f), s34, _mm512_mul_ps(sixth, s12)));
    q[1] = _mm512_fmadd_ps(sixth, d21, _mm512_mul_ps(_mm512_set1_ps(1.0f / 12.0f), d34));
    q[2] = _mm512_fmadd_ps(sixth, _mm512_sub_ps(s34, s12), u[5]);
  }
  // G g of three taps.
  SNGAN_WINOGRAD_AVX512 static void kernel_rows(__m512 g0, __m512 g1, __m512 g2, __m512 out[6]) {
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f);
    const __m512 s = _mm512_add_ps(g0, g2);
    const __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 24.0f), g0, _mm512_mul_ps(sixth, g2));
    const __m512 q = _mm512_mul_ps(_mm512_set1_ps(1.0f / 12.0f), g1);
    out[0] = _mm512_mul_ps(_mm512_set1_ps(0.25f), g0);
    out[1] = _mm512_mul_ps(_mm512_set1_ps(-1.0f / 6.0f), _mm512_add_ps(s, g1));
    out[2] = _mm512_mul_ps(_mm512_set1_ps(-1.0f / 6.0f), _mm512_sub_ps(s, g1));
    out[3] = _mm512_add_ps(p, q);
    out[4] = _mm512_sub_ps(p, q);
    out[5] = g2;
  }
  SNGAN_WINOGRAD_AVX512 static void transform_kernels(const __m512i kernel[16], bool flip, __m512 out[36]) {
    __m512 g[3][3];
    for (int kh = 0; kh < 3; ++kh)
      for (int kw = 0; kw < 3; ++kw) g[kh][kw] = _mm512_castsi512_ps(kernel[flip ? 8 - 3 * kh - kw : 3 * kh + kw]);
    __m512 q[3][6];  // G g, per kernel column
    for (int kw = 0; kw < 3; ++kw) kernel_rows(g[0][kw], g[1][kw], g[2][kw], q[kw]);
    for (int r = 0; r < 6; ++r) kernel_rows(q[0][r], q[1][r], q[2][r], out + r * 6);  // (G g) G^T
  }
};

// The conv as the transforms see it: `in` planes of H x W per sample into `out` planes, in
// tiles of m x m outputs.
template <int m>
struct Problem {
  static constexpr int n = m + 2;                        // the transform's side
  static constexpr int64_t kPositions = int64_t(n) * n;  // xi: its positions
  int64_t N, in, out, H, W;
  int64_t tile_rows() const { return H / m; }
  int64_t tile_cols() const { return W / m; }
  int64_t tiles_per_sample() const { return tile_rows() * tile_cols(); }
  TileGrid grid(int64_t T) const { return {tile_rows(), tile_cols(), tiles_per_sample(), T}; }
};

// V (n^2 operands of in x T, laid out as `ops` says) of a chunk's B samples x (B, in, H, W):
// V_xi(c, t) = (B^T d B)(xi) for tile t's n x n input block d (rows m*th - 1 .. m*th + m,
// columns likewise, zero outside). Seen through x's stride-m phase planes P_ab(i, j) =
// x(m*i + a, m*j + b) (one value per tile, the chunk's samples one after another), tile row e
// is phase row (e + m - 1) % m at tile row th - 1 (e = 0), th, or th + 1 (e = m + 1), and the
// same for columns: each of the n^2 values, over consecutive tiles, is a contiguous run of
// one phase plane shifted by whole tile rows and columns, zero where the shift leaves the
// grid (masks per 16-tile group and shift).
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_input(float* __restrict V, const TileOperands& ops,
                                           const float* __restrict x, const Problem<m>& p,
                                           const TileGrid& grid) {
  constexpr int n = m + 2;
  const int64_t H = p.H, W = p.W, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, m * m> planes = phase_planes<m * m>(T, margin);
  auto phase = [](int e) { return (e + m - 1) % m; };
  auto shift = [](int e) { return e == 0 ? -1 : e == m + 1 ? 1 : 0; };
  for (int64_t c = 0; c < p.in; ++c) {
    split_phases<m>(planes.data(), x + c * H * W, p.in * H * W, H, W, grid);
    const PackedBRow row = ops.row(c);  // V_xi(c, t) at V + xi * ops.position + row.at(t)
    const int64_t position = ops.position;
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* mask = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 u[n][n];  // d B: each row's columns combined
      for (int r = 0; r < n; ++r) {
        __m512 d[n];
        for (int j = 0; j < n; ++j) {
          const float* src = planes[phase(r) * m + phase(j)] + t + shift(r) * TW + shift(j);
          d[j] = _mm512_maskz_loadu_ps(valid & mask[(shift(r) + 1) * 3 + shift(j) + 1], src);
        }
        Form<m>::input_rows(d, u[r]);
      }
      for (int k = 0; k < n; ++k) {  // B^T (d B): the rows combined
        __m512 col[n], v[n];
        for (int r = 0; r < n; ++r) col[r] = u[r][k];
        Form<m>::input_rows(col, v);
        for (int r = 0; r < n; ++r) _mm512_mask_storeu_ps(V + (r * n + k) * position + row.at(t), valid, v[r]);
      }
    }
    ops.rows_written(V, c);
  }
}

// y (B, out, H, W) (=|+=) A^T M A (+ bias) for every tile of the chunk, M (n^2, out, T): the
// m x m outputs of the tiles are y's stride-m phase planes, put back in place.
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_output(float* __restrict y, const float* __restrict M,
                                            const float* bias, const Problem<m>& p,
                                            const TileGrid& grid, bool accumulate) {
  constexpr int n = m + 2;
  const int64_t H = p.H, W = p.W, T = grid.T;
  const int64_t position = p.out * T;
  const std::array<float*, m * m> planes = phase_planes<m * m>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    const __m512 bo = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.0f);
    const float* src = M + o * T;
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 s[m][n];  // A^T M: the rows combined
      for (int k = 0; k < n; ++k) {
        __m512 col[n], v[m];
        for (int r = 0; r < n; ++r) col[r] = _mm512_maskz_loadu_ps(valid, src + (r * n + k) * position + t);
        Form<m>::output_rows(col, v);
        for (int u = 0; u < m; ++u) s[u][k] = v[u];
      }
      for (int u = 0; u < m; ++u) {  // (A^T M) A
        __m512 v[m];
        Form<m>::output_rows(s[u], v);
        for (int q = 0; q < m; ++q) _mm512_storeu_ps(planes[u * m + q] + t, _mm512_add_ps(v[q], bo));
      }
    }
    merge_phases<m>(planes.data(), y + o * H * W, p.out * H * W, H, W, grid, accumulate);
  }
}

// y (N, out, H, W) (=|+=) the correlation of x (N, in, H, W) with the 3x3 kernels at
// w + o * row_stride + i * k_stride (turned 180 degrees if `flip`), + bias.
template <int m>
void run(float* y, const float* x, const float* w, int64_t row_stride, int64_t k_stride, bool flip,
         const float* bias, const Problem<m>& p, bool accumulate, const WinogradGemms& gemms) {
  constexpr int64_t kPositions = Problem<m>::kPositions;
  // U_xi (out, in): U_xi(o, i) = (G g G^T)(xi) for the kernel g at w + o * row_stride + i * k_stride.
  KernelOperands<kPositions> U(p.out, p.in, gemms);
  std::array<KernelTarget, kPositions> targets;
  for (int64_t xi = 0; xi < kPositions; ++xi) targets[static_cast<size_t>(xi)] = {xi, 0};
  const __mmask16 taps = avx512::lanes(9);
  U.write(
      p.in,
      [&](int64_t o, int64_t i) SNGAN_WINOGRAD_AVX512 {
        return _mm512_maskz_loadu_epi32(taps, w + o * row_stride + i * k_stride);
      },
      [&](const __m512i kernel[16], __m512 out[kPositions]) SNGAN_WINOGRAD_AVX512 {
        Form<m>::transform_kernels(kernel, flip, out);
      },
      targets);
  const int64_t xs = p.in * p.H * p.W, ys = p.out * p.H * p.W;
  multiply_chunks(
      U, p.N, p.tiles_per_sample(), Form<m>::kTargetTiles, p.in, p.in, p.out, gemms,
      [&](float* V, const TileOperands& ops, int64_t n0, int64_t T) { transform_input<m>(V, ops, x + n0 * xs, p, p.grid(T)); },
      [&](const float* M, int64_t n0, int64_t T) { transform_output<m>(y + n0 * ys, M, bias, p, p.grid(T), accumulate); });
}


// dw (out, in, 3, 3) (=|+=) G^T dU G for each (o, i), dU (n^2, out, in) the sum of `parts`
// partials `stride` floats apart, added in order: sixteen input channels at a time, the nine
// taps of each written through a small block.
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_weight_gradient(float* __restrict dw, const float* __restrict dU,
                                                     int64_t parts, int64_t stride, int64_t out,
                                                     int64_t in, bool accumulate) {
  constexpr int n = m + 2;
  const int64_t plane = out * in;
  for_each_kernel_block(out, in, [&](int64_t o, int64_t i, __mmask16 valid) {
    const float* src = dU + o * in + i;
    __m512 q[3][n];  // G^T dU: the rows combined
    for (int k = 0; k < n; ++k) {
      __m512 u[n], v[3];
      for (int r = 0; r < n; ++r) u[r] = sum_partials(src + (r * n + k) * plane, parts, stride, valid);
      Form<m>::kernel_gradient_rows(u, v);
      for (int r = 0; r < 3; ++r) q[r][k] = v[r];
    }
    alignas(64) float taps[9][16];
    for (int r = 0; r < 3; ++r) {  // (G^T dU) G: the columns combined
      __m512 v[3];
      Form<m>::kernel_gradient_rows(q[r], v);
      for (int c = 0; c < 3; ++c) _mm512_store_ps(taps[r * 3 + c], v[c]);
    }
    store_kernel_taps(dw, taps, o, in, i, accumulate);
  });
}

// F(4x4, 3x3) against F(2x2, 3x3) (conv_bench --threads 1 --reps 10 --batch 64, both binaries
// at once on one core each, AMD EPYC Zen 4, best of 10 in ms, rounds swapping the cores):
// 64 -> 128 at 16x16 9.7-10.0 against 15.1; 64 -> 64 at 32x32 21.1-21.2 against 31.4-32.1;
// 128 -> 128 at 32x32 66.3-69.8 against 103.1-111.0; 128 -> 256 at 8x8 9.5-10.9 against
// 13.2-14.1 (four rounds); 256 -> 256 at 8x8 21.9-23.1 against 27.2-27.3; but 256 -> 512 at 4x4
// (one tile per sample) 21.8-23.6 against 19.7-22.0, so 4x4 maps keep F(2x2, 3x3). 128 tiles
// per chunk instead of 64 measured no faster.
// dw(o, i) = G^T [sum over tiles of (A e A^T) .* (B^T d B)] G: per position xi, dU_xi (out,
// in) = sum of E_xi (out, T) * V_xi (in, T)^T over the chunks (weight_gradient_partials), the
// partials added in order by transform_weight_gradient.
template <int m>
void weight_gradient(float* dw, const float* dy, const float* x, const Problem<m>& p, bool accumulate,
                     const WinogradGemms& gemms) {
  const int64_t xs = p.in * p.H * p.W, ys = p.out * p.H * p.W;
  const Partials dU = weight_gradient_partials<Problem<m>::kPositions>(
      p.N, p.tiles_per_sample(), kWeightGradientTiles<m>, p.out, p.in, gemms,
      [&](float* V, float* E, const TileOperands& ops, int64_t n0, int64_t T) {
        transform_input<m>(V, ops, x + n0 * xs, p, p.grid(T));
        output_gradient_transform<Form<m>, m, m + 2>(E, dy + n0 * ys, p.out, p.H, p.W, p.grid(T));
      });
  transform_weight_gradient<m>(dw, dU.dU, dU.count, dU.stride, p.out, p.in, accumulate);
}

}  // namespace

bool winograd_shape(const Conv2dDims& d) {
  return d.KH == 3 && d.KW == 3 && d.stride == 1 && d.pad_h == 1 && d.pad_w == 1 && d.H % 2 == 0 &&
         d.W % 2 == 0;
}

bool winograd_wide_shape(const Conv2dDims& d) {
  return winograd_shape(d) && d.H % 4 == 0 && d.W % 4 == 0;
}

bool winograd_wide_weight_gradient_shape(const Conv2dDims& d) {
  return winograd_wide_shape(d) && d.H >= 8 && d.W >= 8;
}

void winograd_forward(float* y, const float* x, const float* w, const float* b,
                      const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_forward: not a Winograd conv here");
  if (!gemms.bf16 && winograd_wide_shape(d)) {
    run(y, x, w, d.Cin * 9, 9, false, b, Problem<4>{d.N, d.Cin, d.Cout, d.H, d.W}, accumulate, gemms);
    return;
  }
  run(y, x, w, d.Cin * 9, 9, false, b, Problem<2>{d.N, d.Cin, d.Cout, d.H, d.W}, accumulate, gemms);
}

void winograd_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                             bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_backward_input: not a Winograd conv here");
  // dx(ci) = sum over co of dy(co) correlated with w(co, ci) turned 180 degrees (pad 1).
  if (!gemms.bf16 && winograd_wide_shape(d)) {
    run(dx, dy, w, 9, d.Cin * 9, true, nullptr, Problem<4>{d.N, d.Cout, d.Cin, d.H, d.W}, accumulate, gemms);
    return;
  }
  run(dx, dy, w, 9, d.Cin * 9, true, nullptr, Problem<2>{d.N, d.Cout, d.Cin, d.H, d.W}, accumulate, gemms);
}

void winograd_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                              bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_backward_weight: not a Winograd conv here");
  if (!gemms.bf16 && winograd_wide_weight_gradient_shape(d)) {
    weight_gradient(dw, dy, x, Problem<4>{d.N, d.Cin, d.Cout, d.H, d.W}, accumulate, gemms);
    return;
  }
  weight_gradient(dw, dy, x, Problem<2>{d.N, d.Cin, d.Cout, d.H, d.W}, accumulate, gemms);
}

}  // namespace sngan::kernels
