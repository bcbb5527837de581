// Winograd F(2x2, 3x3) convolutions (see winograd.h).
//
// With d a 4x4 input tile, g a 3x3 kernel and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// the tile's 2x2 output is A^T [(G g G^T) .* (B^T d B)] A. Over channels the elementwise
// product becomes, for each of the 16 positions xi of the 4x4 transform, one GEMM
//   M_xi (out, tiles) = U_xi (out, in) * V_xi (in, tiles),
// with U the transformed kernels (written straight into packed GEMM operands once per call)
// and V the transformed input tiles.
// The batch goes in chunks of samples (planned for two threads whatever the thread count, so
// every GEMM's shape and every sum's order stays the same), each chunk on one thread:
// transform its tiles, 16 GEMMs, transform the products back into the output. With more
// threads than chunks, the chunks run in turn with their 16 GEMMs spread over the threads.
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

constexpr int64_t kPositions = 16;  // xi: the 4x4 transform's positions
// Tiles per chunk (the GEMMs' width; a sample's tiles are never split). A chunk's transformed
// tiles and products, 16 * (in + out) floats per tile, stay small enough to keep in cache:
// conv_bench, 2 threads, batch 64, forward and input gradient, 64 -> 128 channels at 16x16,
// 128 -> 256 at 8x8 and 256 -> 512 at 4x4 (AMD EPYC Zen 4): 64 tiles as fast as 128 or
// faster, 256 up to 10% and 512 up to 25% slower.
constexpr int64_t kTargetTiles = 64;
// The weight gradient's GEMMs are as deep as a chunk's tiles and add into a product of
// 16 * out * in floats once per chunk, so wider chunks: conv_bench as above, 64 -> 512 tiles,
// two runs each: 64 -> 128 channels at 16x16 8.4-9.5 ms at 64 tiles, 8.9-10.9 at 256; 128 ->
// 256 at 8x8 8.7-13.7 and 8.7-9.2; 256 -> 512 at 4x4 12.4-12.8 and 8.1-11.1; 512 tiles no better.
constexpr int64_t kWeightGradientTiles = 256;

// The conv as the transforms see it: `in` planes of H x W per sample into `out` planes.
struct Problem {
  int64_t N, in, out, H, W;
  int64_t tile_rows() const { return H / 2; }
  int64_t tile_cols() const { return W / 2; }
  int64_t tiles_per_sample() const { return tile_rows() * tile_cols(); }
};

