// Winograd F(2x2, 2x2) and F(4x4, 2x2) for 4x4 stride-2 pad-1 convolutions (see winograd.h).
//
// Splitting the 4x4 kernel w by the parity of its taps, w_ab(t, s) = w(2t + a, 2s + b), turns
// the stride-2 conv into four stride-1 2x2 correlations: phase (a, b) of the kernel meets the
// input's rows 2(y + t) + a - 1 for output row y. A tile of m x m outputs (rows m*th ..
// m*th + m - 1, m = 2 or 4) therefore reads, for kernel phase a, the m + 1 input rows
// 2m*th + 2r + a - 1 (r = 0 .. m): a (2m + 2)-square input tile holds the four phases' tiles.
// Input row 2m*th + e - 1 (e = 2r + a in 0 .. 2m + 1) is x's stride-2m phase row
// (e + 2m - 1) % 2m at tile row th - 1 (e = 0), th, or th + 1 (e = 2m + 1).
//
// F(m, 2): with d an (m + 1)-vector and k a 2-tap kernel, y_i = d_i k_0 + d_{i+1} k_1
// (i < m) is A^T [(G k) .* (B^T d)] with, for m = 2 (points 0, 1, infinity),
//   B^T = [1 -1 0; 0 1 0; 0 -1 1],  G = [1 0; 1 1; 0 1],  A^T = [1 1 0; 0 1 1],
// and for m = 4 (points 0, 1, -1, 2, infinity; Lavin and Gray's construction)
//   B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1],
//   G = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1],
//   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1]:
// m + 1 multiplies for m outputs; nested over rows and columns, (m + 1)^2 for an m x m block
// instead of 4m^2. Over channels, for each of the (m + 1)^2 positions xi of the transform,
// the forward is one GEMM over all four kernel phases at once,
//   M_xi (out, T) = U_xi (out, 4 in) * V_xi (4 in, T):
// 36 multiplies per 2x2 block and channel pair where the direct conv takes 64, or 100 per 4x4
// block where it takes 256 (25 / 36 of F(2x2, 2x2)'s GEMM work). F(2x2, 2x2)'s transforms only
// add and subtract: each output is the exact sum in another order. F(4x4, 2x2)'s scale by 2,
// 4, 8 and 1/6, so its rounding errors grow (about 3 times F(2x2, 2x2)'s in fp32, still of
// order 1e-6 relative: the bf16 error test prints both); in bf16, where the GEMMs round the
// transformed operands, a simulation over 64 channels put its error at 5 times the direct
// bf16 conv's, past what the bf16 tests allow, so it serves fp32 only (winograd.h).
//
// The input gradient (the forward of the 4x4 stride-2 transposed conv) splits by the parity of
// dx instead: dx's phase (p, q), dx(2n + p, ...), is the 2x2 correlation of dy's rows
// n - 1 + p, n + p with the kernel taps w(3 - p - 2j, ...) (j = 0, 1), so an m x m block of
// every phase (dx rows 2m*th .. 2m*th + 2m - 1) reads dy's (m + 2)-square tile at rows
// m*th - 1 .. m*th + m (dy's stride-m phase planes), phase p its rows p .. p + m: 4 (m + 1)^2
// GEMMs (phase, xi) of (in, out) x (out, T), the products' blocks dx's stride-2m phase planes.
// The weight gradient is the forward's adjoint per kernel phase:
// dw_ab = G^T [sum over tiles of (A e A^T) .* (B^T d_ab B)] G for dy's m x m block e, in fp32
// on F(4x4, 2x2) where the forward takes it.
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

constexpr int64_t kPhases = 4;  // the kernel's (or dx's) parity phases (a, b) = (ab / 2, ab % 2)

// F(m, 2)'s one-dimensional transforms on 16 lanes: B^T d of m + 1 values (input_rows), A^T m
// of m + 1 values (output_rows), G k of a 2-tap kernel (kernel_rows), and the tiles per chunk.
template <int m>
struct Form;

