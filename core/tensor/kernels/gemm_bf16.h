// The bf16 GEMM under the fast kernels' `precision() == kBf16` mode: operands rounded to bf16
// (round to nearest even), products summed in fp32. On a CPU with AMX-BF16 tiles (and Linux's
// permission to use them) it runs on the tiles; elsewhere it is emulated: the rounded operands
// go through the fp32 GEMM, which gives the same numbers up to the order of the sums.
// Internal to the kernels; gemm_ops.h holds the switch.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace sngan::kernels {

// x rounded to the nearest bf16 (ties to even; NaN stays NaN), as a float.
float nearest_bf16(float x);

// Whether this process's bf16 GEMMs run on AMX tiles.
bool bf16_gemm_on_amx();

// c (M, N; row stride ldc) (=|+=) op(a) (M, K) * op(b) (K, N) on AMX tiles, on the calling
// thread; op(a)(i, k) = ta ? a[k*lda + i] : a[i*lda + k], op(b)(k, j) = tb ? b[j*ldb + k] :
// b[k*ldb + j]. Only when bf16_gemm_on_amx(). Each element's sum runs over depth blocks that
// depend on K alone, so splitting M or N across calls does not change any bit.
void gemm_bf16_amx(float* c, int64_t ldc, const float* a, int64_t lda, bool ta, const float* b,
                   int64_t ldb, bool tb, int64_t M, int64_t N, int64_t K, bool add);

}  // namespace sngan::kernels
