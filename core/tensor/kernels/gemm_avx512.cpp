// The fp32 GEMM on AVX-512 (see gemm_avx512.h).
//
// For each depth block (of equal sizes up to kKc, fixed by K), op(a) is packed into panels of
// 12 rows (each depth step's 12 values side by side), or comes packed already (PackedA: a
// conv's weights, packed once for all its batch chunks); then for each block of kNc columns
// op(b) is packed into panels of 32 columns, and every 12x32 tile of C takes one micro-kernel
// call: per depth step, two vector loads of B, twelve broadcasts of A and 24 fused
// multiply-adds into 24 accumulators held in registers for the whole depth block. One A panel
// (12 x kKc, 12 KiB) stays in L1 while the B panels (kKc x 32 each, the block 512 KiB) stream
// from L2. Packed panels are zero-padded, so partial tiles run the same code; the micro-kernel
// reads and writes C's valid lanes only (masked), and a template on the number of valid rows
// keeps the short tiles at the bottom of C from computing padding rows. A product of at most
// 12 rows reads op(b) unpacked (from memory or straight from an im2col view), since each of
// its elements is used once.
#include "core/tensor/kernels/gemm_avx512.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/tensor/check.h"
#include "core/tensor/cpu_info.h"
#include "core/tensor/kernels/avx512_block.h"