template <>
struct Form<2> {
  // F(2x2, 2x2) chunks: the forward and input gradient, and the weight gradient (as deep as a
  // chunk's tiles, adding into 9 * out * 4 in floats once per chunk). conv_bench, 2 threads,
  // batch 64, 64 -> 128 channels at 32x32, 128 -> 128 at 16x16, 256 -> 512 at 8x8 and 64 -> 64
  // at 32x32 (AMD EPYC Zen 4), three alternating runs each of 32, 64 and 128 tiles (128, 256
  // and 512 for the weight gradient): no width consistently faster than 64 (256) within the
  // machine's 10-30% noise; 16 tiles (one sample of a 16x16 map per chunk) up to 1.7x slower.
  // Again with the operands written packed, for the input gradient (256 -> 512 at 8x8, 64 ->
  // 128 at 32x32, 128 -> 256 at 16x16; 16 to 128 tiles, three rounds): the same.
  static constexpr int64_t kTargetTiles = 64;
  SNGAN_WINOGRAD_AVX512 static void input_rows(const __m512 d[3], __m512 v[3]) {
    v[0] = _mm512_sub_ps(d[0], d[1]);
    v[1] = d[1];
    v[2] = _mm512_sub_ps(d[2], d[1]);
  }
  SNGAN_WINOGRAD_AVX512 static void output_rows(const __m512 s[3], __m512 y[2]) {
    y[0] = _mm512_add_ps(s[0], s[1]);
    y[1] = _mm512_add_ps(s[1], s[2]);
  }
  SNGAN_WINOGRAD_AVX512 static void kernel_rows(__m512 k0, __m512 k1, __m512 g[3]) {
    g[0] = k0;
    g[1] = _mm512_add_ps(k0, k1);
    g[2] = k1;
  }
  // For the weight gradient, the adjoints: A e of m values, A = [1 0; 1 1; 0 1], and G^T u of
  // m + 1 values, G^T = [1 1 0; 0 1 1].
  SNGAN_WINOGRAD_AVX512 static void gradient_rows(const __m512 e[2], __m512 v[3]) {
    v[0] = e[0];
    v[1] = _mm512_add_ps(e[0], e[1]);
    v[2] = e[1];
  }
  SNGAN_WINOGRAD_AVX512 static void kernel_gradient_rows(const __m512 u[3], __m512 q[2]) {
    q[0] = _mm512_add_ps(u[0], u[1]);
    q[1] = _mm512_add_ps(u[1], u[2]);
  }
};

