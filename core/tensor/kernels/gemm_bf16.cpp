// The bf16 GEMM on AMX tiles or on AVX512_BF16 dot products (see gemm_bf16.h).
//
// An AMX tile product (tdpbf16ps) adds a 16x32 bf16 tile of A times a 32x16 bf16 tile of B,
// stored as 16 rows of 16 column pairs (B's "VNNI" layout: B(2r, j), B(2r + 1, j) side by
// side), into a 16x16 fp32 tile of C. The driver is BLIS-like: for each block of kNc columns
// and kKc depth it packs op(b) into such pair tiles, for each block of kMc rows it packs op(a)
// into row tiles, both rounded to bf16 on the way (the only pass over the fp32 operands), and
// a micro-kernel computes 32x32 of C per call: on AMX, four accumulator tiles (two A and two B
// tiles loaded per 32-deep step); on AVX512_BF16, 8 rows at a time in 16 zmm accumulators, each
// vdpbf16ps adding one A pair (broadcast) times one pair row of a B tile (16 columns). Whole
// 32x32 blocks of C accumulate in C itself (loaded into the accumulators after the first depth
// block); at the edges, where the packed copies are zero-padded, through a 32x32 scratch
// holding C's valid part.
#include "core/tensor/kernels/gemm_bf16.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/tensor/amx_tiles.h"
#include "core/tensor/check.h"
#include "core/tensor/kernels/avx512_block.h"
#include "core/tensor/cpu_info.h"

