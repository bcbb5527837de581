// Convolutions (a closed family of three differentiable ops), pooling, upsampling, channel
// concatenation.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "core/tensor/ops.h"

namespace sngan {

using kernels::Conv2dDims;

namespace {

void check_4d(const Var& x, const char* op, const char* what) {
  SNGAN_CHECK(x.shape().ndim() == 4, op, ": expected ", what, " of shape (N, C, H, W), got ",
              x.shape().str());
}

// Checks that tensors match dims d (batch taken from the tensors).
Conv2dDims with_batch(Conv2dDims d, int64_t n) {
  d.N = n;
  return d;
}

// y (+)= bias per channel of (N, C, P).
void add_channel_bias(Scalar* y, const Scalar* bias, int64_t N, int64_t C, int64_t P) {
#pragma omp parallel for schedule(static) if (N * C * P > 65536)
  for (int64_t nc = 0; nc < N * C; ++nc) {
    Scalar* row = y + nc * P;
    const Scalar bc = bias[nc % C];
    for (int64_t i = 0; i < P; ++i) row[i] += bc;
  }
}

// y = conv(x, w) [+ b] with explicit dims, then leaky_relu(., *slope) in place if slope is set.
Var conv2d_with_dims(const Var& x, const Var& w, const Var& b, const Conv2dDims& d,
                     std::optional<Scalar> slope = std::nullopt) {
  SNGAN_CHECK(x.shape() == (Shape{d.N, d.Cin, d.H, d.W}), "conv2d: expected input ",
              Shape({d.N, d.Cin, d.H, d.W}).str(), ", got ", x.shape().str());
  SNGAN_CHECK(w.shape() == (Shape{d.Cout, d.Cin, d.KH, d.KW}), "conv2d: expected weight ",
              Shape({d.Cout, d.Cin, d.KH, d.KW}).str(), ", got ", w.shape().str());
  if (b.defined())
    SNGAN_CHECK(b.shape() == Shape{d.Cout}, "conv2d: expected bias of shape (", d.Cout,
                "), got ", b.shape().str());
  Tensor y = Tensor::empty(Shape{d.N, d.Cout, d.Hout, d.Wout});
  mac_counter() += kernels::conv_multiply_adds(d, kernels::ConvProduct::kForward);
  kernels::conv2d_forward(y.data(), x.value().data(), w.value().data(),
                          b.defined() ? b.value().data() : nullptr, d, false);
  Tensor activated;  // the output, when it doubles as the activation's mask
  if (slope) {
    Scalar* p = y.data();
    const Scalar s = *slope;
    const int64_t n = y.numel();
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) p[i] = std::max(p[i], Scalar(0)) + s * std::min(p[i], Scalar(0));
    activated = y;
  }
  std::vector<Var> inputs{x, w};
  if (b.defined()) inputs.push_back(b);
  const char* op = slope ? "conv2d_leaky_relu" : "conv2d";
  return Var::make_op(std::move(y), op, std::move(inputs), [x, w, b, d, slope, activated](const Var& gy) {
    // y > 0 exactly where the pre-activation is > 0 (slope >= 0), so y serves as the mask.
    const Var g = slope ? leaky_relu_grad(gy, Var(activated), *slope) : gy;
    std::vector<Var> grads{x.requires_grad() ? conv2d_input_grad(g, w, d) : Var(),
                           w.requires_grad() ? conv2d_weight_grad(x, g, d) : Var()};
    if (b.defined())
      grads.push_back(b.requires_grad() ? reshape(sum_to(g, Shape{1, d.Cout, 1, 1}), Shape{d.Cout})
                                        : Var());
    return grads;
  });
}

}  // namespace

namespace {
Conv2dDims checked_conv2d_dims(const Var& x, const Var& weight, Conv2dOptions o) {
  check_4d(x, "conv2d", "input");
  check_4d(weight, "conv2d", "weight");
  SNGAN_CHECK(x.dim(1) == weight.dim(1), "conv2d: input has ", x.dim(1),
              " channels but the weight expects ", weight.dim(1));
  return kernels::make_conv2d_dims(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0),
                                   weight.dim(2), weight.dim(3), o.stride,
                                   o.pad_h >= 0 ? o.pad_h : o.pad, o.pad_w >= 0 ? o.pad_w : o.pad);
}
}  // namespace