// The transformed kernels, G g G^T, of 16 3x3 kernels g given transposed (register q holds
// tap q of each; turned 180 degrees if `flip`): out[xi] for the 16 positions xi.
SNGAN_WINOGRAD_AVX512 inline void transform_kernels(const __m512i kernel[16], bool flip, __m512 out[16]) {
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

// The tiles of a chunk of B samples, t = (sample, tile row th, tile column tw) in order, seen
// through the four stride-2 phase planes of an (H, W) map, P_ab(i, j) = map(2i + a, 2j + b),
// each (H/2, W/2) = one value per tile, stored for the chunk's samples one after another.
// A 4x4 input tile's row 2*th - 1 + r is phase row a(r) = (1, 0, 1, 0)[r] at i = th + di(r),
// di = (-1, 0, 0, 1), and the same for columns: so each of its 16 values, over consecutive
// tiles, is a contiguous run of one phase plane shifted by di*TW + dj, zero where th + di or
// tw + dj leaves the grid (masks per 16-tile group and shift).
constexpr int kPhaseOf[4] = {1, 0, 1, 0};
constexpr int kShiftOf[4] = {-1, 0, 0, 1};

// V (16 operands of in x T, laid out as `ops` says) of a chunk's B samples x (B, in, H, W):
// V_xi(c, t) = (B^T d B)(xi) for tile t's 4x4 input block d (rows 2*th - 1 .. 2*th + 2, columns 2*tw - 1 .. 2*tw + 2, zero outside).
SNGAN_WINOGRAD_AVX512 void transform_input(float* __restrict V, const TileOperands& ops,
                                           const float* __restrict x, const Problem& p,
                                           const TileGrid& grid) {
  const int64_t H = p.H, W = p.W, TW = grid.TW, T = grid.T, margin = TW + 1;
  const uint16_t* masks = shift_masks(grid);
  const std::array<float*, 4> planes = phase_planes<4>(T, margin);
  for (int64_t c = 0; c < p.in; ++c) {
    split_phases<2>(planes.data(), x + c * H * W, p.in * H * W, H, W, grid);
    const PackedBRow row = ops.row(c);  // V_xi(c, t) at V + xi * ops.position + row.at(t)
    const int64_t position = ops.position;
    for (int64_t t = 0; t < T; t += 16) {
      const uint16_t* m = masks + (t / 16) * 9;
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 u[4][4];  // d B: each row's columns combined
      for (int r = 0; r < 4; ++r) {
        __m512 d[4];
        for (int j = 0; j < 4; ++j) {
          const float* src = planes[kPhaseOf[r] * 2 + kPhaseOf[j]] + t + kShiftOf[r] * TW + kShiftOf[j];
          d[j] = _mm512_maskz_loadu_ps(valid & m[(kShiftOf[r] + 1) * 3 + kShiftOf[j] + 1], src);
        }
        u[r][0] = _mm512_sub_ps(d[0], d[2]);
        u[r][1] = _mm512_add_ps(d[1], d[2]);
        u[r][2] = _mm512_sub_ps(d[2], d[1]);
        u[r][3] = _mm512_sub_ps(d[1], d[3]);
      }
      for (int k = 0; k < 4; ++k) {  // B^T (d B): the rows combined
        _mm512_mask_storeu_ps(V + (0 * 4 + k) * position + row.at(t), valid, _mm512_sub_ps(u[0][k], u[2][k]));
        _mm512_mask_storeu_ps(V + (1 * 4 + k) * position + row.at(t), valid, _mm512_add_ps(u[1][k], u[2][k]));
        _mm512_mask_storeu_ps(V + (2 * 4 + k) * position + row.at(t), valid, _mm512_sub_ps(u[2][k], u[1][k]));
        _mm512_mask_storeu_ps(V + (3 * 4 + k) * position + row.at(t), valid, _mm512_sub_ps(u[1][k], u[3][k]));
      }
    }
    ops.rows_written(V, c);
  }
}

// y (B, out, H, W) (=|+=) A^T M A (+ bias) for every tile of the chunk, M (16, out, T): the
// 2x2 outputs of the tiles are y's four phase planes, put back in place.
SNGAN_WINOGRAD_AVX512 void transform_output(float* __restrict y, const float* __restrict M,
                                            const float* bias, const Problem& p,
                                            const TileGrid& grid, bool accumulate) {
  const int64_t H = p.H, W = p.W, T = grid.T;
  const int64_t position = p.out * T;
  const std::array<float*, 4> planes = phase_planes<4>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    const __m512 bo = _mm512_set1_ps(bias != nullptr ? bias[o] : 0.0f);
    const float* src = M + o * T;
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 s[2][4];  // A^T M: the rows combined
      for (int k = 0; k < 4; ++k) {
        const __m512 m0 = _mm512_maskz_loadu_ps(valid, src + (0 * 4 + k) * position + t);
        const __m512 m1 = _mm512_maskz_loadu_ps(valid, src + (1 * 4 + k) * position + t);
        const __m512 m2 = _mm512_maskz_loadu_ps(valid, src + (2 * 4 + k) * position + t);
        const __m512 m3 = _mm512_maskz_loadu_ps(valid, src + (3 * 4 + k) * position + t);
        s[0][k] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        s[1][k] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
      }
      for (int r = 0; r < 2; ++r) {  // (A^T M) A
        const __m512 v0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]), bo);
        const __m512 v1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]), bo);
        _mm512_storeu_ps(planes[r * 2] + t, v0);
        _mm512_storeu_ps(planes[r * 2 + 1] + t, v1);
      }
    }
    merge_phases<2>(planes.data(), y + o * H * W, p.out * H * W, H, W, grid, accumulate);
  }
}

