// Differentiable ops on Var. Every op computes its value with a fast kernel and, when
// gradients are being recorded, attaches a backward closure written with these same ops, so
// gradients can be differentiated again (create_graph). The exceptions are named in their
// comments: their backward is a fused kernel whose own gradient throws a clear error.
//
// Shapes are NCHW for images, (N, features) for vectors. Broadcasting (add, sub, mul, div)
// follows NumPy: shapes are right-aligned and a dimension of size 1 stretches.
#pragma once

#include <vector>

#include "core/tensor/autograd.h"
#include "core/tensor/kernels/gemm_ops.h"

namespace sngan {

// ---- elementwise, with broadcasting ----
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var add_scalar(const Var& a, Scalar s);  // a + s
Var mul_scalar(const Var& a, Scalar s);  // a * s
Var neg(const Var& a);
Var rsub_scalar(Scalar s, const Var& a);  // s - a

// ---- elementwise unary ----
Var relu(const Var& x);
Var leaky_relu(const Var& x, Scalar slope);
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var softplus(const Var& x);  // log(1 + exp(x)), computed stably
Var square(const Var& x);
Var sqrt(const Var& x);
Var pow(const Var& x, Scalar p);

// leaky_relu's gradient: g where x > 0, slope * g elsewhere. Differentiable in g; x is
// treated as a constant (its derivative is zero almost everywhere).
Var leaky_relu_grad(const Var& g, const Var& x, Scalar slope);

// ---- reductions and shapes ----
Var sum(const Var& x);   // all elements -> shape (1)
Var mean(const Var& x);  // all elements -> shape (1)
// Sum / mean over the given axes (negative counts from the end).
Var sum(const Var& x, const std::vector<int>& axes, bool keepdim = false);
Var mean(const Var& x, const std::vector<int>& axes, bool keepdim = false);
Var reshape(const Var& x, const Shape& shape);
Var flatten(const Var& x);  // (N, ...) -> (N, rest)
Var broadcast_to(const Var& x, const Shape& shape);
Var sum_to(const Var& x, const Shape& shape);  // inverse of broadcast_to: sums stretched dims
// (M, K) (trans_a: stored (K, M)) times (K, N) (trans_b: stored (N, K)) -> (M, N).
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);
Var transpose2d(const Var& x);  // (M, N) -> (N, M)

// ---- neural-network ops ----
// x (N, in), weight (out, in), bias (out) or undefined -> (N, out).
Var linear(const Var& x, const Var& weight, const Var& bias);

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t pad = 0;  // zero rows above and below, zero columns left and right
  // When >= 0, these replace `pad` for the rows (pad_h) or the columns (pad_w): a 1x7 conv
  // that keeps the size sets pad_h = 0, pad_w = 3.
  int64_t pad_h = -1, pad_w = -1;
};
// x (N, Cin, H, W), weight (Cout, Cin, KH, KW), bias (Cout) or undefined.
Var conv2d(const Var& x, const Var& weight, const Var& bias, Conv2dOptions options);
// leaky_relu(conv2d(x, weight, bias), slope) as one op (slope >= 0; 0 is relu): the same
// values, computed in place, and only the activated output is kept for the backward (which
// reads the pre-activation's sign from it), so a layer stores one tensor instead of two.
// Differentiable twice, like the pair it replaces.
Var conv2d_leaky_relu(const Var& x, const Var& weight, const Var& bias, Conv2dOptions options,
                      Scalar slope);

struct ConvTranspose2dOptions {
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t output_pad = 0;
};
// x (N, Cin, H, W), weight (Cin, Cout, KH, KW) (PyTorch layout), bias (Cout) or undefined ->
// (N, Cout, (H-1)*stride - 2*pad + KH + output_pad, ...). The bias is added in place.
Var conv_transpose2d(const Var& x, const Var& weight, const Var& bias,
                     ConvTranspose2dOptions options);

// The two gradients of conv2d as differentiable ops (they and conv2d form a closed family).
// conv2d_input_grad: dy (N, Cout, Hout, Wout), weight -> dx (N, Cin, H, W) for conv dims d.
Var conv2d_input_grad(const Var& dy, const Var& weight, const kernels::Conv2dDims& d);
// conv2d_weight_grad: x (N, Cin, H, W), dy -> dweight (Cout, Cin, KH, KW).
Var conv2d_weight_grad(const Var& x, const Var& dy, const kernels::Conv2dDims& d);

