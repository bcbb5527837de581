// The fp32 GEMM under the fast kernels on CPUs with AVX-512: a packed, BLIS-style driver
// around a 12x32 register-blocked micro-kernel (24 zmm accumulators). Eigen's GEMM serves the
// CPUs without AVX-512F and the tests' comparison (on AVX-512 its micro-kernel is 48x4 with 12
// accumulators, which this replaces). Internal to the kernels; gemm_ops.h holds the switch.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/tensor/kernels/im2col_view.h"

namespace sngan::kernels {

// Whether this process's fp32 GEMMs can run on the AVX-512 micro-kernel (the CPU has AVX-512F).
bool fp32_gemm_on_avx512();

// c (M, N; row stride ldc) (=|+=) op(a) (M, K) * op(b) (K, N) on the calling thread;
// op(a)(i, k) = ta ? a[k*lda + i] : a[i*lda + k], op(b) as BOperand says (a view starting at
// a 16-column group). Only when fp32_gemm_on_avx512(). Every element of C goes through the
// same chain of fused multiply-adds, k in order within depth blocks that depend on K alone, so
// splitting M or N across calls (or threads) at any point does not change any bit, and a view
// gives the same bits as its im2col copy.
void gemm_fp32_avx512(float* c, int64_t ldc, const float* a, int64_t lda, bool ta,
                      const BOperand& b, int64_t M, int64_t N, int64_t K, bool add);

// op(a) (M, K) packed once for several GEMMs that share it (a conv's weights across its batch
// chunks), in memory the caller owns.
struct PackedA {
  const float* data = nullptr;
  int64_t rows = 0, depth = 0;
};
// Floats that a packed op(a) of M rows and depth K takes.
int64_t packed_a_floats(int64_t M, int64_t K);
// Packs op(a) (see gemm_fp32_avx512) into dst (packed_a_floats(M, K) floats).
PackedA pack_a_operand(float* dst, const float* a, int64_t lda, bool ta, int64_t M, int64_t K);
// Packed row ranges start at multiples of this.
constexpr int64_t kPackedRowAlign = 12;
// Where a packed op(a) of `rows` rows and depth `depth` keeps element (i, k): per depth block
// (equal blocks of at most `step`, fixed by the depth), panels of kPackedRowAlign rows, each
// depth step's kPackedRowAlign values contiguous. For code that writes packed operands itself.
struct PackedALayout {
  int64_t rows, depth, padded_rows, step;
  int64_t floats() const { return padded_rows * depth; }
  int64_t offset(int64_t i, int64_t k) const {
    const int64_t k0 = k / step * step, kc = std::min(step, depth - k0);
    return padded_rows * k0 + (i / kPackedRowAlign) * kc * kPackedRowAlign + (k - k0) * kPackedRowAlign +
           i % kPackedRowAlign;
  }
};
PackedALayout packed_a_layout(int64_t M, int64_t K);
// Where a B operand written in the GEMM's own panels (BOperand::panels) keeps row k of op(b)
// (depth K, N columns): per depth block (equal blocks fixed by K), panels of 32 columns, each
// depth's 32 values contiguous, the panels' rows padded to a multiple of 32 columns (the
// padding's values are read but never reach C). Column j of row k is at
// base + (j / 32) * panel + j % 32. The data starts 64-byte aligned.
struct PackedBRow {
  int64_t base, panel;
  int64_t at(int64_t j) const { return base + (j >> 5) * panel + (j & 31); }
};
struct PackedBRows {
  int64_t depth, padded_cols, step;
  int64_t floats() const { return padded_cols * depth; }
  PackedBRow row(int64_t k) const {
    const int64_t k0 = k / step * step, kc = std::min(step, depth - k0);
    return {k0 * padded_cols + (k - k0) * 32, kc * 32};
  }
};
PackedBRows packed_b_rows(int64_t K, int64_t N);

// gemm_fp32_avx512 with op(a) = rows [row0, row0 + M) of a packed operand (row0 a multiple of
// kPackedRowAlign), K its depth: the same bits as gemm_fp32_avx512 on the unpacked rows.
void gemm_fp32_avx512_packed(float* c, int64_t ldc, const PackedA& a, int64_t row0,
                             const BOperand& b, int64_t M, int64_t N, bool add);

}  // namespace sngan::kernels