// y (N, out, H, W) (=|+=) the correlation of x (N, in, H, W) with the 3x3 kernels at
// w + o * row_stride + i * k_stride (turned 180 degrees if `flip`), + bias.
void run(float* y, const float* x, const float* w, int64_t row_stride, int64_t k_stride, bool flip,
         const float* bias, const Problem& p, bool accumulate, const WinogradGemms& gemms) {
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
        transform_kernels(kernel, flip, out);
      },
      targets);

  const int64_t tps = p.tiles_per_sample(), xs = p.in * p.H * p.W, ys = p.out * p.H * p.W;
  const auto grid = [&](int64_t T) { return TileGrid{p.tile_rows(), p.tile_cols(), tps, T}; };
  multiply_chunks(
      U, p.N, tps, kTargetTiles, p.in, p.in, p.out, gemms,
      [&](float* V, const TileOperands& ops, int64_t n0, int64_t T) { transform_input(V, ops, x + n0 * xs, p, grid(T)); },
      [&](const float* M, int64_t n0, int64_t T) { transform_output(y + n0 * ys, M, bias, p, grid(T), accumulate); });
}

// E (16, out, T) of a chunk's output gradient dy (B, out, H, W): E_xi(o, t) = (A e A^T)(xi)
// for tile t's 2x2 block e of dy, the adjoint of the output transform. The blocks' four
// values, over consecutive tiles, are dy's four phase planes.
SNGAN_WINOGRAD_AVX512 void transform_output_gradient(float* __restrict E, const float* __restrict dy,
                                                     const Problem& p, const TileGrid& grid) {
  const int64_t H = p.H, W = p.W, T = grid.T;
  const int64_t position = p.out * T;
  const std::array<float*, 4> planes = phase_planes<4>(T);
  for (int64_t o = 0; o < p.out; ++o) {
    split_phases<2>(planes.data(), dy + o * H * W, p.out * H * W, H, W, grid);
    float* dst = E + o * T;
    for (int64_t t = 0; t < T; t += 16) {
      const __mmask16 valid = avx512::lanes(T - t);
      __m512 e[2][2];
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) e[r][c] = _mm512_maskz_loadu_ps(valid, planes[r * 2 + c] + t);
      __m512 u[4][2];  // A e: the rows combined
      for (int c = 0; c < 2; ++c) {
        u[0][c] = e[0][c];
        u[1][c] = _mm512_add_ps(e[0][c], e[1][c]);
        u[2][c] = _mm512_sub_ps(e[0][c], e[1][c]);
        u[3][c] = _mm512_sub_ps(_mm512_setzero_ps(), e[1][c]);
      }
      for (int r = 0; r < 4; ++r) {  // (A e) A^T: the columns combined
        _mm512_mask_storeu_ps(dst + (r * 4 + 0) * position + t, valid, u[r][0]);
        _mm512_mask_storeu_ps(dst + (r * 4 + 1) * position + t, valid, _mm512_add_ps(u[r][0], u[r][1]));
        _mm512_mask_storeu_ps(dst + (r * 4 + 2) * position + t, valid, _mm512_sub_ps(u[r][0], u[r][1]));
        _mm512_mask_storeu_ps(dst + (r * 4 + 3) * position + t, valid, _mm512_sub_ps(_mm512_setzero_ps(), u[r][1]));
      }
    }
  }
}

// dw (out, in, 3, 3) (=|+=) G^T dU G for each (o, i), dU (16, out, in) the sum of `parts`
// partials `stride` floats apart, added in order: sixteen input channels at a time, the nine
// taps of each written through a small block.
SNGAN_WINOGRAD_AVX512 void transform_weight_gradient(float* __restrict dw, const float* __restrict dU,
                                                     int64_t parts, int64_t stride, int64_t out,
                                                     int64_t in, bool accumulate) {
  const int64_t plane = out * in;
  const __m512 half = _mm512_set1_ps(0.5f);
  for_each_kernel_block(out, in, [&](int64_t o, int64_t i, __mmask16 valid) {
    const float* src = dU + o * in + i;
    __m512 q[3][4];  // G^T dU: the rows combined
    for (int k = 0; k < 4; ++k) {
      const __m512 u0 = sum_partials(src + (0 * 4 + k) * plane, parts, stride, valid);
      const __m512 u1 = sum_partials(src + (1 * 4 + k) * plane, parts, stride, valid);
      const __m512 u2 = sum_partials(src + (2 * 4 + k) * plane, parts, stride, valid);
      const __m512 u3 = sum_partials(src + (3 * 4 + k) * plane, parts, stride, valid);
      const __m512 sum = _mm512_mul_ps(half, _mm512_add_ps(u1, u2));
      q[0][k] = _mm512_add_ps(u0, sum);
      q[1][k] = _mm512_mul_ps(half, _mm512_sub_ps(u1, u2));
      q[2][k] = _mm512_add_ps(sum, u3);
    }
    alignas(64) float taps[9][16];
    for (int r = 0; r < 3; ++r) {  // (G^T dU) G: the columns combined
      const __m512 sum = _mm512_mul_ps(half, _mm512_add_ps(q[r][1], q[r][2]));
      _mm512_store_ps(taps[r * 3 + 0], _mm512_add_ps(q[r][0], sum));
      _mm512_store_ps(taps[r * 3 + 1], _mm512_mul_ps(half, _mm512_sub_ps(q[r][1], q[r][2])));
      _mm512_store_ps(taps[r * 3 + 2], _mm512_add_ps(sum, q[r][3]));
    }
    store_kernel_taps(dw, taps, o, in, i, accumulate);
  });
}

}  // namespace

