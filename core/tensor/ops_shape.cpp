// Reductions, reshapes, matmul and linear.
#include <algorithm>

#include "core/tensor/ops.h"

namespace sngan {

int64_t& mac_counter() {
  thread_local int64_t count = 0;
  return count;
}

Var sum(const Var& x) { return reshape(sum_to(x, Shape{}), Shape{1}); }

Var mean(const Var& x) { return mul_scalar(sum(x), Scalar(1) / static_cast<Scalar>(x.numel())); }

namespace {
// The shape x would have after reducing `axes` with keepdim; also the reduced element count.
Shape reduced_shape(const Shape& xs, const std::vector<int>& axes, bool keepdim,
                    Shape* kept, int64_t* count) {
  std::vector<int64_t> keep = xs.to_vector(), drop;
  std::vector<bool> reduce(static_cast<size_t>(xs.ndim()), false);
  for (int a : axes) {
    int k = a < 0 ? a + xs.ndim() : a;
    SNGAN_CHECK(k >= 0 && k < xs.ndim(), "expected reduction axes in [", -xs.ndim(), ", ",
                xs.ndim(), ") for shape ", xs.str(), ", got ", a);
    reduce[static_cast<size_t>(k)] = true;
  }
  *count = 1;
  for (int d = 0; d < xs.ndim(); ++d) {
    if (reduce[static_cast<size_t>(d)]) {
      *count *= keep[static_cast<size_t>(d)];
      keep[static_cast<size_t>(d)] = 1;
    } else {
      drop.push_back(xs[d]);
    }
  }
  *kept = Shape(keep);
  return keepdim ? Shape(keep) : Shape(drop);
}
}  // namespace

Var sum(const Var& x, const std::vector<int>& axes, bool keepdim) {
  Shape kept;
  int64_t count;
  Shape out = reduced_shape(x.shape(), axes, keepdim, &kept, &count);
  return reshape(sum_to(x, kept), out);
}

Var mean(const Var& x, const std::vector<int>& axes, bool keepdim) {
  Shape kept;
  int64_t count;
  reduced_shape(x.shape(), axes, keepdim, &kept, &count);
  return mul_scalar(sum(x, axes, keepdim), Scalar(1) / static_cast<Scalar>(count));
}

Var reshape(const Var& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Tensor v = x.value().reshape(shape);
  const Shape sx = x.shape();
  return Var::make_op(std::move(v), "reshape", {x},
                      [sx](const Var& g) { return std::vector<Var>{reshape(g, sx)}; });
}

Var flatten(const Var& x) {
  SNGAN_CHECK(x.shape().ndim() >= 1, "flatten: expected at least one dimension");
  return reshape(x, Shape{x.dim(0), x.numel() / std::max<int64_t>(x.dim(0), 1)});
}

Var matmul(const Var& a, const Var& b, bool trans_a, bool trans_b) {
  SNGAN_CHECK(a.shape().ndim() == 2 && b.shape().ndim() == 2,
              "matmul: expected two matrices, got ", a.shape().str(), " and ", b.shape().str());
  const int64_t M = trans_a ? a.dim(1) : a.dim(0), K = trans_a ? a.dim(0) : a.dim(1);
  const int64_t Kb = trans_b ? b.dim(1) : b.dim(0), N = trans_b ? b.dim(0) : b.dim(1);
  SNGAN_CHECK(K == Kb, "matmul: inner dimensions differ: ", a.shape().str(),
              trans_a ? "^T" : "", " times ", b.shape().str(), trans_b ? "^T" : "");
  Tensor y = Tensor::empty(Shape{M, N});
  mac_counter() += M * K * N;
  kernels::matmul(y.data(), a.value().data(), b.value().data(), M, K, N, trans_a, trans_b, false);
  return Var::make_op(std::move(y), "matmul", {a, b}, [a, b, trans_a, trans_b](const Var& g) {
    Var ga, gb;
    if (a.requires_grad()) ga = trans_a ? matmul(b, g, trans_b, true) : matmul(g, b, false, !trans_b);
    if (b.requires_grad()) gb = trans_b ? matmul(g, a, true, trans_a) : matmul(a, g, !trans_a, false);
    return std::vector<Var>{ga, gb};
  });
}

Var transpose2d(const Var& x) {
  SNGAN_CHECK(x.shape().ndim() == 2, "transpose2d: expected a matrix, got ", x.shape().str());
  Tensor y = Tensor::empty(Shape{x.dim(1), x.dim(0)});
  y.matrix(x.dim(1), x.dim(0)) = x.value().matrix(x.dim(0), x.dim(1)).transpose();
  return Var::make_op(std::move(y), "transpose2d", {x},
                      [](const Var& g) { return std::vector<Var>{transpose2d(g)}; });
}

Var linear(const Var& x, const Var& weight, const Var& bias) {
  SNGAN_CHECK(x.shape().ndim() == 2 && weight.shape().ndim() == 2 && x.dim(1) == weight.dim(1),
              "linear: expected x (N, in) and weight (out, in), got ", x.shape().str(), " and ",
              weight.shape().str());
  Var y = matmul(x, weight, false, true);
  if (!bias.defined()) return y;
  SNGAN_CHECK(bias.shape() == Shape{weight.dim(0)}, "linear: expected bias of shape (",
              weight.dim(0), "), got ", bias.shape().str());
  return add(y, bias);
}

}  // namespace sngan