template <>
struct Form<4> {
  // Against F(2x2, 2x2) (conv_bench, batch 64, AMD EPYC Zen 4, best of 10, both binaries at
  // once on one core each, 1 thread, two rounds; forward / input gradient in ms): 64 -> 64 at
  // 32x32 11.9-12.0 / 12.8-13.0 against 14.9-21.5 / 15.4-20.9; 128 -> 128 at 16x16 11.4-12.3 /
  // 11.3-11.5 against 12.9-13.5 / 13.4; 64 -> 128 at 32x32 19.9-21.3 / 22.5-25.0 against
  // 25.6-26.2 / 28.3-31.4; 128 -> 256 at 16x16 23.9-24.6 / 25.8-26.0 against 24.5-25.9 /
  // 25.4-27.4.
  // Each tile 16 output pixels, four times F(2x2, 2x2)'s. conv_bench, batch 64, AMD EPYC Zen 4,
  // 2 threads, best of 20, two rounds: 32 tiles against 64, 64 -> 64 at 32x32 forward 6.0-6.3
  // against 6.7-7.4 ms, input gradient 6.5-6.6 against 8.1-10.0; 64 -> 128 at 32x32 10.2-10.8
  // against 11.2-11.6 and 11.6-12.6 against 16.7-19.0; 128 -> 256 at 16x16 mixed.
  static constexpr int64_t kTargetTiles = 32;
  SNGAN_WINOGRAD_AVX512 static void input_rows(const __m512 d[5], __m512 v[5]) {
    const __m512 two = _mm512_set1_ps(2.0f), minus_two = _mm512_set1_ps(-2.0f);
    const __m512 d31 = _mm512_sub_ps(d[3], d[1]), d32 = _mm512_sub_ps(d[3], d[2]);
    v[0] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[0], d[2]), d31);
    v[1] = _mm512_fmadd_ps(minus_two, d[1], d32);
    v[2] = _mm512_fmadd_ps(two, _mm512_sub_ps(d[1], d[2]), d32);
    v[3] = d31;
    v[4] = _mm512_fmadd_ps(minus_two, d31, _mm512_sub_ps(d[4], d[2]));
  }
  SNGAN_WINOGRAD_AVX512 static void output_rows(const __m512 s[5], __m512 y[4]) {
    const __m512 sum = _mm512_add_ps(s[1], s[2]), diff = _mm512_sub_ps(s[1], s[2]);
    y[0] = _mm512_add_ps(_mm512_add_ps(s[0], sum), s[3]);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), s[3], diff);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s[3], sum);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), s[3], diff), s[4]);
  }
  SNGAN_WINOGRAD_AVX512 static void kernel_rows(__m512 k0, __m512 k1, __m512 g[5]) {
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f);
    g[0] = _mm512_mul_ps(_mm512_set1_ps(0.5f), k0);
    g[1] = _mm512_mul_ps(_mm512_set1_ps(-0.5f), _mm512_add_ps(k0, k1));
    g[2] = _mm512_mul_ps(sixth, _mm512_sub_ps(k1, k0));
    g[3] = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 3.0f), k1, _mm512_mul_ps(sixth, k0));
    g[4] = k1;
  }
  // A e: A = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 0 0 0 1].
  SNGAN_WINOGRAD_AVX512 static void gradient_rows(const __m512 e[4], __m512 v[5]) {
    const __m512 a = _mm512_add_ps(e[0], e[2]), b = _mm512_add_ps(e[1], e[3]);
    v[0] = e[0];
    v[1] = _mm512_add_ps(a, b);
    v[2] = _mm512_sub_ps(a, b);
    v[3] = _mm512_fmadd_ps(_mm512_set1_ps(8.0f), e[3],
                           _mm512_fmadd_ps(_mm512_set1_ps(4.0f), e[2], _mm512_fmadd_ps(_mm512_set1_ps(2.0f), e[1], e[0])));
    v[4] = e[3];
  }
  // G^T u: G^T = [1/2 -1/2 -1/6 1/6 0; 0 -1/2 1/6 1/3 1].
  SNGAN_WINOGRAD_AVX512 static void kernel_gradient_rows(const __m512 u[5], __m512 q[2]) {
    const __m512 sixth = _mm512_set1_ps(1.0f / 6.0f), half = _mm512_set1_ps(0.5f);
    q[0] = _mm512_fmadd_ps(half, _mm512_sub_ps(u[0], u[1]), _mm512_mul_ps(sixth, _mm512_sub_ps(u[3], u[2])));
    q[1] = _mm512_add_ps(_mm512_fmsub_ps(sixth, _mm512_fmadd_ps(_mm512_set1_ps(2.0f), u[3], u[2]),
                                         _mm512_mul_ps(half, u[1])),
                         u[4]);
  }
};

// The conv from x (N, in, H, W) to y (N, out, H/2, W/2); a tile is an m x m block of y, so
// (H/2m, W/2m) tiles per sample.
template <int m>
struct Problem {
  static constexpr int n = m + 1;                    // the transform's side
  static constexpr int64_t kPositions = int64_t(n) * n;  // xi: its positions
  int64_t N, in, out, H, W;
  int64_t tile_rows() const { return H / (2 * m); }
  int64_t tile_cols() const { return W / (2 * m); }
  int64_t tiles_per_sample() const { return tile_rows() * tile_cols(); }
  TileGrid grid(int64_t T) const { return {tile_rows(), tile_cols(), tiles_per_sample(), T}; }
};

// The transformed 2x2 kernels of the four phases of 16 4x4 kernels given transposed (register q
// holds tap q of each): out[ph * n^2 + xi] = (G k G^T)(xi) for the phase's kernel k(t, s) =
// tap taps[ph][2 * t + s].
template <int m>
SNGAN_WINOGRAD_AVX512 inline void transform_kernels(const __m512i kernel[16], const PhaseTaps& taps, __m512 out[]) {
  constexpr int n = m + 1;
  for (int ph = 0; ph < 4; ++ph) {
    const std::array<int, 4>& t = taps[static_cast<size_t>(ph)];
    __m512 k[4];
    for (int q = 0; q < 4; ++q) k[q] = _mm512_castsi512_ps(kernel[t[static_cast<size_t>(q)]]);
    __m512 c0[n], c1[n];  // G k: the rows combined, for kernel columns 0 and 1
    Form<m>::kernel_rows(k[0], k[2], c0);
    Form<m>::kernel_rows(k[1], k[3], c1);
    for (int i = 0; i < n; ++i) Form<m>::kernel_rows(c0[i], c1[i], out + ph * n * n + i * n);  // (G k) G^T
  }
}

