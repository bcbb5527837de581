// Register-level AVX-512 helpers shared by the packed GEMMs (gemm_avx512.cpp, gemm_bf16.cpp).
// Only for code that runs after a run-time check that the CPU has AVX-512F.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace sngan::kernels::avx512 {

// Lanes [0, n) of a 16-lane mask (n clamped to 0..16).
inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// The sum of v's 16 lanes, halves added pairwise (a fixed order: the same bits every call).
__attribute__((target("avx512f"))) inline float sum16(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  const __m256 s8 = _mm256_add_ps(lo, hi);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// r[i][j] <-> r[j][i] for a 16x16 block of dwords (floats, or pairs of bf16 values).
__attribute__((target("avx512f"))) inline void transpose16(__m512i r[16]) {
  __m512i a[16], b[16];
  for (int k = 0; k < 16; k += 2) {
    a[k] = _mm512_unpacklo_epi32(r[k], r[k + 1]);
    a[k + 1] = _mm512_unpackhi_epi32(r[k], r[k + 1]);
  }
  // b[4k + e], 128-bit lane L: rows 4k..4k+3 at column 4L + e.
  for (int k = 0; k < 16; k += 4) {
    b[k] = _mm512_unpacklo_epi64(a[k], a[k + 2]);
    b[k + 1] = _mm512_unpackhi_epi64(a[k], a[k + 2]);
    b[k + 2] = _mm512_unpacklo_epi64(a[k + 1], a[k + 3]);
    b[k + 3] = _mm512_unpackhi_epi64(a[k + 1], a[k + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    const __m512i c0 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0x44);
    const __m512i c1 = _mm512_shuffle_i32x4(b[e], b[4 + e], 0xee);
    const __m512i c2 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0x44);
    const __m512i c3 = _mm512_shuffle_i32x4(b[8 + e], b[12 + e], 0xee);
    r[e] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    r[4 + e] = _mm512_shuffle_i32x4(c0, c2, 0xdd);
    r[8 + e] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(c1, c3, 0xdd);
  }
}

}  // namespace sngan::kernels::avx512