namespace sngan::kernels {

namespace {

using avx512::lanes;
using avx512::transpose16;

#define SNGAN_AVX512 __attribute__((target("avx512f")))
#define SNGAN_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

constexpr int64_t kMr = 12;   // rows of a micro-tile (broadcast A values)
constexpr int64_t kNr = 32;   // columns of a micro-tile (two 16-lane vectors)
constexpr int64_t kKc = 256;  // largest depth block
constexpr int64_t kNc = 512;  // columns per packed B block (a multiple of kNr)

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// A per-thread buffer of at least n floats, 64-byte aligned; grows, never shrinks.
float* scratch(std::vector<float>& b, int64_t n) {
  if (static_cast<int64_t>(b.size()) < n + 16) b.assign(static_cast<size_t>(n + 16), 0.0f);
  const auto addr = reinterpret_cast<uintptr_t>(b.data());
  return b.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

// op(b) depth [k0, k0 + kc), columns [j0, j0 + cols) into panels of kNr columns:
// dst[(p * kc + k) * kNr + j] = op(b)(k0 + k, j0 + p * kNr + j), zero past `cols`.
SNGAN_AVX512 void pack_b(float* dst, const float* b, int64_t ldb, bool tb, int64_t k0,
                         int64_t kc, int64_t j0, int64_t cols) {
  for (int64_t jp = 0; jp < cols; jp += kNr) {
    const int64_t n = std::min(kNr, cols - jp);
    float* panel = dst + (jp / kNr) * kc * kNr;
    if (!tb) {  // each depth step's columns are contiguous
      const __mmask16 m0 = lanes(n), m1 = lanes(n - 16);
      const float* src = b + k0 * ldb + j0 + jp;
      for (int64_t k = 0; k < kc; ++k) {
        _mm512_store_ps(panel + k * kNr, _mm512_maskz_loadu_ps(m0, src + k * ldb));
        _mm512_store_ps(panel + k * kNr + 16, _mm512_maskz_loadu_ps(m1, src + k * ldb + 16));
      }
      continue;
    }
    // b stored (N, K): 16 columns of 16 consecutive depths each, transposed in registers.
    for (int64_t h = 0; h < kNr; h += 16) {
      for (int64_t kk = 0; kk < kc; kk += 16) {
        const __mmask16 depth = lanes(kc - kk);
        __m512i r[16];
        for (int64_t j = 0; j < 16; ++j)
          r[j] = _mm512_castps_si512(_mm512_maskz_loadu_ps(
              h + j < n ? depth : __mmask16(0), b + (j0 + jp + h + j) * ldb + k0 + kk));
        transpose16(r);
        for (int64_t q = 0; q < std::min<int64_t>(16, kc - kk); ++q)
          _mm512_store_ps(panel + (kk + q) * kNr + h, _mm512_castsi512_ps(r[q]));
      }
    }
  }
}

// pack_b with op(b) read from an im2col view: op(b) = col, or col^T with tb. The same panels
// as pack_b on the im2col copy. Columns j0 (and with tb depth k0) are multiples of 16.
SNGAN_AVX512 void pack_b(float* dst, const Im2colView& v, bool tb, int64_t k0, int64_t kc,
                         int64_t j0, int64_t cols) {
  const ViewReader col(v);
  for (int64_t jp = 0; jp < cols; jp += kNr) {
    const int64_t n = std::min(kNr, cols - jp);
    float* panel = dst + (jp / kNr) * kc * kNr;
    if (!tb) {  // col row k0 + k at the panel's 32 columns
      const __mmask16 m0 = lanes(n), m1 = lanes(n - 16);
      const int64_t g = (j0 + jp) / 16;
      const ViewReader::Group g0 = col.group(g), g1 = m1 != 0 ? col.group(g + 1) : g0;
      for (int64_t k = 0; k < kc; ++k) {
        _mm512_store_ps(panel + k * kNr, col.load(k0 + k, g0, m0));
        _mm512_store_ps(panel + k * kNr + 16, col.load(k0 + k, g1, m1));
      }
      continue;
    }
    // col rows j0 + jp + h + j: 16 consecutive columns (depths) each, transposed in registers.
    for (int64_t h = 0; h < kNr; h += 16) {
      for (int64_t kk = 0; kk < kc; kk += 16) {
        const __mmask16 depth = lanes(kc - kk);
        const ViewReader::Group g = col.group((k0 + kk) / 16);
        __m512i r[16];
        for (int64_t j = 0; j < 16; ++j)
          r[j] = _mm512_castps_si512(col.load(j0 + jp + h + j, g, h + j < n ? depth : __mmask16(0)));
        transpose16(r);
        for (int64_t q = 0; q < std::min<int64_t>(16, kc - kk); ++q)
          _mm512_store_ps(panel + (kk + q) * kNr + h, _mm512_castsi512_ps(r[q]));
      }
    }
  }
}

// op(a) rows [i0, i0 + rows), depth [k0, k0 + kc) into panels of kMr rows:
// dst[(p * kc + k) * kMr + r] = op(a)(i0 + p * kMr + r, k0 + k), zero past `rows`.
SNGAN_AVX512 void pack_a(float* dst, const float* a, int64_t lda, bool ta, int64_t i0,
                         int64_t rows, int64_t k0, int64_t kc) {
  constexpr __mmask16 kPanel = (1u << kMr) - 1;
  for (int64_t ip = 0; ip < rows; ip += kMr) {
    const int64_t m = std::min(kMr, rows - ip);
    float* panel = dst + (ip / kMr) * kc * kMr;
    if (ta) {  // a stored (K, M): each depth step's rows are contiguous
      const __mmask16 valid = lanes(m);
      const float* src = a + k0 * lda + i0 + ip;
      for (int64_t k = 0; k < kc; ++k)
        _mm512_mask_storeu_ps(panel + k * kMr, kPanel, _mm512_maskz_loadu_ps(valid, src + k * lda));
      continue;
    }
    // Rows of 16 consecutive depths, transposed in registers; 12 of the 16 lanes kept.
    for (int64_t kk = 0; kk < kc; kk += 16) {
      const __mmask16 depth = lanes(kc - kk);
      __m512i r[16];
      for (int64_t i = 0; i < 16; ++i)
        r[i] = _mm512_castps_si512(_mm512_maskz_loadu_ps(
            i < m ? depth : __mmask16(0), a + (i0 + ip + std::min(i, m - 1)) * lda + k0 + kk));
      transpose16(r);
      for (int64_t q = 0; q < std::min<int64_t>(16, kc - kk); ++q)
        _mm512_mask_storeu_ps(panel + (kk + q) * kMr, kPanel, _mm512_castsi512_ps(r[q]));
    }
  }
}

// C's R x 32 tile (row stride ldc; lanes outside masks m0 | m1 << 16 untouched) (=|+=) the
// packed A panel (kc x kMr, first R rows used) times a B panel of kc rows of 32 columns, ldpb
// floats apart: the packed panel (ldpb == kNr) or op(b) itself. With kMaskedB, B's loads take
// the masks too, so an unpacked B is never read past its valid columns; a packed panel is
// zero-padded and read whole, since masked loads cost the kernel about 15% of its speed
// (12x32 tiles from L2 on an Intel Xeon, one thread: 167 -> 195 GFLOP/s).
constexpr int64_t kPrefetch = 16;  // depth steps ahead that B's rows are prefetched

// A micro-kernel's R x 32 tile of C into its accumulators (zeros unless `add`), one depth
// step, and the tile back.
template <int R>
SNGAN_AVX512_INLINE void load_c_tile(__m512 (&c0)[R], __m512 (&c1)[R], const float* c,
                                     int64_t ldc, __mmask16 m0, __mmask16 m1, bool add) {
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    c0[r] = add ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
    c1[r] = add ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
  }
}
// One depth step: each row r's accumulators += pa[r] times B's row (b0, b1).
template <int R>
SNGAN_AVX512_INLINE void fma_step(__m512 (&c0)[R], __m512 (&c1)[R], const float* pa, __m512 b0,
                                  __m512 b1) {
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    const __m512 av = _mm512_set1_ps(pa[r]);
    c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
    c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
  }
}
template <int R>
SNGAN_AVX512_INLINE void store_c_tile(const __m512 (&c0)[R], const __m512 (&c1)[R], float* c,
                                      int64_t ldc, __mmask16 m0, __mmask16 m1) {
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, c0[r]);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, c1[r]);
  }
}

