// A conv's im2col matrix read in place ("implicit im2col"): the packed GEMMs build their B
// panels straight from the conv's input instead of from an im2col copy, which saves writing
// and reading that copy (in bf16 on AMX tiles the copy took about a fifth of a training step).
//
// col(r, j), for im2col row r = (input channel, kernel tap) and column j = (sample, output
// pixel), is the input pixel that tap reads for that output pixel, or zero in the padding. A
// view exists for convs whose taps each read a contiguous run of a (phase) plane for
// consecutive output pixels: those whose plane is exactly as wide as the output (every "same"
// conv: 3x3 pad 1, 4x4 stride 2 pad 1 on even sizes, 1x1), with a multiple of 16 pixels per
// sample. Then 16 columns from a multiple of 16 are one masked 16-lane load:
//   col(r, 16g + l) = bit l of masks[row_mask[r] + group_mask[g]]
//                     ? base[row_offset[r] + group_offset[g] + l] : 0.
// Internal to the kernels (gemm_ops.cpp builds views; gemm_bf16.cpp reads them).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace sngan::kernels {

struct Im2colView {
  const float* base = nullptr;          // the input's (phase) planes
  const int64_t* row_offset = nullptr;  // per row: where its channel's tap window starts
  const int32_t* row_mask = nullptr;    // per row: its tap's first entry in `masks`
  const int64_t* group_offset = nullptr;  // per 16-column group: its sample and first pixel
  const int32_t* group_mask = nullptr;    // per group: its pixel group's index within a tap
  const uint16_t* masks = nullptr;        // valid lanes of each (tap, pixel group)
  int64_t rows = 0, cols = 0;

  // The view of rows [r0, rows) and columns [j0, cols) (j0 a multiple of 16).
  Im2colView rows_from(int64_t r0) const {
    Im2colView v = *this;
    v.row_offset += r0, v.row_mask += r0, v.rows -= r0;
    return v;
  }
  Im2colView cols_from(int64_t j0) const {
    Im2colView v = *this;
    v.group_offset += j0 / 16, v.group_mask += j0 / 16, v.cols -= j0;
    return v;
  }
};

// op(b) of the packed GEMMs: row-major data p with row stride ld, or, when `view` is set, an
// im2col view read in place; transposed if t: op(b)(k, j) = t ? b(j, k) : b(k, j). With
// `panels` (fp32 AVX-512 GEMM only), p already holds op(b) in the GEMM's own packed panels
// (gemm_avx512.h: PackedBRows), which it then reads without packing. With `bf16_tiles` (the
// native bf16 GEMMs only), op(b) is already rounded and packed into the bf16 engine's pair
// tiles (gemm_bf16.h: PackedBf16BLayout) there, and p is not read.
struct BOperand {
  const float* p = nullptr;
  int64_t ld = 0;
  bool t = false;
  const Im2colView* view = nullptr;
  bool panels = false;
  const uint16_t* bf16_tiles = nullptr;
};

// A view's masked 16-lane loads for the packing loops, with its tables in locals (the loops'
// vector stores may alias anything, so tables read through the view would be read again after
// every store). Only for code that runs after a check that the CPU has AVX-512F.
class ViewReader {
 public:
  explicit ViewReader(const Im2colView& v)
      : base_(v.base), row_offset_(v.row_offset), row_mask_(v.row_mask),
        group_offset_(v.group_offset), group_mask_(v.group_mask), masks_(v.masks) {}
  // Column group g's first element and masks.
  struct Group {
    const float* base;
    const uint16_t* masks;
  };
  Group group(int64_t g) const { return {base_ + group_offset_[g], masks_ + group_mask_[g]}; }
  // col(r, the group's 16 columns) within `keep`, zero elsewhere; nothing read if keep is 0.
  __attribute__((target("avx512f"))) __m512 load(int64_t r, const Group& g, __mmask16 keep) const {
    if (keep == 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps(keep & g.masks[row_mask_[r]], g.base + row_offset_[r]);
  }

 private:
  const float* base_;
  const int64_t* row_offset_;
  const int32_t* row_mask_;
  const int64_t* group_offset_;
  const int32_t* group_mask_;
  const uint16_t* masks_;
};

}  // namespace sngan::kernels
