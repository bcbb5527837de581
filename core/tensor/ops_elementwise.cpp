// Elementwise ops with NumPy broadcasting, unary activations, and the broadcast/sum_to pair.
#include <algorithm>
#include <cmath>

#include "core/tensor/ops.h"
#include "core/tensor/ordered_sum.h"

namespace sngan {

namespace {

// Strides of `in` seen from an output of rank r (0 where `in` is stretched).
void broadcast_strides(const Shape& in, const Shape& out, int64_t* strides) {
  const int r = out.ndim(), offset = r - in.ndim();
  int64_t s = 1;
  for (int d = r - 1; d >= 0; --d) {
    int k = d - offset;
    int64_t size = k >= 0 ? in[k] : 1;
    strides[d] = size == 1 ? 0 : s;
    s *= size;
  }
}

// out[i] = f(a[ia(i)], b[ib(i)]) over the broadcast shape.
template <typename F>
Tensor broadcast_binary(const Tensor& a, const Tensor& b, F f) {
  const Shape os = broadcast_shape(a.shape(), b.shape());
  Tensor out = Tensor::empty(os);
  Scalar* __restrict o = out.data();
  const Scalar* __restrict pa = a.data();
  const Scalar* __restrict pb = b.data();
  const int64_t n = out.numel();
  if (a.shape() == b.shape()) {
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i], pb[i]);
    return out;
  }
  if (b.numel() == 1 && a.numel() == n) {
    const Scalar vb = pb[0];
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) o[i] = f(pa[i], vb);
    return out;
  }
  const int r = os.ndim();
  if (r == 0) {
    o[0] = f(pa[0], pb[0]);
    return out;
  }
  int64_t sa[Shape::kMaxDims], sb[Shape::kMaxDims];
  broadcast_strides(a.shape(), os, sa);
  broadcast_strides(b.shape(), os, sb);
  const int64_t inner = os[r - 1];
  const int64_t rows = n / std::max<int64_t>(inner, 1);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, oa = 0, ob = 0;
    for (int d = r - 2; d >= 0; --d) {
      int64_t idx = rem % os[d];
      rem /= os[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
    const int64_t ia = sa[r - 1], ib = sb[r - 1];
    Scalar* orow = o + row * inner;
    for (int64_t j = 0; j < inner; ++j) orow[j] = f(pa[oa + j * ia], pb[ob + j * ib]);
  }
  return out;
}

// x (broadcastable to `shape`) stretched to `shape`.
Tensor broadcast_value(const Tensor& x, const Shape& shape) {
  Tensor out = Tensor::empty(shape);
  Scalar* __restrict o = out.data();
  const Scalar* __restrict px = x.data();
  const int64_t n = out.numel();
  if (x.numel() == 1) {
    const Scalar v = px[0];
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) o[i] = v;
    return out;
  }
  const int r = shape.ndim();
  int64_t sx[Shape::kMaxDims];
  broadcast_strides(x.shape(), shape, sx);
  const int64_t inner = shape[r - 1], rows = n / std::max<int64_t>(inner, 1);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, ox = 0;
    for (int d = r - 2; d >= 0; --d) {
      ox += (rem % shape[d]) * sx[d];
      rem /= shape[d];
    }
    Scalar* orow = o + row * inner;
    if (sx[r - 1] == 0) {
      const Scalar v = px[ox];
      for (int64_t j = 0; j < inner; ++j) orow[j] = v;
    } else {
      for (int64_t j = 0; j < inner; ++j) orow[j] = px[ox + j];
    }
  }
  return out;
}

template <typename F>
Tensor map_unary(const Tensor& x, F f) {
  Tensor out = Tensor::empty(x.shape());
  const Scalar* __restrict px = x.data();
  Scalar* __restrict o = out.data();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) o[i] = f(px[i]);
  return out;
}

// The value of y = f(x) as a Var for use in a backward closure: recomputed through the graph
// when the backward is being recorded (create_graph), else the stored value.
template <typename Recompute>
Var output_for_backward(const Tensor& stored, Recompute recompute) {
  return grad_enabled() ? recompute() : Var(stored);
}

}  // namespace

Shape broadcast_shape(const Shape& a, const Shape& b) {
  const int r = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> dims(static_cast<size_t>(r));
  for (int d = 0; d < r; ++d) {
    int ka = d - (r - a.ndim()), kb = d - (r - b.ndim());
    int64_t da = ka >= 0 ? a[ka] : 1, db = kb >= 0 ? b[kb] : 1;
    SNGAN_CHECK(da == db || da == 1 || db == 1, "cannot broadcast shapes ", a.str(), " and ",
                b.str(), ": expected equal sizes or 1 in every dimension");
    dims[static_cast<size_t>(d)] = std::max(da, db);
  }
  return Shape(dims);
}