struct BatchNormState {
  Tensor* running_mean = nullptr;  // (C), updated in training mode when not null
  Tensor* running_var = nullptr;   // (C), unbiased batch variance, as in PyTorch
  Scalar momentum = 0.1;
  Scalar eps = 1e-5;
};
// x (N, C, H, W) or (N, C); gamma, beta (C) or undefined (no affine).
// training: normalises with batch statistics (biased variance) and updates running stats;
// its backward is fused and cannot itself be differentiated. It keeps no copy of its output
// or of the normalised input: the backward recomputes x-hat from x.
// eval: uses running statistics; fully differentiable.
Var batch_norm(const Var& x, const Var& gamma, const Var& beta, bool training,
               const BatchNormState& state);
// relu(batch_norm(...)); in training mode one fused op whose only stored tensor is its output.
Var batch_norm_relu(const Var& x, const Var& gamma, const Var& beta, bool training,
                    const BatchNormState& state);

// Normalises each sample over all non-batch dimensions; gamma, beta have the shape of one
// sample (x.shape without dim 0) or are undefined. Fully differentiable.
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Scalar eps = 1e-5);

// 3x3 convs (stride 1, pad 1) fused with 2x resampling (ops_resample.cpp). The resampling is
// folded into the kernel, so the conv runs at the low resolution: the same values as the pair
// they replace up to float rounding, with fewer multiply-adds. Differentiable twice.
// conv2d(upsample_nearest(x, 2), w, b): the four output phases are one conv of x with 2x2
// kernels (16 instead of 36 multiply-adds per input pixel and channel pair, plus a one-pixel
// border): x (N, Cin, H, W), weight (Cout, Cin, 3, 3) -> (N, Cout, 2H, 2W).
Var upsample2_conv3x3(const Var& x, const Var& weight, const Var& bias);
// avg_pool2d(conv2d(x, w, b), 2): one 4x4 stride-2 conv (16 instead of 36 multiply-adds per
// output pixel and channel pair): x (N, Cin, H, W), H and W even -> (N, Cout, H/2, W/2).
Var conv3x3_avgpool2(const Var& x, const Var& weight, const Var& bias);

// Non-overlapping k x k pooling (kernel = stride = k); H, W must be multiples of k.
Var sum_pool2d(const Var& x, int64_t k);
Var avg_pool2d(const Var& x, int64_t k);
Var upsample_nearest(const Var& x, int64_t k);  // (N, C, H, W) -> (N, C, kH, kW)
// add(h, upsample_nearest(s, k)) without the upsampled tensor: h (N, C, kH, kW), s (N, C, H, W)
// (a ResNet generator block's sum with its shortcut computed on the small side).
Var add_upsampled_nearest(const Var& h, const Var& s, int64_t k);

// Windowed pooling as in PyTorch (ops_pool.cpp): x (N, C, H, W) -> (N, C, Hout, Wout) with
// Hout = (H + 2*pad - kernel) / stride + 1 rounded down (ceil_mode=False), the same for W;
// 0 <= pad <= kernel / 2. Forward only: differentiating through them throws.
struct Pool2dOptions {
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t pad = 0;
  // avg_pool2d only: whether padded positions count in the divisor (PyTorch's default) or
  // only the window's positions inside the input do (TensorFlow's average pool).
  bool count_include_pad = true;
};
// The window's maximum over positions inside the input (padding never wins; NaN propagates).
Var max_pool2d(const Var& x, Pool2dOptions options);
Var avg_pool2d(const Var& x, Pool2dOptions options);
// (N, C, H, W) -> (N, C): the mean over each channel's H*W values (adaptive_avg_pool2d to
// 1x1, then flattened). Differentiable.
Var global_avg_pool2d(const Var& x);
// (N, C, H, W) -> (N, C, height, width), bilinear with align_corners=False, as
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False) for a target size:
// source coordinate (i + 0.5) * H / height - 0.5, clamped at 0 (kernels/pool_ops.h).
// Forward only.
Var resize_bilinear(const Var& x, int64_t height, int64_t width);

// Concatenation along dim 1 of tensors that agree in every other dimension.
Var concat_channels(const std::vector<Var>& xs);
// x[:, start:start+count] along dim 1, and its adjoint (zeros outside, size total).
Var slice_channels(const Var& x, int64_t start, int64_t count);
Var pad_channels(const Var& x, int64_t start, int64_t total);

// Multiply-adds done by the GEMM-based ops (matmul, conv2d and its gradients) on this thread
// since the counter was last set to zero: the FLOP count of a model is 2x this.
int64_t& mac_counter();

// Shape helpers.
Shape broadcast_shape(const Shape& a, const Shape& b);

}  // namespace sngan
