// Fast pooling and resizing kernels: planes split over OpenMP threads; each window is clamped
// to the input once (no per-element bounds test), and the resize reads per-axis tables of
// source indices and weights computed once per call. They visit and sum a window's elements
// in the same order as the reference loops, so the two agree to rounding (the tests allow a
// few ulps for the compiler's freedom to fuse multiply-adds).
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

// f(y plane, x plane) for every plane, threaded when the input is large enough.
template <typename F>
void for_each_plane(Scalar* y, const Scalar* x, int64_t planes, int64_t in, int64_t out, F f) {
#pragma omp parallel for schedule(static) if (planes * in >= kParallelMin && planes > 1)
  for (int64_t p = 0; p < planes; ++p) f(y + p * out, x + p * in);
}

}  // namespace

void max_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d) {
  for_each_plane(y, x, d.planes, d.H * d.W, d.Hout * d.Wout, [&d](Scalar* yp, const Scalar* xp) {
    for (int64_t oh = 0; oh < d.Hout; ++oh) {
      const Range r = window(oh, d.H, d);
      for (int64_t ow = 0; ow < d.Wout; ++ow) {
        const Range c = window(ow, d.W, d);
        Scalar m = xp[r.lo * d.W + c.lo];
        for (int64_t h = r.lo; h < r.hi; ++h) {
          const Scalar* row = xp + h * d.W;
          for (int64_t w = c.lo; w < c.hi; ++w) {
            const Scalar v = row[w];
            if (v > m || std::isnan(v)) m = v;
          }
        }
        yp[oh * d.Wout + ow] = m;
      }
    }
  });
}

void avg_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d, bool count_include_pad) {
  for_each_plane(y, x, d.planes, d.H * d.W, d.Hout * d.Wout, [&](Scalar* yp, const Scalar* xp) {
    for (int64_t oh = 0; oh < d.Hout; ++oh) {
      const Range r = window(oh, d.H, d);
      for (int64_t ow = 0; ow < d.Wout; ++ow) {
        const Range c = window(ow, d.W, d);
        Scalar s = 0;
        for (int64_t h = r.lo; h < r.hi; ++h) {
          const Scalar* row = xp + h * d.W;
          for (int64_t w = c.lo; w < c.hi; ++w) s += row[w];
        }
        const int64_t divisor = count_include_pad ? d.k * d.k : (r.hi - r.lo) * (c.hi - c.lo);
        yp[oh * d.Wout + ow] = s / static_cast<Scalar>(divisor);
      }
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
  for_each_plane(y, x, planes, H * W, Hout * Wout, [&](Scalar* yp, const Scalar* xp) {
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