namespace sngan::kernels {

namespace {

using avx512::lanes;
using avx512::transpose16;

// bf16 bits of x, rounded to nearest even as the CPU's conversion (vcvtneps2bf16) does:
// denormals flush to a signed zero, NaN stays a (quiet) NaN.
inline uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

constexpr int64_t kTile = 16;        // rows and columns of a C tile
constexpr int64_t kDepth = 32;       // bf16 depth of one tile product
constexpr int64_t kTileElems = 512;  // bf16 elements of an A or B tile (1 KiB)
constexpr int64_t kMicro = 32;       // C rows and columns of the 2x2-tile micro-kernel
// Block sizes: a packed A block (kMc x kKc bf16, 128 KiB) and B block (kKc x kNc, 1 MiB) stay
// in L2 (2 MiB per core on current AMX CPUs; AMD Zen 4 has 1 MiB, where smaller blocks are
// untested). kKc is the depth block: it depends on K alone.
constexpr int64_t kMc = 64, kKc = 1024, kNc = 512;

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

using Bf16Buffer = std::vector<uint16_t>;
// A per-thread buffer of at least n bf16 values, 64-byte aligned; grows, never shrinks.
uint16_t* scratch(Bf16Buffer& b, int64_t n) {
  if (static_cast<int64_t>(b.size()) < n + 32) b.assign(static_cast<size_t>(n + 32), 0);
  auto addr = reinterpret_cast<uintptr_t>(b.data());
  return b.data() + ((64 - addr % 64) % 64) / sizeof(uint16_t);
}

// Packing: op(a) goes into row tiles, tile (i / 16, k / 32) holding [i % 16][k % 32]; op(b)
// into pair tiles, tile (j / 16, k / 32) holding [(k % 32) / 2][j % 16][k % 2]; tile (t, s)
// of an operand with ks depth steps sits at (t * ks + s) * kTileElems. Entries past the
// operand's rows, columns or depth are zero. Each routine writes whole tiles with 64-byte
// stores; the two layouts that need a transpose do it on 16x16 blocks of bf16 pairs in
// registers.
#define SNGAN_PACK_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

// 16 floats at p (lanes past n read as zero).
SNGAN_PACK_TARGET inline __m512 load16(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(lanes(n), p); }

// 32 floats at p (lanes past n read as zero) rounded to bf16, in order.
SNGAN_PACK_TARGET inline __m512i bf16x32(const float* p, int64_t n) {
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(load16(p + 16, n - 16), load16(p, n)));
}

// The pairs (lo[j], hi[j]) of 16 floats each, rounded to bf16, as 16 dwords.
SNGAN_PACK_TARGET inline __m512i pairs(__m512 lo, __m512 hi) {
  const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23,
                                              7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(interleave, both);
}
SNGAN_PACK_TARGET inline __m512i pairs(const float* lo, int64_t nlo, const float* hi, int64_t nhi) {
  return pairs(load16(lo, nlo), load16(hi, nhi));
}

SNGAN_PACK_TARGET inline void store_tile(uint16_t* tile, const __m512i r[16]) {
  for (int q = 0; q < 16; ++q) _mm512_store_si512(tile + q * 2 * kTile, r[q]);
}

// op(a) rows [i0, i0 + rows) (of mpad) and depth [k0, k0 + depth) (of ks steps) into row tiles.
SNGAN_PACK_TARGET void pack_a(uint16_t* dst, const float* a, int64_t lda, bool ta, int64_t i0,
                              int64_t rows, int64_t mpad, int64_t k0, int64_t depth, int64_t ks) {
  for (int64_t it = 0; it < mpad; it += kTile) {
    for (int64_t s = 0; s < ks; ++s) {
      uint16_t* tile = dst + ((it / kTile) * ks + s) * kTileElems;
      const int64_t kk = s * kDepth, kn = depth - kk;  // depth left from this step
      if (!ta) {  // row i: 32 consecutive floats
        for (int64_t i = 0; i < kTile; ++i) {
          const bool inside = it + i < rows;
          const float* p = a + (i0 + it + i) * lda + k0 + kk;
          _mm512_store_si512(tile + i * kDepth, bf16x32(p, inside ? kn : 0));
        }
        continue;
      }
      // a stored (K, M): depth pair q gives 16 dwords over the tile's rows; transposed to rows.
      __m512i r[16];
      const int64_t in = rows - it;
      for (int64_t q = 0; q < kTile; ++q) {
        const int64_t k = kk + 2 * q;
        const float* p = a + (k0 + k) * lda + i0 + it;
        r[q] = pairs(p, k < depth ? in : 0, p + lda, k + 1 < depth ? in : 0);
      }
      transpose16(r);
      store_tile(tile, r);
    }
  }
}

// op(b) depth [k0, k0 + depth) (of ks steps) and columns [j0, j0 + cols) (of npad) into pair tiles.
SNGAN_PACK_TARGET void pack_b(uint16_t* dst, const float* b, int64_t ldb, bool tb, int64_t k0,
                              int64_t depth, int64_t ks, int64_t j0, int64_t cols, int64_t npad) {
  for (int64_t jt = 0; jt < npad; jt += kTile) {
    const int64_t jn = cols - jt;  // columns left from this tile
    for (int64_t s = 0; s < ks; ++s) {
      uint16_t* tile = dst + ((jt / kTile) * ks + s) * kTileElems;
      const int64_t kk = s * kDepth;
      if (!tb) {  // depth rows k, k + 1: 16 consecutive floats each, paired
        for (int64_t q = 0; q < kTile; ++q) {
          const int64_t k = kk + 2 * q;
          const float* p = b + (k0 + k) * ldb + j0 + jt;
          _mm512_store_si512(tile + q * 2 * kTile, pairs(p, k < depth ? jn : 0, p + ldb, k + 1 < depth ? jn : 0));
        }
        continue;
      }
      // b stored (N, K): column j gives 32 consecutive depths = 16 pairs; transposed to pair rows.
      __m512i r[16];
      const int64_t kn = depth - kk;
      for (int64_t j = 0; j < kTile; ++j) {
        const float* p = b + (j0 + jt + j) * ldb + k0 + kk;
        r[j] = bf16x32(p, j < jn ? kn : 0);
      }
      transpose16(r);
      store_tile(tile, r);
    }
  }
}

// pack_b with op(b) read from an im2col view: op(b) = col, or col^T with tb. The same tiles as
// pack_b on the im2col copy. Depth k0 and columns j0 are multiples of 32.
SNGAN_PACK_TARGET void pack_b(uint16_t* dst, const Im2colView& v, bool tb, int64_t k0, int64_t depth,
                              int64_t ks, int64_t j0, int64_t cols, int64_t npad) {
  const ViewReader col(v);
  for (int64_t jt = 0; jt < npad; jt += kTile) {
    const int64_t jn = cols - jt;
    if (!tb) {  // col rows k, k + 1 at the tile's 16 columns, paired
      if (jn <= 0) {  // a padding tile
        for (int64_t s = 0; s < ks; ++s)
          std::fill_n(dst + ((jt / kTile) * ks + s) * kTileElems, kTileElems, uint16_t(0));
        continue;
      }
      const __mmask16 keep = lanes(jn);
      const ViewReader::Group g = col.group((j0 + jt) / kTile);
      const int64_t k_end = k0 + depth;
      for (int64_t s = 0; s < ks; ++s) {
        uint16_t* tile = dst + ((jt / kTile) * ks + s) * kTileElems;
        const int64_t k = k0 + s * kDepth;
        for (int64_t q = 0; q < kTile; ++q) {
          const __m512 lo = col.load(k + 2 * q, g, k + 2 * q < k_end ? keep : 0);
          const __m512 hi = col.load(k + 2 * q + 1, g, k + 2 * q + 1 < k_end ? keep : 0);
          _mm512_store_si512(tile + q * 2 * kTile, pairs(lo, hi));
        }
      }
      continue;
    }
    // col row j0 + jt + j: 32 consecutive columns (depths) = 16 pairs; transposed to pair rows.
    for (int64_t s = 0; s < ks; ++s) {
      uint16_t* tile = dst + ((jt / kTile) * ks + s) * kTileElems;
      const int64_t kk = s * kDepth, kn = depth - kk, g = (k0 + kk) / kTile;
      const __mmask16 keep0 = lanes(kn), keep1 = lanes(kn - 16);
      const ViewReader::Group g0 = col.group(g), g1 = keep1 != 0 ? col.group(g + 1) : g0;
      __m512i r[16];
      for (int64_t j = 0; j < kTile; ++j) {
        const bool inside = j < jn;
        const __m512 lo = col.load(j0 + jt + j, g0, inside ? keep0 : 0);
        const __m512 hi = col.load(j0 + jt + j, g1, inside ? keep1 : 0);
        r[j] = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
      }
      transpose16(r);
      store_tile(tile, r);
    }
  }
}

// Tiles 0-3 accumulate C (16 rows of 16 fp32), 4-5 hold A (16 rows of 32 bf16), 6-7 hold B (16
// rows of 16 bf16 pairs): configure_full_tiles() (amx_tiles.h).
__attribute__((target("amx-tile"))) void release_tiles() { _tile_release(); }

// out (32x32, row stride ld floats) (=|+=) A rows (two row tiles a0, a1) times B columns (two
// pair tiles b0, b1) over ks depth steps; tile s of each operand at +s*kTileElems. `out` is C
// itself for a whole 32x32 block, else a scratch block of which the first `rows` rows are kept
// (the tiles compute all 32 at the same cost).
__attribute__((target("amx-tile,amx-bf16"))) void tile_kernel(const uint16_t* a0, const uint16_t* a1,
                                                                const uint16_t* b0, const uint16_t* b1,
                                                                int64_t ks, float* out, int64_t ld, bool add,
                                                                int64_t /*rows*/) {
  const int64_t stride = ld * static_cast<int64_t>(sizeof(float));
  float* const o1 = out + kTile, * const o2 = out + kTile * ld, * const o3 = o2 + kTile;
  if (add) {
    _tile_loadd(0, out, stride);
    _tile_loadd(1, o1, stride);
    _tile_loadd(2, o2, stride);
    _tile_loadd(3, o3, stride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int64_t s = 0; s < ks; ++s) {
    const int64_t o = s * kTileElems;
    _tile_loadd(4, a0 + o, 64);
    _tile_loadd(6, b0 + o, 64);
    _tile_loadd(7, b1 + o, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, a1 + o, 64);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, out, stride);
  _tile_stored(1, o1, stride);
  _tile_stored(2, o2, stride);
  _tile_stored(3, o3, stride);
}

// The AVX512_BF16 micro-kernel: out (32x32) as tile_kernel, rows [r, r + 8) per pass. Row i
// of an A row tile holds its 32 depths as 16 bf16 pairs (one dword each, broadcast over the 16
// lanes); row q of a B pair tile holds depth pair q over its 16 columns. vdpbf16ps adds
// lo*lo + hi*hi of each lane's pair into the fp32 accumulator.
#define SNGAN_DOT_TARGET __attribute__((target("avx512f,avx512bf16")))
constexpr int kDotRows = 8;

SNGAN_DOT_TARGET inline __m512bh pair_row(const uint16_t* p) {
  return reinterpret_cast<__m512bh>(_mm512_load_si512(p));
}
SNGAN_DOT_TARGET inline __m512bh broadcast_pair(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return reinterpret_cast<__m512bh>(_mm512_set1_epi32(v));
}

// Rows [0, kDotRows) of `a` (consecutive rows of one row tile, tile s at +s*kTileElems) times
// the B tiles b0, b1 over ks depth steps into out (kDotRows x 32, row stride ld).
SNGAN_DOT_TARGET void dot_rows(const uint16_t* a, const uint16_t* b0, const uint16_t* b1, int64_t ks,
                               float* out, int64_t ld, bool add) {
  __m512 c0[kDotRows], c1[kDotRows];
  for (int i = 0; i < kDotRows; ++i) {
    c0[i] = add ? _mm512_loadu_ps(out + i * ld) : _mm512_setzero_ps();
    c1[i] = add ? _mm512_loadu_ps(out + i * ld + kTile) : _mm512_setzero_ps();
  }
  for (int64_t s = 0; s < ks; ++s) {
    const int64_t o = s * kTileElems;
#pragma GCC unroll 16
    for (int q = 0; q < kTile; ++q) {
      const __m512bh x0 = pair_row(b0 + o + q * 2 * kTile), x1 = pair_row(b1 + o + q * 2 * kTile);
#pragma GCC unroll 8
      for (int i = 0; i < kDotRows; ++i) {
        const __m512bh y = broadcast_pair(a + o + i * kDepth + 2 * q);
        c0[i] = _mm512_dpbf16_ps(c0[i], y, x0);
        c1[i] = _mm512_dpbf16_ps(c1[i], y, x1);
      }
    }
  }
  for (int i = 0; i < kDotRows; ++i) {
    _mm512_storeu_ps(out + i * ld, c0[i]);
    _mm512_storeu_ps(out + i * ld + kTile, c1[i]);
  }
}

// Passes whose rows all lie past `rows` are skipped: a 3-row block (an RGB output conv) costs
// one pass, not four. Each row's sums are the same either way.
void dot_kernel(const uint16_t* a0, const uint16_t* a1, const uint16_t* b0, const uint16_t* b1,
                int64_t ks, float* out, int64_t ld, bool add, int64_t rows) {
  for (int64_t r = 0; r < rows; r += kDotRows) {
    const uint16_t* a = (r < kTile ? a0 : a1) + (r % kTile) * kDepth;
    dot_rows(a, b0, b1, ks, out + r * ld, ld, add);
  }
}

}  // namespace

float nearest_bf16(float x) {
  const uint32_t u = static_cast<uint32_t>(bf16_bits(x)) << 16;
  float y;
  std::memcpy(&y, &u, sizeof y);
  return y;
}

bool bf16_avx512_dot_available() {
  static const bool on = cpu_info().avx512_bf16 && __builtin_cpu_supports("avx512bw");
  return on;
}

bool bf16_amx_tiles_available() {
  static const bool on = cpu_info().amx_bf16 && bf16_avx512_dot_available();  // packing: vcvtne2ps2bf16
  return on;
}

namespace {

// C (M, N) (=|+=) A times B over K, with `packed_a(i0, rows, mpad, k0, depth, ks)` giving
// A's row tiles for rows [i0, i0 + rows) (mpad of them) and depth block [k0, k0 + depth), and
// `packed_b(k0, depth, ks, j0, cols, npad)` B's pair tiles of that depth block and columns
// [j0, j0 + cols) (npad of them).
template <typename PackedBlock, typename PackB>
void run_gemm(Bf16Kernel engine, float* c, int64_t ldc, PackedBlock packed_a, PackB packed_b,
              int64_t M, int64_t N, int64_t K, bool add) {
  alignas(64) float out[kMicro * kMicro] = {};  // edge blocks' scratch (rows, columns past C's ignored)
  const bool tiles = engine == Bf16Kernel::kAmxTiles;
  const auto kernel = tiles ? tile_kernel : dot_kernel;
  if (tiles) configure_full_tiles();
  for (int64_t j0 = 0; j0 < N; j0 += kNc) {
    const int64_t cols = std::min(kNc, N - j0), npad = round_up(cols, kMicro);
    for (int64_t k0 = 0; k0 < K; k0 += kKc) {
      const int64_t depth = std::min(kKc, K - k0), ks = round_up(depth, kDepth) / kDepth;
      const uint16_t* pb = packed_b(k0, depth, ks, j0, cols, npad);
      const bool assign = k0 == 0 && !add;
      for (int64_t i0 = 0; i0 < M; i0 += kMc) {
        const int64_t rows = std::min(kMc, M - i0), mpad = round_up(rows, kMicro);
        const uint16_t* pa = packed_a(i0, rows, mpad, k0, depth, ks);
        for (int64_t jj = 0; jj < npad; jj += kMicro) {
          const uint16_t* b0 = pb + (jj / kTile) * ks * kTileElems;
          for (int64_t ii = 0; ii < mpad; ii += kMicro) {
            const uint16_t* a0 = pa + (ii / kTile) * ks * kTileElems;
            const int64_t mi = std::min(kMicro, rows - ii), nj = std::min(kMicro, cols - jj);
            float* cblock = c + (i0 + ii) * ldc + j0 + jj;
            if (mi == kMicro && nj == kMicro) {  // whole block: accumulate in C itself
              kernel(a0, a0 + ks * kTileElems, b0, b0 + ks * kTileElems, ks, cblock, ldc, !assign, kMicro);
              continue;
            }
            // An edge block goes through the scratch the same way, so every element of C sees
            // the same sums in the same order wherever the block boundaries fall.
            if (!assign)
              for (int64_t i = 0; i < mi; ++i) std::copy(cblock + i * ldc, cblock + i * ldc + nj, out + i * kMicro);
            kernel(a0, a0 + ks * kTileElems, b0, b0 + ks * kTileElems, ks, out, kMicro, !assign, mi);
            for (int64_t i = 0; i < mi; ++i) std::copy(out + i * kMicro, out + i * kMicro + nj, cblock + i * ldc);
          }
        }
      }
    }
  }
  if (tiles) release_tiles();
}

bool empty_product(float* c, int64_t ldc, int64_t M, int64_t N, int64_t K, bool add) {
  if (M > 0 && N > 0 && K > 0) return false;
  if (K == 0 && !add)
    for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
  return true;
}

// Elements of one depth block of a whole packed operand of `mpad` rows.
int64_t block_elems(int64_t mpad, int64_t depth) { return mpad * round_up(depth, kDepth); }

// packed_b for run_gemm: op(b)'s pair tiles packed ahead (bf16_tiles), or packed into this
// thread's buffer from its data or from its im2col view.
auto b_packer(const BOperand& b, int64_t K, int64_t N) {
  static_assert(PackedBf16BLayout::kColumnBlock == kNc && PackedBf16BLayout::kDepthBlock == kKc,
                "PackedBf16BLayout describes run_gemm's blocks");
  return [&b, K, N](int64_t k0, int64_t depth, int64_t ks, int64_t j0, int64_t cols, int64_t npad) {
    if (b.bf16_tiles != nullptr) return b.bf16_tiles + PackedBf16BLayout{K, N}.block_at(j0, k0);
    thread_local Bf16Buffer b_buffer;
    uint16_t* dst = scratch(b_buffer, npad * ks * kDepth);
    if (b.view != nullptr) pack_b(dst, *b.view, b.t, k0, depth, ks, j0, cols, npad);
    else pack_b(dst, b.p, b.ld, b.t, k0, depth, ks, j0, cols, npad);
    return static_cast<const uint16_t*>(dst);
  };
}

}  // namespace

void gemm_bf16(Bf16Kernel engine, float* c, int64_t ldc, const float* a, int64_t lda, bool ta,
               const BOperand& b, int64_t M, int64_t N, int64_t K, bool add) {
  if (empty_product(c, ldc, M, N, K, add)) return;
  thread_local Bf16Buffer a_buffer;
  auto pack = [&](int64_t i0, int64_t rows, int64_t mpad, int64_t k0, int64_t depth, int64_t ks) {
    uint16_t* pa = scratch(a_buffer, mpad * ks * kDepth);
    pack_a(pa, a, lda, ta, i0, rows, mpad, k0, depth, ks);
    return static_cast<const uint16_t*>(pa);
  };
  SNGAN_CHECK(b.bf16_tiles == nullptr, "bf16 GEMM: B packed ahead needs A packed ahead");
  run_gemm(engine, c, ldc, pack, b_packer(b, K, N), M, N, K, add);
}

// A whole packed operand: depth blocks of kKc in order, each holding the row tiles of all
// round_up(M, kMicro) rows, so that a block of rows from i0 (a multiple of kTile) starts at
// tile row i0 / kTile of its depth block.
int64_t packed_bf16_a_elems(int64_t M, int64_t K) {
  int64_t n = 0;
  for (int64_t k0 = 0; k0 < K; k0 += kKc) n += block_elems(round_up(M, kMicro), std::min(kKc, K - k0));
  return n + 32;  // room to align the start to 64 bytes
}

PackedBf16ALayout packed_bf16_a_layout(int64_t M, int64_t K) {
  static_assert(kBf16PackedRowAlign == kMicro && kTileElems == 512 && kDepth == 32 && kTile == 16,
                "PackedBf16ALayout describes the packing below");
  return {M, K, round_up(M, kMicro), kKc};
}

PackedBf16A pack_bf16_a_operand(uint16_t* dst, const float* a, int64_t lda, bool ta, int64_t M,
                                int64_t K) {
  const auto addr = reinterpret_cast<uintptr_t>(dst);
  uint16_t* base = dst + ((64 - addr % 64) % 64) / sizeof(uint16_t);
  const int64_t mpad = round_up(M, kMicro), panels = mpad / kMicro;
  // Panels of kMicro rows over the threads when called outside a parallel region (a conv packs
  // its weights before its chunks start) and there is enough to share.
  const bool par = omp_get_level() == 0 && M * K >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < panels; ++i) {
    uint16_t* p = base;
    for (int64_t k0 = 0; k0 < K; k0 += kKc) {
      const int64_t depth = std::min(kKc, K - k0), ks = round_up(depth, kDepth) / kDepth;
      pack_a(p + (i * kMicro / kTile) * ks * kTileElems, a, lda, ta, i * kMicro,
             std::min(kMicro, M - i * kMicro), kMicro, k0, depth, ks);
      p += block_elems(mpad, depth);
    }
  }
  return {base, M, K};
}