template <int R, bool kMaskedB>
SNGAN_AVX512 void micro_kernel(int64_t kc, const float* __restrict pa, const float* __restrict pb,
                               int64_t ldpb, float* c, int64_t ldc, __mmask16 m0, __mmask16 m1,
                               bool add) {
  __m512 c0[R], c1[R];
  load_c_tile<R>(c0, c1, c, ldc, m0, m1, add);
  for (int64_t k = 0; k < kc; ++k) {
    _mm_prefetch(reinterpret_cast<const char*>(pb + kPrefetch * ldpb), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(pb + kPrefetch * ldpb + 16), _MM_HINT_T0);
    const __m512 b0 = kMaskedB ? _mm512_maskz_loadu_ps(m0, pb) : _mm512_load_ps(pb);
    const __m512 b1 = kMaskedB ? _mm512_maskz_loadu_ps(m1, pb + 16) : _mm512_load_ps(pb + 16);
    fma_step<R>(c0, c1, pa, b0, b1);
    pa += kMr;
    pb += ldpb;
  }
  store_c_tile<R>(c0, c1, c, ldc, m0, m1);
}

using MicroKernel = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t,
                             __mmask16, __mmask16, bool);
template <bool kMaskedB>
constexpr MicroKernel kMicroKernels[kMr + 1] = {
    nullptr,
    micro_kernel<1, kMaskedB>,
    micro_kernel<2, kMaskedB>,
    micro_kernel<3, kMaskedB>,
    micro_kernel<4, kMaskedB>,
    micro_kernel<5, kMaskedB>,
    micro_kernel<6, kMaskedB>,
    micro_kernel<7, kMaskedB>,
    micro_kernel<8, kMaskedB>,
    micro_kernel<9, kMaskedB>,
    micro_kernel<10, kMaskedB>,
    micro_kernel<11, kMaskedB>,
    micro_kernel<12, kMaskedB>};