// Writes U's operands from the 4x4 kernels at w + r * row_stride + k * k_stride (rows r, depths
// k < depth), phase ph of each to targets[ph * n^2 + xi].
template <int m, size_t kCount>
void write_kernels(KernelOperands<kCount>& U, const float* w, int64_t row_stride, int64_t k_stride, int64_t depth,
                   const PhaseTaps& taps, const std::array<KernelTarget, 4 * (m + 1) * (m + 1)>& targets) {
  U.write(
      depth,
      [&](int64_t r, int64_t k) SNGAN_WINOGRAD_AVX512 { return _mm512_loadu_si512(w + r * row_stride + k * k_stride); },
      [&](const __m512i kernel[16], __m512 out[]) SNGAN_WINOGRAD_AVX512 { transform_kernels<m>(kernel, taps, out); },
      targets);
}

// B^T d B of 16 tiles' n x n tiles d, their n^2 values stored `position` floats apart from dst.
template <int m>
SNGAN_WINOGRAD_AVX512 inline void store_input_transform(float* dst, int64_t position, __mmask16 valid,
                                                        const __m512 d[m + 1][m + 1]) {
  constexpr int n = m + 1;
  __m512 u[n][n];  // B^T d: the rows combined, u[r][s] from column s
  for (int s = 0; s < n; ++s) {
    __m512 col[n], v[n];
    for (int r = 0; r < n; ++r) col[r] = d[r][s];
    Form<m>::input_rows(col, v);
    for (int r = 0; r < n; ++r) u[r][s] = v[r];
  }
  for (int r = 0; r < n; ++r) {  // (B^T d) B: the columns combined
    __m512 v[n];
    Form<m>::input_rows(u[r], v);
    for (int s = 0; s < n; ++s) _mm512_mask_storeu_ps(dst + (r * n + s) * position, valid, v[s]);
  }
}

// A^T M A of the n^2 values M (`position` floats apart from src) of 16 tiles: their m x m
// blocks, out[m * u + v].
template <int m>
SNGAN_WINOGRAD_AVX512 inline void output_transform(__m512 out[m * m], const float* src, int64_t position,
                                                   __mmask16 valid) {
  constexpr int n = m + 1;
  __m512 s[m][n];  // A^T M: the rows combined
  for (int k = 0; k < n; ++k) {
    __m512 col[n], y[m];
    for (int r = 0; r < n; ++r) col[r] = _mm512_maskz_loadu_ps(valid, src + (r * n + k) * position);
    Form<m>::output_rows(col, y);
    for (int u = 0; u < m; ++u) s[u][k] = y[u];
  }
  for (int u = 0; u < m; ++u) Form<m>::output_rows(s[u], out + m * u);  // (A^T M) A
}

// V (n^2 operands of 4 in x T, laid out as `ops` says) of a chunk's samples x (B, in, H, W):
// V_xi(ab * in + c, t) = (B^T d B)(xi) for the n x n tile d of kernel phase ab,
// d(r, s) = x(c, 2m*th + 2r + a - 1, 2m*tw + 2s + b - 1) (zero outside): each value, over
// consecutive tiles, is a masked run of one of x's (2m)^2 phase planes (see the top).
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_input(float* __restrict V, const TileOperands& ops,
                                           const float* __restrict x, const Problem<m>& p,
                                           const TileGrid& grid) {
  constexpr int n = m + 1, S = 2 * m;
  const int64_t H = p.H, W = p.W, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, S * S> planes = phase_planes<S * S>(T, margin);
  auto phase = [](int e) { return (e + S - 1) % S; };
  auto shift = [](int e) { return e == 0 ? -1 : e == S + 1 ? 1 : 0; };
  for (int64_t c = 0; c < p.in; ++c) {
    split_phases<S>(planes.data(), x + c * H * W, p.in * H * W, H, W, grid);
    const PackedBRow rows[kPhases] = {ops.row(c), ops.row(p.in + c), ops.row(2 * p.in + c), ops.row(3 * p.in + c)};
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* mask = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      for (int ab = 0; ab < kPhases; ++ab) {
        const int a = ab / 2, b = ab % 2;
        __m512 d[n][n];
        for (int r = 0; r < n; ++r)
          for (int s = 0; s < n; ++s) {
            const int er = 2 * r + a, ec = 2 * s + b;
            const float* src = planes[phase(er) * S + phase(ec)] + t + shift(er) * TW + shift(ec);
            d[r][s] = _mm512_maskz_loadu_ps(valid & mask[(shift(er) + 1) * 3 + shift(ec) + 1], src);
          }
        store_input_transform<m>(V + rows[ab].at(t), ops.position, valid, d);
      }
    }
    ops.rows_written(V, c);
  }
}

