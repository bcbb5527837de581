// Pooling and resizing kernels, forward only (the evaluation networks run without a graph):
// k x k max and average pooling with a stride and zero padding, global average pooling and
// bilinear resizing, with PyTorch's semantics (those of torch.nn.functional.max_pool2d,
// avg_pool2d, adaptive_avg_pool2d(x, 1) and interpolate(mode="bilinear",
// align_corners=False)).
//
// Contracts (all buffers contiguous row-major, caller allocates every output; outputs are
// assigned). Every image channel is an independent "plane": x (planes, H, W) with
// planes = N * C. The fast versions split the planes over OpenMP threads and use bounds-free
// loops inside the input; the `ref` namespace holds plain loops with identical semantics that
// the tests compare against.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace sngan::kernels {

// One k x k pooling: x (planes, H, W) -> y (planes, Hout, Wout) with
// Hout = (H + 2*pad - k) / stride + 1 (rounded down, PyTorch's ceil_mode=False; same for W).
struct Pool2dDims {
  int64_t planes = 0, H = 0, W = 0;
  int64_t k = 1, stride = 1, pad = 0;
  int64_t Hout = 0, Wout = 0;
};
// Fills Hout/Wout; throws sngan::Error for non-positive sizes, stride < 1, pad < 0,
// pad > k / 2 (PyTorch's limit: every window then overlaps the input) or an empty output.
Pool2dDims make_pool2d_dims(int64_t planes, int64_t H, int64_t W, int64_t k, int64_t stride,
                            int64_t pad);

// y = the maximum over each window's positions inside the input (the padding never wins, as
// PyTorch pads max pooling with -inf); a NaN in a window propagates.
void max_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d);
// y = the mean of each window. count_include_pad: the sum over the input positions divided by
// k*k (the padding counts as zeros); otherwise divided by the number of input positions in the
// window (TensorFlow's average pool, which the FID Inception's blocks use).
void avg_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d, bool count_include_pad);
// y (planes) = the mean of each plane x (planes, count).
void global_avg_pool_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t count);

// Bilinear resize x (planes, H, W) -> y (planes, Hout, Wout), align_corners=False: output
// row i samples the input at s = max(0, (i + 0.5) * H / Hout - 0.5) (in float, as PyTorch
// computes it for float tensors), between rows floor(s) and min(floor(s) + 1, H - 1) with
// weights 1 - frac(s) and frac(s); the same for columns. Downscaling does not low-pass filter
// (PyTorch's antialias=False).
void resize_bilinear_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t H, int64_t W,
                             int64_t Hout, int64_t Wout);

namespace ref {
void max_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d);
void avg_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d, bool count_include_pad);
void global_avg_pool_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t count);
void resize_bilinear_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t H, int64_t W,
                             int64_t Hout, int64_t Wout);
}  // namespace ref

}  // namespace sngan::kernels