// micro_kernel<R, true> with B's rows read straight from an im2col view (op(b) = col): rows
// r0 + k, the 32 columns of groups g0 and g1 (lanes m0 and m1). For a product of at most 12
// rows, which uses each element of B once: packing B for it would copy all of B to read it
// once (G's last conv of the standard CNN, 64 -> 3 channels at 32x32, packed 576 x 256 floats
// per chunk for 3 rows). The same products in the same order as the packed path.
template <int R>
SNGAN_AVX512 void micro_kernel_view(int64_t kc, const float* __restrict pa, const ViewReader& col,
                                    int64_t r0, const ViewReader::Group& g0,
                                    const ViewReader::Group& g1, float* c, int64_t ldc,
                                    __mmask16 m0, __mmask16 m1, bool add) {
  __m512 c0[R], c1[R];
  load_c_tile<R>(c0, c1, c, ldc, m0, m1, add);
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = col.load(r0 + k, g0, m0);
    const __m512 b1 = col.load(r0 + k, g1, m1);
    fma_step<R>(c0, c1, pa, b0, b1);
    pa += kMr;
  }
  store_c_tile<R>(c0, c1, c, ldc, m0, m1);
}

using ViewMicroKernel = void (*)(int64_t, const float*, const ViewReader&, int64_t,
                                 const ViewReader::Group&, const ViewReader::Group&, float*,
                                 int64_t, __mmask16, __mmask16, bool);
constexpr ViewMicroKernel kViewMicroKernels[kMr + 1] = {
    nullptr,
    micro_kernel_view<1>,
    micro_kernel_view<2>,
    micro_kernel_view<3>,
    micro_kernel_view<4>,
    micro_kernel_view<5>,
    micro_kernel_view<6>,
    micro_kernel_view<7>,
    micro_kernel_view<8>,
    micro_kernel_view<9>,
    micro_kernel_view<10>,
    micro_kernel_view<11>,
    micro_kernel_view<12>};

// C (M, N) (=|+=) a (M, K, rows contiguous) times col^T, col an im2col view of N rows and K
// columns, for M of at most kDotGemmRows: the weight gradient of a conv with few output channels
// (an RGB or grey output layer). The packed path would transpose all of col into panels to
// use each element M times; here each element of C is a dot product over K, kept in 16 lanes
// and summed at the end (sum16), with R rows by S columns of C (at most 24) in registers.
constexpr int64_t kDotGemmRows = 4;

template <int R, int S>
SNGAN_AVX512 void dot_tile(const float* a, int64_t lda, const ViewReader& col, int64_t n0,
                           int64_t K, float* c, int64_t ldc, bool add) {
  __m512 acc[R][S];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < S; ++q) acc[r][q] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += 16) {
    const __mmask16 m = lanes(K - k);
    const ViewReader::Group g = col.group(k / 16);
    __m512 av[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) av[r] = _mm512_maskz_loadu_ps(m, a + r * lda + k);
#pragma GCC unroll 24
    for (int q = 0; q < S; ++q) {
      const __m512 bv = col.load(n0 + q, g, m);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][q] = _mm512_fmadd_ps(av[r], bv, acc[r][q]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < S; ++q) {
      float* dst = c + r * ldc + n0 + q;
      const float sum = avx512::sum16(acc[r][q]);
      *dst = add ? *dst + sum : sum;
    }
}

template <int R>
SNGAN_AVX512 void dot_gemm_rows(const float* a, int64_t lda, const Im2colView& v, float* c,
                                int64_t ldc, int64_t N, int64_t K, bool add) {
  constexpr int S = 24 / R;
  const ViewReader col(v);
  int64_t n = 0;
  for (; n + S <= N; n += S) dot_tile<R, S>(a, lda, col, n, K, c, ldc, add);
  for (; n < N; ++n) dot_tile<R, 1>(a, lda, col, n, K, c, ldc, add);
}