// y (B, out, H/2, W/2) (=|+=) A^T M A (+ bias) for every tile of the chunk, M (n^2, out, T):
// the m x m blocks are y's stride-m phase planes.
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_output(float* __restrict y, const float* __restrict M,
                                            const float* bias, const Problem<m>& p,
                                            const TileGrid& grid, bool accumulate) {
  const int64_t Ho = p.H / 2, Wo = p.W / 2, T = grid.T, position = p.out * T;
  const std::array<float*, m * m> planes = phase_planes<m * m>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    const __m512 bo = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.0f);
    for (int64_t t = 0; t < T; t += 16) {
      __m512 out[m * m];
      output_transform<m>(out, M + o * T + t, position, avx512::lanes(T - t));
      for (int q = 0; q < m * m; ++q) _mm512_storeu_ps(planes[q] + t, _mm512_add_ps(out[q], bo));
    }
    merge_phases<m>(planes.data(), y + o * Ho * Wo, p.out * Ho * Wo, Ho, Wo, grid, accumulate);
  }
}

// dy's transformed (m + 2)-square tiles, V (4 phases x n^2 operands of out x T, laid out as
// `ops` says): for dx phase pq = (p, q), the (B^T d B)(xi) of the n x n tile d = rows p .. p + m
// and columns q .. q + m of dy's tile at rows m*th - 1 .. m*th + m, columns likewise (zero
// outside): tile row e is dy's stride-m phase row (e + m - 1) % m at tile row th - 1 (e = 0),
// th or th + 1 (e = m + 1).
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_output_gradient_tiles(float* __restrict V, const TileOperands& ops,
                                                           const float* __restrict dy, const Problem<m>& p,
                                                           const TileGrid& grid) {
  constexpr int n = m + 1;
  const int64_t Ho = p.H / 2, Wo = p.W / 2, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, m * m> planes = phase_planes<m * m>(T, margin);
  auto phase = [](int e) { return (e + m - 1) % m; };
  auto shift = [](int e) { return e == 0 ? -1 : e == m + 1 ? 1 : 0; };
  for (int64_t o = 0; o < p.out; ++o) {
    split_phases<m>(planes.data(), dy + o * Ho * Wo, p.out * Ho * Wo, Ho, Wo, grid);
    const PackedBRow row = ops.row(o);
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* mask = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 d[m + 2][m + 2];
      for (int r = 0; r < m + 2; ++r)
        for (int s = 0; s < m + 2; ++s) {
          const float* src = planes[phase(r) * m + phase(s)] + t + shift(r) * TW + shift(s);
          d[r][s] = _mm512_maskz_loadu_ps(valid & mask[(shift(r) + 1) * 3 + shift(s) + 1], src);
        }
      for (int pq = 0; pq < kPhases; ++pq) {
        const int pr = pq / 2, pc = pq % 2;
        __m512 sub[n][n];
        for (int r = 0; r < n; ++r)
          for (int s = 0; s < n; ++s) sub[r][s] = d[pr + r][pc + s];
        store_input_transform<m>(V + pq * Problem<m>::kPositions * ops.position + row.at(t), ops.position, valid, sub);
      }
    }
    ops.rows_written(V, o);
  }
}

// dx (B, in, H, W) (=|+=) the four phases' A^T M A, M (4 phases, n^2, in, T): phase (p, q)'s
// block value (u, v) of tile t is dx(2m*th + 2u + p, 2m*tw + 2v + q), an entry of dx's
// stride-2m phase plane (2u + p, 2v + q).
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_input_gradient(float* __restrict dx, const float* __restrict M,
                                                    const Problem<m>& p, const TileGrid& grid,
                                                    bool accumulate) {
  constexpr int S = 2 * m;
  const int64_t H = p.H, W = p.W, T = grid.T, position = p.in * T;
  const std::array<float*, S * S> planes = phase_planes<S * S>(T);
  for (int64_t c = 0; c < p.in; ++c) {
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      for (int pq = 0; pq < kPhases; ++pq) {
        const int pr = pq / 2, pc = pq % 2;
        __m512 out[m * m];
        output_transform<m>(out, M + pq * Problem<m>::kPositions * position + c * T + t, position, valid);
        for (int u = 0; u < m; ++u)
          for (int v = 0; v < m; ++v) _mm512_storeu_ps(planes[(2 * u + pr) * S + 2 * v + pc] + t, out[u * m + v]);
      }
    }
    merge_phases<S>(planes.data(), dx + c * H * W, p.in * H * W, H, W, grid, accumulate);
  }
}

