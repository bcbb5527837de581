// Reference pooling and resizing kernels: direct loops over every output and window position,
// no threads, no tables. The test oracle for pool_ops.cpp; written to be obviously correct.
#include <cmath>

#include "core/tensor/kernels/pool_ops.h"

namespace sngan::kernels::ref {

namespace {
bool inside(const Pool2dDims& d, int64_t h, int64_t w) {
  return h >= 0 && h < d.H && w >= 0 && w < d.W;
}
}  // namespace

// y[p, oh, ow] = max of x[p, oh*stride - pad + i, ow*stride - pad + j] over i, j in [0, k)
// inside the input.
void max_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d) {
  for (int64_t p = 0; p < d.planes; ++p)
    for (int64_t oh = 0; oh < d.Hout; ++oh)
      for (int64_t ow = 0; ow < d.Wout; ++ow) {
        bool any = false;
        Scalar m = 0;
        for (int64_t i = 0; i < d.k; ++i)
          for (int64_t j = 0; j < d.k; ++j) {
            const int64_t h = oh * d.stride - d.pad + i, w = ow * d.stride - d.pad + j;
            if (!inside(d, h, w)) continue;
            const Scalar v = x[(p * d.H + h) * d.W + w];
            if (!any || v > m || std::isnan(v)) m = v;
            any = true;
          }
        y[(p * d.Hout + oh) * d.Wout + ow] = m;
      }
}

// y[p, oh, ow] = (sum of the window's positions inside the input) / divisor.
void avg_pool2d_forward(Scalar* y, const Scalar* x, const Pool2dDims& d, bool count_include_pad) {
  for (int64_t p = 0; p < d.planes; ++p)
    for (int64_t oh = 0; oh < d.Hout; ++oh)
      for (int64_t ow = 0; ow < d.Wout; ++ow) {
        Scalar s = 0;
        int64_t n = 0;
        for (int64_t i = 0; i < d.k; ++i)
          for (int64_t j = 0; j < d.k; ++j) {
            const int64_t h = oh * d.stride - d.pad + i, w = ow * d.stride - d.pad + j;
            if (!inside(d, h, w)) continue;
            s += x[(p * d.H + h) * d.W + w];
            ++n;
          }
        const int64_t divisor = count_include_pad ? d.k * d.k : n;
        y[(p * d.Hout + oh) * d.Wout + ow] = s / static_cast<Scalar>(divisor);
      }
}

void global_avg_pool_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t count) {
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;
    for (int64_t i = 0; i < count; ++i) s += x[p * count + i];
    y[p] = static_cast<Scalar>(s / static_cast<double>(count));
  }
}

namespace {
// The two source indices and weights of output index i along an axis of `in` -> `out`.
void source(int64_t i, int64_t in, int64_t out, int64_t* i0, int64_t* i1, Scalar* l0,
            Scalar* l1) {
  const Scalar scale = static_cast<Scalar>(in) / static_cast<Scalar>(out);
  Scalar s = scale * (static_cast<Scalar>(i) + Scalar(0.5)) - Scalar(0.5);
  if (s < 0) s = 0;
  *i0 = static_cast<int64_t>(s);
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l1 = s - static_cast<Scalar>(*i0);
  *l0 = Scalar(1) - *l1;
}
}  // namespace

void resize_bilinear_forward(Scalar* y, const Scalar* x, int64_t planes, int64_t H, int64_t W,
                             int64_t Hout, int64_t Wout) {
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oh = 0; oh < Hout; ++oh)
      for (int64_t ow = 0; ow < Wout; ++ow) {
        int64_t h0, h1, w0, w1;
        Scalar a0, a1, b0, b1;
        source(oh, H, Hout, &h0, &h1, &a0, &a1);
        source(ow, W, Wout, &w0, &w1, &b0, &b1);
        const Scalar* xp = x + p * H * W;
        y[(p * Hout + oh) * Wout + ow] = a0 * (b0 * xp[h0 * W + w0] + b1 * xp[h0 * W + w1]) +
                                         a1 * (b0 * xp[h1 * W + w0] + b1 * xp[h1 * W + w1]);
      }
}

}  // namespace sngan::kernels::ref