Var add(const Var& a, const Var& b) {
  Tensor v = broadcast_binary(a.value(), b.value(), [](Scalar x, Scalar y) { return x + y; });
  const Shape sa = a.shape(), sb = b.shape();
  return Var::make_op(std::move(v), "add", {a, b}, [sa, sb](const Var& g) {
    return std::vector<Var>{sum_to(g, sa), sum_to(g, sb)};
  });
}

Var sub(const Var& a, const Var& b) {
  Tensor v = broadcast_binary(a.value(), b.value(), [](Scalar x, Scalar y) { return x - y; });
  const Shape sa = a.shape(), sb = b.shape();
  return Var::make_op(std::move(v), "sub", {a, b}, [sa, sb](const Var& g) {
    return std::vector<Var>{sum_to(g, sa), neg(sum_to(g, sb))};
  });
}

Var mul(const Var& a, const Var& b) {
  Tensor v = broadcast_binary(a.value(), b.value(), [](Scalar x, Scalar y) { return x * y; });
  return Var::make_op(std::move(v), "mul", {a, b}, [a, b](const Var& g) {
    Var ga = a.requires_grad() ? sum_to(mul(g, b), a.shape()) : Var();
    Var gb = b.requires_grad() ? sum_to(mul(g, a), b.shape()) : Var();
    return std::vector<Var>{ga, gb};
  });
}

Var div(const Var& a, const Var& b) {
  Tensor v = broadcast_binary(a.value(), b.value(), [](Scalar x, Scalar y) { return x / y; });
  return Var::make_op(std::move(v), "div", {a, b}, [a, b](const Var& g) {
    Var ga = a.requires_grad() ? sum_to(div(g, b), a.shape()) : Var();
    Var gb = b.requires_grad() ? sum_to(neg(div(mul(g, a), square(b))), b.shape()) : Var();
    return std::vector<Var>{ga, gb};
  });
}

Var add_scalar(const Var& a, Scalar s) {
  Tensor v = map_unary(a.value(), [s](Scalar x) { return x + s; });
  return Var::make_op(std::move(v), "add_scalar", {a},
                      [](const Var& g) { return std::vector<Var>{g}; });
}

Var mul_scalar(const Var& a, Scalar s) {
  Tensor v = map_unary(a.value(), [s](Scalar x) { return x * s; });
  return Var::make_op(std::move(v), "mul_scalar", {a},
                      [s](const Var& g) { return std::vector<Var>{mul_scalar(g, s)}; });
}

Var neg(const Var& a) { return mul_scalar(a, Scalar(-1)); }

Var rsub_scalar(Scalar s, const Var& a) { return add_scalar(neg(a), s); }

Var leaky_relu_grad(const Var& g, const Var& x, Scalar slope) {
  Tensor v = broadcast_binary(g.value(), x.value(),
                              [slope](Scalar gv, Scalar xv) {
                                // branch-free select, so the loop vectorises
                                const Scalar pos = static_cast<Scalar>(xv > 0);
                                return gv * (slope + (Scalar(1) - slope) * pos);
                              });
  SNGAN_CHECK(v.shape() == g.shape(), "leaky_relu_grad: expected g and x of one shape, got ",
              g.shape().str(), " and ", x.shape().str());
  return Var::make_op(std::move(v), "leaky_relu_grad", {g, x}, [x, slope](const Var& gg) {
    return std::vector<Var>{leaky_relu_grad(gg, x, slope), Var()};
  });
}

Var leaky_relu(const Var& x, Scalar slope) {
  Tensor v = map_unary(x.value(), [slope](Scalar t) {
    // branch-free, so the loop vectorises
    return std::max(t, Scalar(0)) + slope * std::min(t, Scalar(0));
  });
  return Var::make_op(std::move(v), "leaky_relu", {x}, [x, slope](const Var& g) {
    return std::vector<Var>{leaky_relu_grad(g, x, slope)};
  });
}

Var relu(const Var& x) { return leaky_relu(x, Scalar(0)); }

Var tanh(const Var& x) {
  Tensor v = map_unary(x.value(), [](Scalar t) { return std::tanh(t); });
  Tensor stored = v;
  return Var::make_op(std::move(v), "tanh", {x}, [x, stored](const Var& g) {
    Var y = output_for_backward(stored, [&] { return tanh(x); });
    return std::vector<Var>{mul(g, rsub_scalar(Scalar(1), square(y)))};
  });
}

