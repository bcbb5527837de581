// The bf16 GEMM under the fast kernels' `precision() == kBf16` mode: operands rounded to bf16
// (round to nearest even), products summed in fp32. It runs on one of two engines over the same
// packed operands: AMX-BF16 tiles (tdpbf16ps; where the CPU has them and Linux grants them) or
// AVX512_BF16 dot products (vdpbf16ps; AMD Zen 4/5, Intel Cooper Lake and later). Without
// either the fast kernels emulate it: the rounded operands go through the fp32 GEMM, which
// gives the same numbers up to the order of the sums.
// Internal to the kernels; gemm_ops.h holds the switch.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/tensor/kernels/im2col_view.h"
#include "core/tensor/tensor.h"

namespace sngan::kernels {

// x rounded to the nearest bf16 (ties to even; NaN stays NaN), as a float.
float nearest_bf16(float x);

// The engines this CPU offers (the packing needs AVX512_BF16's conversions either way).
enum class Bf16Kernel { kAmxTiles, kAvx512Dot };
bool bf16_amx_tiles_available();  // AMX-BF16 tiles and AVX512_BF16
bool bf16_avx512_dot_available();  // AVX512_BF16 (with AVX512BW)

// c (M, N; row stride ldc) (=|+=) op(a) (M, K) * op(b) (K, N) on `engine`, on the calling
// thread; op(a)(i, k) = ta ? a[k*lda + i] : a[i*lda + k], op(b) as BOperand says (a view
// starting at a 16-column group). Only where the engine is available. Each element's sum runs
// over depth blocks that depend on K alone, in the same order wherever the element sits, so
// splitting M or N across calls does not change any bit, and a view gives the same bits as
// its im2col copy. (The two engines may differ in the last bits: each rounds inside a dot
// product its own way.)
void gemm_bf16(Bf16Kernel engine, float* c, int64_t ldc, const float* a, int64_t lda, bool ta,
               const BOperand& b, int64_t M, int64_t N, int64_t K, bool add);

// op(a) (M, K) packed once into row tiles for several bf16 GEMMs that share it (a conv's
// weights across its batch chunks), in memory the caller owns.
struct PackedBf16A {
  const uint16_t* data = nullptr;
  int64_t rows = 0, depth = 0;
};
// uint16 elements that a packed op(a) of M rows and depth K takes (with room for alignment).
int64_t packed_bf16_a_elems(int64_t M, int64_t K);
// Packs op(a) (see gemm_bf16) into dst (packed_bf16_a_elems(M, K) elements), rounded to bf16.
PackedBf16A pack_bf16_a_operand(uint16_t* dst, const float* a, int64_t lda, bool ta, int64_t M,
                                int64_t K);
// Packed row ranges start at multiples of this (the micro-kernel's rows).
constexpr int64_t kBf16PackedRowAlign = 32;
// Where a packed op(a) (PackedBf16A) of `rows` rows and depth `depth` keeps element (i, k), for
// code that writes packed operands itself: per depth block (of `block`, the last shorter),
// tiles of 16 rows by 32 depths over all padded_rows (rows rounded up to kBf16PackedRowAlign),
// tile (i / 16, depth step s) at (i / 16 * steps + s) * 512, row i % 16 of a tile at 32 * (i %
// 16), its depths in order: runs of consecutive depths are contiguous up to a multiple of 32.
// Entries past the rows or the depth (to multiples of 32) must hold zeros. elems() elements
// from a 64-byte aligned start.
struct PackedBf16ALayout {
  int64_t rows, depth, padded_rows, block;
  int64_t elems() const { return padded_rows * ((depth + 31) / 32 * 32); }
  int64_t at(int64_t i, int64_t k) const {
    const int64_t k0 = k / block * block, steps = (std::min(block, depth - k0) + 31) / 32;
    return padded_rows * k0 + ((i / 16) * steps + (k - k0) / 32) * 512 + (i % 16) * 32 + (k - k0) % 32;
  }
};
PackedBf16ALayout packed_bf16_a_layout(int64_t M, int64_t K);
// Where an op(b) (K, N) packed ahead of the GEMM (BOperand::bf16_tiles) keeps element (k, j),
// for code that writes its B operands itself: column blocks of kNc (512) columns, each holding
// depth blocks of `block` (1024) depths, each holding pair tiles (16 columns by 32 depths:
// depth pair (k % 32) / 2 at 32 * that, column j % 16 at 2 * that, k % 2 last), tile (column
// group, depth step) at (group * steps + step) * 512. Columns are padded to multiples of 32,
// depths to multiples of 32; padding depths must hold zeros. elems() elements from a 64-byte
// aligned start.
struct PackedBf16BLayout {
  int64_t depth, cols;
  static constexpr int64_t kColumnBlock = 512, kDepthBlock = 1024;
  int64_t padded_depth() const { return (depth + 31) / 32 * 32; }
  int64_t elems() const { return padded_depth() * ((cols + 31) / 32 * 32); }
  // The first element of column block j0's depth block k0 (j0, k0 multiples of the blocks).
  int64_t block_at(int64_t j0, int64_t k0) const {
    return j0 * padded_depth() + k0 * ((std::min(kColumnBlock, cols - j0) + 31) / 32 * 32);
  }
  int64_t at(int64_t k, int64_t j) const {
    const int64_t j0 = j / kColumnBlock * kColumnBlock, k0 = k / kDepthBlock * kDepthBlock;
    const int64_t steps = (std::min(kDepthBlock, depth - k0) + 31) / 32;
    return block_at(j0, k0) + (((j - j0) / 16) * steps + (k - k0) / 32) * 512 + (k % 32) / 2 * 32 +
           (j % 16) * 2 + k % 2;
  }
};
// Writes depths k, k + 1 (k even) of a packed op(b) at dst from the rows lo and hi (`cols`
// floats each, rounded to bf16; a null row reads as zeros), zeros in the padding columns.
void pack_bf16_b_pair(uint16_t* dst, const PackedBf16BLayout& layout, int64_t k, const float* lo,
                      const float* hi);

// gemm_bf16 with op(a) = rows [row0, row0 + M) of a packed operand, K its depth: the same
// bits as gemm_bf16 on the unpacked rows.
void gemm_bf16_packed(Bf16Kernel engine, float* c, int64_t ldc, const PackedBf16A& a, int64_t row0,
                      const BOperand& b, int64_t M, int64_t N, bool add);

}  // namespace sngan::kernels