void dot_gemm(const float* a, int64_t lda, const Im2colView& v, float* c, int64_t ldc, int64_t M,
              int64_t N, int64_t K, bool add) {
  switch (M) {
    case 1: dot_gemm_rows<1>(a, lda, v, c, ldc, N, K, add); break;
    case 2: dot_gemm_rows<2>(a, lda, v, c, ldc, N, K, add); break;
    case 3: dot_gemm_rows<3>(a, lda, v, c, ldc, N, K, add); break;
    default: dot_gemm_rows<4>(a, lda, v, c, ldc, N, K, add); break;
  }
}

}  // namespace

namespace {

// Depth blocks of (nearly) equal size, a multiple of 16 (where an im2col view's column groups
// start), none deeper than kKc: K alone decides them.
int64_t depth_step(int64_t K) {
  const int64_t blocks = (K + kKc - 1) / kKc;
  return round_up((K + blocks - 1) / blocks, 16);
}

// C (M, N) (=|+=) A times op(b) over K, with `packed_a(k0, kc)` giving A's packed row panels of
// depth block [k0, k0 + kc) (panel p at + p * kc * kMr).
template <typename PackedBlock>
SNGAN_AVX512 void run_gemm(float* c, int64_t ldc, PackedBlock packed_a, const BOperand& b, int64_t M,
                           int64_t N, int64_t K, bool add) {
  thread_local std::vector<float> b_buffer;
  const int64_t kstep = depth_step(K);
  for (int64_t k0 = 0; k0 < K; k0 += kstep) {
    const int64_t kc = std::min(kstep, K - k0);
    const bool accumulate = add || k0 > 0;
    const float* pa = packed_a(k0, kc);
    if (M <= kMr && !b.t && !b.panels) {  // one row panel: each element of B is used once, unpacked
      if (b.view != nullptr) {
        const ViewReader col(*b.view);
        for (int64_t jj = 0; jj < N; jj += kNr) {
          const __mmask16 m0 = lanes(N - jj), m1 = lanes(N - jj - 16);
          const ViewReader::Group g0 = col.group(jj / 16), g1 = m1 != 0 ? col.group(jj / 16 + 1) : g0;
          kViewMicroKernels[M](kc, pa, col, k0, g0, g1, c + jj, ldc, m0, m1, accumulate);
        }
        continue;
      }
      for (int64_t jj = 0; jj < N; jj += kNr)
        kMicroKernels<true>[M](kc, pa, b.p + k0 * b.ld + jj, b.ld, c + jj, ldc, lanes(N - jj),
                               lanes(N - jj - 16), accumulate);
      continue;
    }
    for (int64_t j0 = 0; j0 < N; j0 += kNc) {
      const int64_t cols = std::min(kNc, N - j0);
      const float* pb = nullptr;
      if (b.panels) {  // already packed (PackedBRows)
        pb = b.p + k0 * round_up(N, kNr) + j0 * kc;
      } else {
        float* dst = scratch(b_buffer, round_up(cols, kNr) * kc);
        if (b.view != nullptr) pack_b(dst, *b.view, b.t, k0, kc, j0, cols);
        else pack_b(dst, b.p, b.ld, b.t, k0, kc, j0, cols);
        pb = dst;
      }
      for (int64_t ii = 0; ii < M; ii += kMr) {  // one A panel stays in L1 ...
        const MicroKernel micro = kMicroKernels<false>[std::min(kMr, M - ii)];
        const float* panel_a = pa + ii * kc;
        for (int64_t jj = 0; jj < cols; jj += kNr)  // ... while the B panels stream from L2
          micro(kc, panel_a, pb + jj * kc, kNr, c + ii * ldc + j0 + jj, ldc, lanes(cols - jj),
                lanes(cols - jj - 16), accumulate);
      }
    }
  }
}

bool empty_product(float* c, int64_t ldc, int64_t M, int64_t N, int64_t K, bool add) {
  if (M > 0 && N > 0 && K > 0) return false;
  if (K == 0 && !add)
    for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
  return true;
}

}  // namespace