Var conv2d(const Var& x, const Var& weight, const Var& bias, Conv2dOptions o) {
  return conv2d_with_dims(x, weight, bias, checked_conv2d_dims(x, weight, o));
}

Var conv2d_leaky_relu(const Var& x, const Var& weight, const Var& bias, Conv2dOptions o,
                      Scalar slope) {
  SNGAN_CHECK(slope >= 0, "conv2d_leaky_relu: expected slope >= 0, got ", slope);
  return conv2d_with_dims(x, weight, bias, checked_conv2d_dims(x, weight, o), slope);
}

Var conv2d_input_grad(const Var& dy, const Var& w, const Conv2dDims& dims) {
  const Conv2dDims d = with_batch(dims, dy.dim(0));
  SNGAN_CHECK(dy.shape() == (Shape{d.N, d.Cout, d.Hout, d.Wout}),
              "conv2d_input_grad: expected dy ", Shape({d.N, d.Cout, d.Hout, d.Wout}).str(),
              ", got ", dy.shape().str());
  Tensor dx = Tensor::empty(Shape{d.N, d.Cin, d.H, d.W});
  mac_counter() += kernels::conv_multiply_adds(d, kernels::ConvProduct::kInputGradient);
  kernels::conv2d_backward_input(dx.data(), dy.value().data(), w.value().data(), d, false);
  return Var::make_op(std::move(dx), "conv2d_input_grad", {dy, w}, [dy, w, d](const Var& g) {
    return std::vector<Var>{dy.requires_grad() ? conv2d_with_dims(g, w, Var(), d) : Var(),
                            w.requires_grad() ? conv2d_weight_grad(g, dy, d) : Var()};
  });
}

Var conv2d_weight_grad(const Var& x, const Var& dy, const Conv2dDims& dims) {
  const Conv2dDims d = with_batch(dims, x.dim(0));
  Tensor dw = Tensor::empty(Shape{d.Cout, d.Cin, d.KH, d.KW});
  mac_counter() += kernels::conv_multiply_adds(d, kernels::ConvProduct::kWeightGradient);
  kernels::conv2d_backward_weight(dw.data(), dy.value().data(), x.value().data(), d, false);
  return Var::make_op(std::move(dw), "conv2d_weight_grad", {x, dy}, [x, dy, d](const Var& g) {
    return std::vector<Var>{x.requires_grad() ? conv2d_input_grad(dy, g, d) : Var(),
                            dy.requires_grad() ? conv2d_with_dims(x, g, Var(), d) : Var()};
  });
}

Var conv_transpose2d(const Var& x, const Var& weight, const Var& bias, ConvTranspose2dOptions o) {
  check_4d(x, "conv_transpose2d", "input");
  check_4d(weight, "conv_transpose2d", "weight");
  SNGAN_CHECK(x.dim(1) == weight.dim(0), "conv_transpose2d: input has ", x.dim(1),
              " channels but the weight (Cin, Cout, KH, KW) expects ", weight.dim(0));
  SNGAN_CHECK(o.output_pad >= 0 && o.output_pad < o.stride,
              "conv_transpose2d: expected 0 <= output_pad < stride, got ", o.output_pad);
  const int64_t H = (x.dim(2) - 1) * o.stride - 2 * o.pad + weight.dim(2) + o.output_pad;
  const int64_t W = (x.dim(3) - 1) * o.stride - 2 * o.pad + weight.dim(3) + o.output_pad;
  SNGAN_CHECK(H > 0 && W > 0, "conv_transpose2d: output would be empty for input ",
              x.shape().str());
  // The conv whose input gradient this layer computes: input (N, Cout, H, W) -> (N, Cin, h, w).
  Conv2dDims d = kernels::make_conv2d_dims(x.dim(0), weight.dim(1), H, W, weight.dim(0),
                                           weight.dim(2), weight.dim(3), o.stride, o.pad);
  SNGAN_CHECK(d.Hout == x.dim(2) && d.Wout == x.dim(3), "conv_transpose2d: inconsistent sizes");
  if (!bias.defined()) return conv2d_input_grad(x, weight, d);
  const int64_t C = weight.dim(1);
  SNGAN_CHECK(bias.shape() == Shape{C}, "conv_transpose2d: expected bias of shape (", C, "), got ",
              bias.shape().str());
  // conv2d_input_grad plus the bias, added in place.
  Tensor y = Tensor::empty(Shape{d.N, C, H, W});
  mac_counter() += kernels::conv_multiply_adds(d, kernels::ConvProduct::kInputGradient);
  kernels::conv2d_backward_input(y.data(), x.value().data(), weight.value().data(), d, false);
  add_channel_bias(y.data(), bias.value().data(), d.N, C, H * W);
  return Var::make_op(std::move(y), "conv_transpose2d", {x, weight, bias}, [x, weight, bias, d, C](const Var& g) {
    return std::vector<Var>{
        x.requires_grad() ? conv2d_with_dims(g, weight, Var(), d) : Var(),
        weight.requires_grad() ? conv2d_weight_grad(g, x, d) : Var(),
        bias.requires_grad() ? reshape(sum_to(g, Shape{1, C, 1, 1}), Shape{C}) : Var()};
  });
}

