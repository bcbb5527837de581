// Fast pooling and resizing kernels. Planes are split over OpenMP threads. A k x k pool is
// done in two passes through a per-thread scratch plane: each input row is reduced over the
// window's columns (r (H, Wout)), then each output row reduces k rows of r elementwise, which
// vectorises; the row pass has unrolled loops for the 3x3 windows of stride 1 and 2 that
// Inception-v3 uses. The resize reads per-axis tables of source indices and weights computed
// once per call. Max pooling and the resize give the reference's values exactly (max picks
// the same element; the resize does the same arithmetic); average pooling sums in another
// order, so it agrees to rounding.
#include "core/tensor/kernels/pool_ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sngan::kernels {

Pool2dDims make_pool2d_dims(int64_t planes, int64_t H, int64_t W, int64_t k, int64_t stride,
                            int64_t pad) {
  SNGAN_CHECK(planes > 0 && H > 0 && W > 0 && k > 0,
              "pool2d: expected positive sizes (planes, H, W, kernel), got (", planes, ", ", H,
              ", ", W, ", ", k, ")");
  SNGAN_CHECK(stride > 0, "pool2d: expected stride >= 1, got ", stride);
  SNGAN_CHECK(pad >= 0 && pad <= k / 2, "pool2d: expected 0 <= pad <= kernel / 2 = ", k / 2,
              ", got ", pad);
  SNGAN_CHECK(H + 2 * pad >= k && W + 2 * pad >= k,
              "pool2d: expected a non-empty output (padded input at least the kernel size), got "
              "input ", H, "x", W, " + pad ", pad, " for kernel ", k, "x", k);
  Pool2dDims d;
  d.planes = planes, d.H = H, d.W = W, d.k = k, d.stride = stride, d.pad = pad;
  d.Hout = (H + 2 * pad - k) / stride + 1;
  d.Wout = (W + 2 * pad - k) / stride + 1;
  return d;
}

namespace {

// Below this many input elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// The input range [lo, hi) of the window at output index o along an axis of size n.
struct Range {
  int64_t lo, hi;
};
Range window(int64_t o, int64_t n, const Pool2dDims& d) {
  const int64_t start = o * d.stride - d.pad;
  return {std::max<int64_t>(start, 0), std::min(start + d.k, n)};
}

// f(y plane, x plane, scratch of `scratch` elements) for every plane, threaded when the input
// is large enough.
template <typename F>
void for_each_plane(Scalar* y, const Scalar* x, int64_t planes, int64_t in, int64_t out,
                    int64_t scratch, F f) {
#pragma omp parallel for schedule(static) if (planes * in >= kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    thread_local std::vector<Scalar> buffer;
    if (static_cast<int64_t>(buffer.size()) < scratch) buffer.resize(static_cast<size_t>(scratch));
    f(y + p * out, x + p * in, buffer.data());
  }
}

// The two reductions. Max keeps the first maximum and lets a NaN through (a NaN operand wins
// either way), as the reference's `v > m || isnan(v)` does; written as a select so it vectorises.
struct MaxOp {
  static Scalar apply(Scalar m, Scalar v) { return (v > m || v != v) ? v : m; }
};
struct SumOp {
  static Scalar apply(Scalar s, Scalar v) { return s + v; }
};

// r[ow] = reduction of row[ow*S - pad + j], j in [0, K), over the columns inside the row.
// K, S > 0: compile-time window and stride for the interior; 0: the generic loop.
template <typename Op, int K, int S>
void reduce_row(Scalar* __restrict r, const Scalar* __restrict row, const Pool2dDims& d) {
  const int64_t k = K > 0 ? K : d.k, s = S > 0 ? S : d.stride;
  // Interior outputs: windows entirely inside the row.
  const int64_t first = std::min((d.pad + s - 1) / s, d.Wout);
  const int64_t span = d.W + d.pad - k;  // the last interior window starts at or before it
  const int64_t last = span < 0 ? first : std::max(first, std::min(d.Wout, span / s + 1));
  auto clamped = [&](int64_t ow) {
    const Range c = window(ow, d.W, d);
    Scalar m = row[c.lo];
    for (int64_t w = c.lo + 1; w < c.hi; ++w) m = Op::apply(m, row[w]);
    r[ow] = m;
  };
  for (int64_t ow = 0; ow < first; ++ow) clamped(ow);
  const Scalar* base = row - d.pad;
  for (int64_t ow = first; ow < last; ++ow) {
    const Scalar* v = base + ow * s;
    Scalar m = v[0];
    for (int64_t j = 1; j < k; ++j) m = Op::apply(m, v[j]);
    r[ow] = m;
  }
  for (int64_t ow = last; ow < d.Wout; ++ow) clamped(ow);
}

template <typename Op>
void reduce_rows(Scalar* r, const Scalar* x, const Pool2dDims& d) {
  for (int64_t h = 0; h < d.H; ++h) {
    Scalar* out = r + h * d.Wout;
    const Scalar* row = x + h * d.W;
    if (d.k == 3 && d.stride == 1) reduce_row<Op, 3, 1>(out, row, d);
    else if (d.k == 3 && d.stride == 2) reduce_row<Op, 3, 2>(out, row, d);
    else reduce_row<Op, 0, 0>(out, row, d);
  }
}

