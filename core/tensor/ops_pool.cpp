// Windowed pooling with stride and padding, global average pooling and bilinear resizing
// (kernels in kernels/pool_ops.cpp). Used by the evaluation networks, which run without a
// graph: max_pool2d, the windowed avg_pool2d and resize_bilinear have no backward.
#include "core/tensor/kernels/pool_ops.h"
#include "core/tensor/ops.h"

namespace sngan {

namespace {

void check_image(const Var& x, const char* op) {
  SNGAN_CHECK(x.defined() && x.shape().ndim() == 4, op, ": expected input of shape (N, C, H, W), got ",
              x.defined() ? x.shape().str() : std::string("an undefined tensor"));
}

kernels::Pool2dDims pool_dims(const Var& x, const Pool2dOptions& o, const char* op) {
  check_image(x, op);
  try {
    return kernels::make_pool2d_dims(x.dim(0) * x.dim(1), x.dim(2), x.dim(3), o.kernel, o.stride,
                                     o.pad);
  } catch (const Error& e) {
    throw Error(std::string(op) + " on " + x.shape().str() + ": " + e.what());
  }
}

// An op whose backward is not implemented: differentiating through it throws
// "op '<name>' has no backward".
Var forward_only(Tensor y, const char* op, const Var& x) {
  return Var::make_op(std::move(y), op, {x}, nullptr);
}

}  // namespace

Var max_pool2d(const Var& x, Pool2dOptions o) {
  const kernels::Pool2dDims d = pool_dims(x, o, "max_pool2d");
  Tensor y = Tensor::empty(Shape{x.dim(0), x.dim(1), d.Hout, d.Wout});
  kernels::max_pool2d_forward(y.data(), x.value().data(), d);
  return forward_only(std::move(y), "max_pool2d", x);
}

Var avg_pool2d(const Var& x, Pool2dOptions o) {
  const kernels::Pool2dDims d = pool_dims(x, o, "avg_pool2d");
  Tensor y = Tensor::empty(Shape{x.dim(0), x.dim(1), d.Hout, d.Wout});
  kernels::avg_pool2d_forward(y.data(), x.value().data(), d, o.count_include_pad);
  return forward_only(std::move(y), "avg_pool2d", x);
}

Var global_avg_pool2d(const Var& x) {
  check_image(x, "global_avg_pool2d");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  SNGAN_CHECK(H * W > 0, "global_avg_pool2d: expected a non-empty image, got ", x.shape().str());
  Tensor y = Tensor::empty(Shape{N, C});
  kernels::global_avg_pool_forward(y.data(), x.value().data(), N * C, H * W);
  return Var::make_op(std::move(y), "global_avg_pool2d", {x}, [N, C, H, W](const Var& g) {
    const Var spread = broadcast_to(reshape(g, Shape{N, C, 1, 1}), Shape{N, C, H, W});
    return std::vector<Var>{mul_scalar(spread, Scalar(1) / static_cast<Scalar>(H * W))};
  });
}

Var resize_bilinear(const Var& x, int64_t height, int64_t width) {
  check_image(x, "resize_bilinear");
  SNGAN_CHECK(height > 0 && width > 0, "resize_bilinear: expected a positive output size, got ",
              height, "x", width);
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  SNGAN_CHECK(H > 0 && W > 0, "resize_bilinear: expected a non-empty input, got ", x.shape().str());
  Tensor y = Tensor::empty(Shape{N, C, height, width});
  kernels::resize_bilinear_forward(y.data(), x.value().data(), N * C, H, W, height, width);
  return forward_only(std::move(y), "resize_bilinear", x);
}

}  // namespace sngan