Var sum_pool2d(const Var& x, int64_t k) {
  check_4d(x, "sum_pool2d", "input");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  SNGAN_CHECK(k >= 1 && H % k == 0 && W % k == 0, "pooling: expected H and W divisible by ", k,
              ", got ", x.shape().str());
  const int64_t Ho = H / k, Wo = W / k;
  Tensor y = Tensor::zeros(Shape{N, C, Ho, Wo});
  const Scalar* px = x.value().data();
  Scalar* py = y.data();
#pragma omp parallel for schedule(static) if (N * C > 16)
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t h = 0; h < H; ++h) {
      Scalar* __restrict out = py + (nc * Ho + h / k) * Wo;
      const Scalar* __restrict in = px + (nc * H + h) * W;
      for (int64_t j = 0; j < Wo; ++j)
        for (int64_t q = 0; q < k; ++q) out[j] += in[j * k + q];
    }
  return Var::make_op(std::move(y), "sum_pool2d", {x},
                      [k](const Var& g) { return std::vector<Var>{upsample_nearest(g, k)}; });
}

Var avg_pool2d(const Var& x, int64_t k) {
  return mul_scalar(sum_pool2d(x, k), Scalar(1) / static_cast<Scalar>(k * k));
}

Var upsample_nearest(const Var& x, int64_t k) {
  check_4d(x, "upsample_nearest", "input");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  Tensor y = Tensor::empty(Shape{N, C, H * k, W * k});
  const Scalar* px = x.value().data();
  Scalar* py = y.data();
  const int64_t Ho = H * k, Wo = W * k;
#pragma omp parallel for schedule(static) if (N * C > 16)
  for (int64_t nc = 0; nc < N * C; ++nc)
    for (int64_t h = 0; h < Ho; ++h) {
      Scalar* __restrict out = py + (nc * Ho + h) * Wo;
      const Scalar* __restrict in = px + (nc * H + h / k) * W;
      for (int64_t j = 0; j < W; ++j) std::fill_n(out + j * k, k, in[j]);
    }
  return Var::make_op(std::move(y), "upsample_nearest", {x},
                      [k](const Var& g) { return std::vector<Var>{sum_pool2d(g, k)}; });
}

Var add_upsampled_nearest(const Var& h, const Var& s, int64_t k) {
  check_4d(h, "add_upsampled_nearest", "h");
  check_4d(s, "add_upsampled_nearest", "s");
  const int64_t N = s.dim(0), C = s.dim(1), H = s.dim(2), W = s.dim(3);
  SNGAN_CHECK(k >= 1 && h.shape() == (Shape{N, C, H * k, W * k}),
              "add_upsampled_nearest: expected h of shape ", Shape({N, C, H * k, W * k}).str(),
              " for s ", s.shape().str(), " upsampled ", k, "x, got ", h.shape().str());
  Tensor y = Tensor::empty(h.shape());
  const Scalar* ph = h.value().data();
  const Scalar* ps = s.value().data();
  Scalar* py = y.data();
  const int64_t Ho = H * k, Wo = W * k;
#pragma omp parallel if (N * C > 16)
  {
    std::vector<Scalar> up(static_cast<size_t>(Wo));  // a row of s, upsampled
#pragma omp for schedule(static)
    for (int64_t nc = 0; nc < N * C; ++nc)
      for (int64_t r = 0; r < Ho; ++r) {
        if (r % k == 0) {
          const Scalar* srow = ps + (nc * H + r / k) * W;
          for (int64_t j = 0; j < W; ++j) std::fill_n(up.data() + j * k, k, srow[j]);
        }
        const int64_t o = (nc * Ho + r) * Wo;
        for (int64_t w = 0; w < Wo; ++w) py[o + w] = ph[o + w] + up[static_cast<size_t>(w)];
      }
  }
  return Var::make_op(std::move(y), "add_upsampled_nearest", {h, s}, [k](const Var& g) {
    return std::vector<Var>{g, sum_pool2d(g, k)};
  });
}