// y (Hout, Wout): output row oh reduces the rows of r (H, Wout) in its window elementwise.
template <typename Op>
void reduce_columns(Scalar* __restrict y, const Scalar* __restrict r, const Pool2dDims& d) {
  for (int64_t oh = 0; oh < d.Hout; ++oh) {
    const Range rows = window(oh, d.H, d);
    Scalar* __restrict out = y + oh * d.Wout;
    std::copy(r + rows.lo * d.Wout, r + (rows.lo + 1) * d.Wout, out);
    for (int64_t h = rows.lo + 1; h < rows.hi; ++h) {
      const Scalar* __restrict in = r + h * d.Wout;
      for (int64_t w = 0; w < d.Wout; ++w) out[w] = Op::apply(out[w], in[w]);
    }
  }
}

}  // namespace

void max_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d) {
  for_each_plane(y, x, d.planes, d.H * d.W, d.Hout * d.Wout, d.H * d.Wout,
                 [&d](Scalar* yp, const Scalar* xp, Scalar* r) {
                   reduce_rows<MaxOp>(r, xp, d);  // (H, Wout)
                   reduce_columns<MaxOp>(yp, r, d);
                 });
}

void avg_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d, bool count_include_pad) {
  // Window sizes inside the input per output column and row (count_include_pad: k each).
  std::vector<Scalar> cols(static_cast<size_t>(d.Wout)), rows(static_cast<size_t>(d.Hout));
  for (int64_t o = 0; o < d.Wout; ++o) {
    const Range c = window(o, d.W, d);
    cols[static_cast<size_t>(o)] = static_cast<Scalar>(count_include_pad ? d.k : c.hi - c.lo);
  }
  for (int64_t o = 0; o < d.Hout; ++o) {
    const Range c = window(o, d.H, d);
    rows[static_cast<size_t>(o)] = static_cast<Scalar>(count_include_pad ? d.k : c.hi - c.lo);
  }
  for_each_plane(y, x, d.planes, d.H * d.W, d.Hout * d.Wout, d.H * d.Wout,
                 [&](Scalar* yp, const Scalar* xp, Scalar* r) {
                   reduce_rows<SumOp>(r, xp, d);  // (H, Wout)
                   reduce_columns<SumOp>(yp, r, d);
                   for (int64_t oh = 0; oh < d.Hout; ++oh) {
                     Scalar* __restrict out = yp + oh * d.Wout;
                     const Scalar rn = rows[static_cast<size_t>(oh)];
                     for (int64_t w = 0; w < d.Wout; ++w) out[w] /= rn * cols[static_cast<size_t>(w)];
                   }
                 });
}

void global_avg_pool_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t count) {
#pragma omp parallel for schedule(static) if (planes * count >= kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const Scalar* xp = x + p * count;
    double s = 0;
    for (int64_t i = 0; i < count; ++i) s += xp[i];
    y[p] = static_cast<Scalar>(s / static_cast<double>(count));
  }
}

namespace {
// Source indices and weights along one axis of `in` -> `out` (see the header).
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<Scalar> l0, l1;
};
Taps bilinear_taps(int64_t in, int64_t out) {
  Taps t;
  t.i0.resize(static_cast<size_t>(out));
  t.i1.resize(static_cast<size_t>(out));
  t.l0.resize(static_cast<size_t>(out));
  t.l1.resize(static_cast<size_t>(out));
  const Scalar scale = static_cast<Scalar>(in) / static_cast<Scalar>(out);
  for (int64_t i = 0; i < out; ++i) {
    const size_t u = static_cast<size_t>(i);
    const Scalar s = std::max(scale * (static_cast<Scalar>(i) + Scalar(0.5)) - Scalar(0.5), Scalar(0));
    t.i0[u] = static_cast<int64_t>(s);
    t.i1[u] = t.i0[u] < in - 1 ? t.i0[u] + 1 : t.i0[u];
    t.l1[u] = s - static_cast<Scalar>(t.i0[u]);
    t.l0[u] = Scalar(1) - t.l1[u];
  }
  return t;
}
}  // namespace

void resize_bilinear_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t H, int64_t W,
                             int64_t Hout, int64_t Wout) {
  const Taps rows = bilinear_taps(H, Hout), cols = bilinear_taps(W, Wout);
  for_each_plane(y, x, planes, H * W, Hout * Wout, 0, [&](Scalar* yp, const Scalar* xp, Scalar*) {
    for (int64_t oh = 0; oh < Hout; ++oh) {
      const size_t r = static_cast<size_t>(oh);
      const Scalar* x0 = xp + rows.i0[r] * W;
      const Scalar* x1 = xp + rows.i1[r] * W;
      const Scalar a0 = rows.l0[r], a1 = rows.l1[r];
      Scalar* out = yp + oh * Wout;
      for (int64_t ow = 0; ow < Wout; ++ow) {
        const size_t c = static_cast<size_t>(ow);
        const int64_t w0 = cols.i0[c], w1 = cols.i1[c];
        const Scalar b0 = cols.l0[c], b1 = cols.l1[c];
        out[ow] = a0 * (b0 * x0[w0] + b1 * x0[w1]) + a1 * (b0 * x1[w0] + b1 * x1[w1]);
      }
    }
  });
}

}  // namespace sngan::kernels