bool winograd_shape(const Conv2dDims& d) {
  return d.KH == 3 && d.KW == 3 && d.stride == 1 && d.pad_h == 1 && d.pad_w == 1 && d.H % 2 == 0 &&
         d.W % 2 == 0;
}

void winograd_forward(float* y, const float* x, const float* w, const float* b,
                      const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_forward: not a Winograd conv here");
  run(y, x, w, d.Cin * 9, 9, false, b, Problem{d.N, d.Cin, d.Cout, d.H, d.W}, accumulate, gemms);
}

void winograd_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                             bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_backward_input: not a Winograd conv here");
  // dx(ci) = sum over co of dy(co) correlated with w(co, ci) turned 180 degrees (pad 1).
  run(dx, dy, w, 9, d.Cin * 9, true, nullptr, Problem{d.N, d.Cout, d.Cin, d.H, d.W}, accumulate, gemms);
}

void winograd_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                              bool accumulate, const WinogradGemms& gemms) {
  SNGAN_CHECK(winograd_shape(d) && fp32_gemm_on_avx512(), "winograd_backward_weight: not a Winograd conv here");
  // dw(o, i) = G^T [sum over tiles of (A e A^T) .* (B^T d B)] G: per position xi, the GEMM
  // dU_xi (out, in) += E_xi (out, T) * V_xi (in, T)^T over each chunk's tiles. The chunks go in
  // kPlanThreads groups, each summing its chunks in order into its own partial dU; the
  // partials are added in group order (the same bits at any thread count).
  const Problem p{d.N, d.Cin, d.Cout, d.H, d.W};
  const Chunks plan = plan_chunks(p.N, p.tiles_per_sample(), kWeightGradientTiles);
  const int64_t groups = std::min(plan.chunks, kPlanThreads), per = kPositions * p.out * p.in;
  const int64_t tps = p.tiles_per_sample(), xs = p.in * p.H * p.W, ys = p.out * p.H * p.W;
  float* dU = buffer(Buffer::kPartials, groups * per);
  for_each_job(groups, [&](int64_t g, int position_threads) {
    const int64_t first = plan.chunks * g / groups, last = plan.chunks * (g + 1) / groups;
    for (int64_t ch = first; ch < last; ++ch) {
      const int64_t n0 = ch * plan.B, T = std::min(plan.B, p.N - n0) * tps;
      const TileOperands ops = plain_tiles(p.in, T);
      float* V = buffer(Buffer::kTiles, kPositions * ops.position);
      float* E = buffer(Buffer::kProducts, kPositions * p.out * T);
      const TileGrid grid{p.tile_rows(), p.tile_cols(), tps, T};
      transform_input(V, ops, x + n0 * xs, p, grid);
      transform_output_gradient(E, dy + n0 * ys, p, grid);
      for_each_position(kPositions, position_threads, [&](int64_t xi) {
        const BOperand vt = ops.operand(V, xi, true);
        multiply(gemms, dU + g * per + xi * p.out * p.in, p.in, E + xi * p.out * T, T, false, vt, p.out, p.in,
                 T, ch > first);
      });
    }
  });
  transform_weight_gradient(dw, dU, groups, per, p.out, p.in, accumulate);
}

}  // namespace sngan::kernels