namespace {
// Copies `count` channels between two NCHW-like tensors with `inner` = H*W elements per channel.
void copy_channels(Scalar* dst, int64_t dst_c, int64_t dst_start, const Scalar* src, int64_t src_c,
                   int64_t src_start, int64_t count, int64_t n, int64_t inner) {
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + (i * dst_c + dst_start) * inner, src + (i * src_c + src_start) * inner,
                static_cast<size_t>(count * inner) * sizeof(Scalar));
}
int64_t inner_size(const Shape& s) {
  int64_t inner = 1;
  for (int d = 2; d < s.ndim(); ++d) inner *= s[d];
  return inner;
}
}  // namespace

Var slice_channels(const Var& x, int64_t start, int64_t count) {
  const Shape& s = x.shape();
  SNGAN_CHECK(s.ndim() >= 2 && start >= 0 && count >= 0 && start + count <= s[1],
              "slice_channels: expected [", start, ", ", start + count, ") within ", s.str());
  Shape out = s;
  out[1] = count;
  Tensor y = Tensor::empty(out);
  copy_channels(y.data(), count, 0, x.value().data(), s[1], start, count, s[0], inner_size(s));
  const int64_t total = s[1];
  return Var::make_op(std::move(y), "slice_channels", {x}, [start, total](const Var& g) {
    return std::vector<Var>{pad_channels(g, start, total)};
  });
}

Var pad_channels(const Var& x, int64_t start, int64_t total) {
  const Shape& s = x.shape();
  SNGAN_CHECK(s.ndim() >= 2 && start >= 0 && start + s[1] <= total,
              "pad_channels: expected ", s[1], " channels at ", start, " to fit in ", total);
  Shape out = s;
  out[1] = total;
  Tensor y = Tensor::zeros(out);
  copy_channels(y.data(), total, start, x.value().data(), s[1], 0, s[1], s[0], inner_size(s));
  const int64_t count = s[1];
  return Var::make_op(std::move(y), "pad_channels", {x}, [start, count](const Var& g) {
    return std::vector<Var>{slice_channels(g, start, count)};
  });
}

Var concat_channels(const std::vector<Var>& xs) {
  SNGAN_CHECK(!xs.empty(), "concat_channels: expected at least one tensor");
  Shape out = xs[0].shape();
  SNGAN_CHECK(out.ndim() >= 2, "concat_channels: expected tensors with a channel dimension");
  int64_t total = 0;
  for (const Var& x : xs) {
    Shape s = x.shape();
    SNGAN_CHECK(s.ndim() == out.ndim(), "concat_channels: ranks differ: ", s.str(), " vs ",
                out.str());
    s[1] = out[1];
    SNGAN_CHECK(s == out, "concat_channels: shapes differ outside dim 1: ", x.shape().str(),
                " vs ", xs[0].shape().str());
    total += x.dim(1);
  }
  out[1] = total;
  Tensor y = Tensor::empty(out);
  const int64_t inner = inner_size(out);
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const Var& x : xs) {
    copy_channels(y.data(), total, start, x.value().data(), x.dim(1), 0, x.dim(1), out[0], inner);
    starts.push_back(start);
    start += x.dim(1);
  }
  std::vector<int64_t> counts;
  for (const Var& x : xs) counts.push_back(x.dim(1));
  return Var::make_op(std::move(y), "concat_channels", xs, [starts, counts](const Var& g) {
    std::vector<Var> grads;
    for (size_t i = 0; i < starts.size(); ++i) grads.push_back(slice_channels(g, starts[i], counts[i]));
    return grads;
  });
}

}  // namespace sngan