template <int m>
void forward(float* y, const float* x, const float* w, const float* b, const Conv2dDims& d, bool accumulate,
             const WinogradGemms& gemms) {
  constexpr int64_t kPositions = Problem<m>::kPositions;
  const Problem<m> p{d.N, d.Cin, d.Cout, d.H, d.W};
  const int64_t depth = kPhases * p.in;
  // U_xi (out, 4 in), packed: U_xi(o, ab * in + c) = (G w_ab G^T)(xi) for the kernel phase
  // w_ab(t, s) = w(o, c, 2t + a, 2s + b).
  KernelOperands<kPositions> U(p.out, depth, gemms);
  write_kernels<m>(U, w, p.in * 16, 16, p.in, forward_phase_taps(), forward_phase_targets<kPositions>(p.in));
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  multiply_chunks(
      U, p.N, p.tiles_per_sample(), Form<m>::kTargetTiles, depth, p.in, p.out, gemms,
      [&](float* V, const TileOperands& ops, int64_t n0, int64_t T) { transform_input<m>(V, ops, x + n0 * xs, p, p.grid(T)); },
      [&](const float* M, int64_t n0, int64_t T) { transform_output<m>(y + n0 * ys, M, b, p, p.grid(T), accumulate); });
}

template <int m>
void backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d, bool accumulate,
                    const WinogradGemms& gemms) {
  constexpr int64_t kPositions = Problem<m>::kPositions, kProducts = kPhases * kPositions;
  const Problem<m> p{d.N, d.Cin, d.Cout, d.H, d.W};
  // U_(pq, xi) (in, out), packed: dx phase (p, q)'s kernels w(o, c, 3 - p - 2j, 3 - q - 2l),
  // transformed.
  KernelOperands<kProducts> U(p.in, p.out, gemms);
  write_kernels<m>(U, w, 16, p.in * 16, p.out, input_gradient_phase_taps(), input_gradient_phase_targets<kPositions>());
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  multiply_chunks(
      U, p.N, p.tiles_per_sample(), Form<m>::kTargetTiles, p.out, p.out, p.in, gemms,
      [&](float* V, const TileOperands& ops, int64_t n0, int64_t T) {
        transform_output_gradient_tiles<m>(V, ops, dy + n0 * ys, p, p.grid(T));
      },
      [&](const float* M, int64_t n0, int64_t T) { transform_input_gradient<m>(dx + n0 * xs, M, p, p.grid(T), accumulate); });
}

// dw (out, in, 4, 4) (=|+=) G^T dU_ab G into taps (2t + a, 2s + b) for each (o, c) and kernel
// phase ab, dU (n^2, out, 4 in) the sum of `parts` partials `stride` floats apart, added in
// order: sixteen input channels at a time, the 16 taps of each written through a small block.
template <int m>
SNGAN_WINOGRAD_AVX512 void transform_weight_gradient(float* __restrict dw, const float* __restrict dU,
                                                     int64_t parts, int64_t stride, int64_t out,
                                                     int64_t in, bool accumulate) {
  constexpr int n = m + 1;
  const int64_t plane = out * kPhases * in;
  for_each_kernel_block(out, in, [&](int64_t o, int64_t i, __mmask16 valid) {
    alignas(64) float taps[16][16];
    for (int ab = 0; ab < kPhases; ++ab) {
      const int a = ab / 2, b = ab % 2;
      const float* src = dU + o * kPhases * in + ab * in + i;
      __m512 q[2][n];  // G^T dU: the rows combined
      for (int k = 0; k < n; ++k) {
        __m512 u[n], v[2];
        for (int r = 0; r < n; ++r) u[r] = sum_partials(src + (r * n + k) * plane, parts, stride, valid);
        Form<m>::kernel_gradient_rows(u, v);
        q[0][k] = v[0];
        q[1][k] = v[1];
      }
      for (int t = 0; t < 2; ++t) {  // (G^T dU) G: the columns combined
        __m512 v[2];
        Form<m>::kernel_gradient_rows(q[t], v);
        _mm512_store_ps(taps[(2 * t + a) * 4 + b], v[0]);
        _mm512_store_ps(taps[(2 * t + a) * 4 + 2 + b], v[1]);
      }
    }
    store_kernel_taps(dw, taps, o, in, i, accumulate);
  });
}

