// 3x3 stride-1 "same" convolutions as Winograd F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016): each 2x2 block of output pixels is computed from
// a 4x4 block of the input with 16 multiplies per (input, output) channel pair instead of 36,
// as 16 GEMMs (Cout, Cin) x (Cin, tiles) on the AVX-512 fp32 kernel between a linear
// transform of the input tiles and one of the results. The forward and the input gradient
// (the same correlation with the kernels turned 180 degrees and their channels swapped) run
// this way, and so does the weight gradient, through the transforms' adjoints: per tile,
// G^T [(A e A^T) .* (B^T d B)] G for the output gradient's 2x2 block e.
//
// Numerics: the transforms only add, subtract and halve, so each output is the exact sum in
// another order, rounded differently (relative differences of order 1e-6 against the direct
// sum in the fast-vs-reference tests). In bf16 the GEMMs round the transformed operands to
// bf16 (not the conv's inputs and weights, as the direct bf16 conv does) and sum in fp32. The
// work split depends on the shapes alone: the same bits at every thread count. Internal to the
// kernels (gemm_ops.cpp decides where it serves).
#pragma once

#include <cstdint>

#include "core/tensor/kernels/gemm_bf16.h"
#include "core/tensor/kernels/gemm_ops.h"

namespace sngan::kernels {

// How a Winograd conv multiplies its transformed operands: on the fp32 AVX-512 GEMM, or, if
// bf16, rounded to bf16 on `engine` with fp32 sums (train.precision bf16).
struct WinogradGemms {
  bool bf16 = false;
  Bf16Kernel engine = Bf16Kernel::kAvx512Dot;
};

// Whether a conv of these dims has Winograd's shape: 3x3 kernels, stride 1, padding 1, even
// height and width.
bool winograd_shape(const Conv2dDims& d);
// Where the fp32 forward and input gradient run as F(4x4, 3x3) instead (winograd.cpp: 36
// multiplies per 4x4 output block and channel pair where F(2x2, 3x3) takes 64; rounding errors
// of order 1e-6 relative): height and width multiples of 4.
bool winograd_wide_shape(const Conv2dDims& d);
// Where the fp32 weight gradient runs as F(4x4, 3x3): those sizes from 8 up (4x4 maps, one
// tile per sample, measured slower).
bool winograd_wide_weight_gradient_shape(const Conv2dDims& d);

// y (N, Cout, H, W) (=|+=) conv(x, w) + b (b may be null): the forward of conv d.
void winograd_forward(float* y, const float* x, const float* w, const float* b,
                      const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms);

// dx (N, Cin, H, W) (=|+=) the gradient of conv d's input for dy (N, Cout, H, W).
void winograd_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                             bool accumulate, const WinogradGemms& gemms);

// dw (Cout, Cin, 3, 3) (=|+=) the gradient of conv d's weights for dy (N, Cout, H, W) and its
// input x (N, Cin, H, W).
void winograd_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                              bool accumulate, const WinogradGemms& gemms);

// 4x4 stride-2 pad-1 convs as Winograd F(2x2, 2x2) over the kernel's four parity phases
// (winograd_stride2.cpp): 36 multiplies per 2x2 output block and channel pair instead of 64.
// The input gradient (the 4x4 stride-2 transposed conv's forward) splits by dx's parity phases
// instead. The transforms only add and subtract. Shape: 4x4 kernels, stride 2, padding 1,
// height and width multiples of 4 (even output sizes).
bool winograd_stride2_shape(const Conv2dDims& d);
void winograd_stride2_forward(float* y, const float* x, const float* w, const float* b,
                              const Conv2dDims& d, bool accumulate, const WinogradGemms& gemms);
void winograd_stride2_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                                     bool accumulate, const WinogradGemms& gemms);
void winograd_stride2_backward_weight(float* dw, const float* dy, const float* x, const Conv2dDims& d,
                                      bool accumulate, const WinogradGemms& gemms);

// The forward and input gradient of those convs as Winograd F(4x4, 2x2) in fp32
// (winograd_stride2.cpp): 4x4 output blocks per kernel phase, 100 multiplies per block and
// channel pair where F(2x2, 2x2) takes 144; winograd_stride2_backward_weight takes it too on
// these shapes in fp32. The transforms scale by 2, 4, 8 and 1/6 (a few
// times F(2x2, 2x2)'s rounding error, still of order 1e-6 relative). Shape: winograd_stride2's,
// with height and width multiples of 8 and at least 16.
bool winograd_stride2_wide_shape(const Conv2dDims& d);
void winograd_stride2_wide_forward(float* y, const float* x, const float* w, const float* b,
                                   const Conv2dDims& d, bool accumulate);
void winograd_stride2_wide_backward_input(float* dx, const float* dy, const float* w, const Conv2dDims& d,
                                          bool accumulate);

}  // namespace sngan::kernels