Var sigmoid(const Var& x) {
  Tensor v = map_unary(x.value(), [](Scalar t) {
    return t >= 0 ? Scalar(1) / (Scalar(1) + std::exp(-t)) : std::exp(t) / (Scalar(1) + std::exp(t));
  });
  Tensor stored = v;
  return Var::make_op(std::move(v), "sigmoid", {x}, [x, stored](const Var& g) {
    Var y = output_for_backward(stored, [&] { return sigmoid(x); });
    return std::vector<Var>{mul(g, mul(y, rsub_scalar(Scalar(1), y)))};
  });
}

Var softplus(const Var& x) {
  Tensor v = map_unary(x.value(), [](Scalar t) {
    return std::max(t, Scalar(0)) + std::log1p(std::exp(-std::abs(t)));
  });
  return Var::make_op(std::move(v), "softplus", {x},
                      [x](const Var& g) { return std::vector<Var>{mul(g, sigmoid(x))}; });
}

Var square(const Var& x) {
  Tensor v = map_unary(x.value(), [](Scalar t) { return t * t; });
  return Var::make_op(std::move(v), "square", {x}, [x](const Var& g) {
    return std::vector<Var>{mul(g, mul_scalar(x, Scalar(2)))};
  });
}

Var sqrt(const Var& x) {
  Tensor v = map_unary(x.value(), [](Scalar t) { return std::sqrt(t); });
  Tensor stored = v;
  return Var::make_op(std::move(v), "sqrt", {x}, [x, stored](const Var& g) {
    Var y = output_for_backward(stored, [&] { return sqrt(x); });
    return std::vector<Var>{div(mul_scalar(g, Scalar(0.5)), y)};
  });
}

Var pow(const Var& x, Scalar p) {
  Tensor v = map_unary(x.value(), [p](Scalar t) { return std::pow(t, p); });
  return Var::make_op(std::move(v), "pow", {x}, [x, p](const Var& g) {
    return std::vector<Var>{mul(g, mul_scalar(pow(x, p - Scalar(1)), p))};
  });
}

// ---- broadcast_to / sum_to ----

Var broadcast_to(const Var& x, const Shape& shape) {
  SNGAN_CHECK(broadcast_shape(x.shape(), shape) == shape, "cannot broadcast ", x.shape().str(),
              " to ", shape.str());
  Tensor v = broadcast_value(x.value(), shape);
  const Shape sx = x.shape();
  return Var::make_op(std::move(v), "broadcast_to", {x},
                      [sx](const Var& g) { return std::vector<Var>{sum_to(g, sx)}; });
}

Var sum_to(const Var& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const Shape& xs = x.shape();
  SNGAN_CHECK(broadcast_shape(shape, xs) == xs, "sum_to: cannot reduce ", xs.str(), " to ",
              shape.str());
  Tensor out = Tensor::zeros(shape);
  Scalar* o = out.data();
  const Scalar* px = x.value().data();
  const int r = xs.ndim();
  const int64_t n = x.numel();
  if (shape.numel() == 1) {
    const double total = blocked_sum(n, [px](int64_t i) { return static_cast<double>(px[i]); });
    o[0] = static_cast<Scalar>(total);
  } else {
    int64_t so[Shape::kMaxDims];
    broadcast_strides(shape, xs, so);
    // Rows: the trailing dimensions that are all summed (a conv bias's H, W), or all kept and
    // contiguous in the output, taken as one.
    const bool summed_tail = so[r - 1] == 0;
    int k = r - 1;
    int64_t inner = xs[r - 1];
    while (k > 0 && (summed_tail ? so[k - 1] == 0 : so[k - 1] == so[k] * xs[k])) inner *= xs[--k];
    const int64_t rows = n / std::max<int64_t>(inner, 1);
    for (int64_t row = 0; row < rows; ++row) {
      int64_t rem = row, oo = 0;
      for (int d = k - 1; d >= 0; --d) {
        oo += (rem % xs[d]) * so[d];
        rem /= xs[d];
      }
      const Scalar* xrow = px + row * inner;
      if (summed_tail) {
        o[oo] += static_cast<Scalar>(
            ordered_sum(0, inner, [xrow](int64_t j) { return static_cast<double>(xrow[j]); }));
      } else {
        for (int64_t j = 0; j < inner; ++j) o[oo + j] += xrow[j];
      }
    }
  }
  return Var::make_op(std::move(out), "sum_to", {x},
                      [xs](const Var& g) { return std::vector<Var>{broadcast_to(g, xs)}; });
}

}  // namespace sngan