// Per position xi, dU_xi (out, 4 in) = sum of E_xi (out, T) * V_xi (4 in, T)^T over the chunks
// (weight_gradient_partials), the partials added in order by transform_weight_gradient.
// F(4x4, 2x2) against F(2x2, 2x2) (conv_bench --threads 1 --reps 10 --batch 64, both binaries
// at once on one core each, AMD EPYC Zen 4, best of 10 in ms, four rounds swapping the cores):
// 64 -> 64 at 32x32 13.2-17.5 against 16.7-17.1; 128 -> 128 at 16x16 14.5-15.9 against
// 13.8-21.4; 64 -> 128 at 32x32 24.2-32.6 against 28.8-35.9 (each faster in three rounds of
// four, by 11-33%); 128 -> 256 at 16x16 a tie (two rounds).
template <int m>
void backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d, bool accumulate,
                     const WinogradGemms& gemms) {
  const Problem<m> p{d.N, d.Cin, d.Cout, d.H, d.W};
  const int64_t xs = p.in * p.H * p.W, ys = p.out * (p.H / 2) * (p.W / 2);
  const Partials dU = weight_gradient_partials<Problem<m>::kPositions>(
      p.N, p.tiles_per_sample(), kWeightGradientTiles<m>, p.out, kPhases * p.in, gemms,
      [&](float* V, float* E, const TileOperands& ops, int64_t n0, int64_t T) {
        transform_input<m>(V, ops, x + n0 * xs, p, p.grid(T));
        output_gradient_transform<Form<m>, m, m + 1>(E, dy + n0 * ys, p.out, p.H / 2, p.W / 2, p.grid(T));
      });
  transform_weight_gradient<m>(dw, dU.dU, dU.count, dU.stride, p.out, p.in, accumulate);
}

}  // namespace

bool winograd_stride2_shape(const Conv2dDims& d) {
  return d.KH == 4 && d.KW == 4 && d.stride == 2 && d.pad_h == 1 && d.pad_w == 1 && d.H % 4 == 0 &&
         d.W % 4 == 0;
}

// Maps 8 wide (one tile per sample) stay on F(2x2, 2x2): conv_bench as at Form<4>, 1 thread
// each, two rounds, forward / input gradient: 256 -> 256 at 8x8 16.3-22.6 / 15.9-22.6 ms
// against 15.6-16.0 / 16.4; 256 -> 512 at 8x8 30.3-31.2 / 36.5-42.8 against 28.3-30.0 /
// 31.7-33.5.
bool winograd_stride2_wide_shape(const Conv2dDims& d) {
  return winograd_stride2_shape(d) && d.H % 8 == 0 && d.W % 8 == 0 && d.H >= 16 && d.W >= 16;
}

void winograd_stride2_forward(float* y, const float* x, const float* w, const float* b,
                              const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_forward: not a Winograd conv here");
  forward<2>(y, x, w, b, d, accumulate, gemms);
}

void winograd_stride2_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                                     bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_backward_input: not a Winograd conv here");
  backward_input<2>(dx, dy, w, d, accumulate, gemms);
}

void winograd_stride2_wide_forward(float* y, const float* x, const float* w, const float* b,
                                   const Conv2dDims& d, bool accumulate) {
  SNGAN_CHECK(winograd_stride2_wide_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_wide_forward: not a wide Winograd conv here");
  forward<4>(y, x, w, b, d, accumulate, WinogradGemms{});
}

void winograd_stride2_wide_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                                          bool accumulate) {
  SNGAN_CHECK(winograd_stride2_wide_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_wide_backward_input: not a wide Winograd conv here");
  backward_input<4>(dx, dy, w, d, accumulate, WinogradGemms{});
}

void winograd_stride2_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                                      bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_stride2_shape(d) && fp32_gemm_on_avx512(),
              "winograd_stride2_backward_weight: not a Winograd conv here");
  if (!gemms.bf16 && winograd_stride2_wide_shape(d)) {
    backward_weight<4>(dw, dy, x, d, accumulate, gemms);
    return;
  }
  backward_weight<2>(dw, dy, x, d, accumulate, gemms);
}

}  // namespace sngan::kernels