bool fp32_gemm_on_avx512() {
  static const bool on = cpu_info().avx512f;
  return on;
}

void gemm_fp32_avx512(float* c, int64_t ldc, const float* a, int64_t lda, bool ta,
                      const BOperand& b, int64_t M, int64_t N, int64_t K, bool add) {
  SNGAN_CHECK(!b.panels || (!b.t && b.view == nullptr && reinterpret_cast<uintptr_t>(b.p) % 64 == 0),
              "GEMM: B in panels must be untransposed, in memory, 64-byte aligned");
  if (empty_product(c, ldc, M, N, K, add)) return;
  if (M <= kDotGemmRows && !ta && b.t && b.view != nullptr) {
    dot_gemm(a, lda, *b.view, c, ldc, M, N, K, add);
    return;
  }
  thread_local std::vector<float> a_buffer;
  auto pack = [&](int64_t k0, int64_t kc) {
    float* pa = scratch(a_buffer, round_up(M, kMr) * kc);
    pack_a(pa, a, lda, ta, 0, M, k0, kc);
    return static_cast<const float*>(pa);
  };
  run_gemm(c, ldc, pack, b, M, N, K, add);
}

int64_t packed_a_floats(int64_t M, int64_t K) { return round_up(M, kMr) * K; }
PackedBRows packed_b_rows(int64_t K, int64_t N) {
  static_assert(kNr == 32, "PackedBRow's panels are micro-tile columns");
  return {K, round_up(N, kNr), depth_step(std::max<int64_t>(K, 1))};
}
PackedALayout packed_a_layout(int64_t M, int64_t K) {
  static_assert(kPackedRowAlign == kMr, "packed panels are micro-tile rows");
  return {M, K, round_up(M, kMr), depth_step(std::max<int64_t>(K, 1))};
}

PackedA pack_a_operand(float* dst, const float* a, int64_t lda, bool ta, int64_t M, int64_t K) {
  const int64_t mpad = round_up(M, kMr), kstep = depth_step(std::max<int64_t>(K, 1));
  // Panels over the threads when called outside a parallel region (a conv packs its weights
  // before its chunks start) and there is enough to share.
  const bool par = omp_get_level() == 0 && M * K >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (par)
  for (int64_t p = 0; p < mpad / kMr; ++p)
    for (int64_t k0 = 0; k0 < K; k0 += kstep) {
      const int64_t kc = std::min(kstep, K - k0);
      pack_a(dst + mpad * k0 + p * kc * kMr, a, lda, ta, p * kMr, std::min(kMr, M - p * kMr), k0, kc);
    }
  return {dst, M, K};
}

void gemm_fp32_avx512_packed(float* c, int64_t ldc, const PackedA& a, int64_t row0,
                             const BOperand& b, int64_t M, int64_t N, bool add) {
  SNGAN_CHECK(row0 % kPackedRowAlign == 0 && row0 + M <= a.rows,
              "packed GEMM: rows [", row0, ", ", row0 + M, ") of a packed operand of ", a.rows,
              " rows (the first a multiple of ", kPackedRowAlign, ")");
  const int64_t K = a.depth;
  SNGAN_CHECK(!b.panels || (!b.t && b.view == nullptr && reinterpret_cast<uintptr_t>(b.p) % 64 == 0),
              "packed GEMM: B in panels must be untransposed, in memory, 64-byte aligned");
  if (empty_product(c, ldc, M, N, K, add)) return;
  const int64_t mpad = round_up(a.rows, kMr);
  auto block = [&](int64_t k0, int64_t kc) { return a.data + mpad * k0 + row0 * kc; };
  run_gemm(c, ldc, block, b, M, N, K, add);
}

}  // namespace sngan::kernels