SNGAN_PACK_TARGET void pack_bf16_b_pair(uint16_t* dst, const PackedBf16BLayout& layout, int64_t k,
                                        const float* lo, const float* hi) {
  const int64_t cols = layout.cols, npad = round_up(cols, kMicro);
  for (int64_t j = 0; j < npad; j += kTile) {  // padding columns read as zeros
    const __m512 l = lo != nullptr ? load16(lo + j, cols - j) : _mm512_setzero_ps();
    const __m512 h = hi != nullptr ? load16(hi + j, cols - j) : _mm512_setzero_ps();
    _mm512_store_si512(dst + layout.at(k, j), pairs(l, h));
  }
}

void gemm_bf16_packed(Bf16Kernel engine, float* c, int64_t ldc, const PackedBf16A& a, int64_t row0,
                      const BOperand& b, int64_t M, int64_t N, bool add) {
  SNGAN_CHECK(row0 % kBf16PackedRowAlign == 0 && row0 + M <= a.rows,
              "packed bf16 GEMM: rows [", row0, ", ", row0 + M, ") of a packed operand of ",
              a.rows, " rows (the first a multiple of ", kBf16PackedRowAlign, ")");
  const int64_t K = a.depth;
  if (empty_product(c, ldc, M, N, K, add)) return;
  const int64_t mpad_all = round_up(a.rows, kMicro);
  auto block = [&](int64_t i0, int64_t, int64_t, int64_t k0, int64_t, int64_t ks) {
    // Depth blocks before k0 are all kKc deep.
    const uint16_t* depth_block = a.data + (k0 / kKc) * block_elems(mpad_all, kKc);
    return depth_block + ((row0 + i0) / kTile) * ks * kTileElems;
  };
  run_gemm(engine, c, ldc, block, b_packer(b, K, N), M, N, K, add);
}

}  // namespace sngan::kernels
