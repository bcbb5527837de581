// Reference kernels: direct nested loops, no Eigen, no threads. The test oracle for the fast
// kernels in gemm_ops.cpp; written to be obviously correct, not fast.
#include <vector>

#include "core/tensor/kernels/gemm_ops.h"

namespace sngan::kernels::ref {

namespace {

inline void store(Scalar& dst, Scalar value, bool accumulate) {
  dst = accumulate ? dst + value : value;
}

// Flat indices of x (N, Cin, H, W), w (Cout, Cin, KH, KW), y (N, Cout, Hout, Wout).
inline int64_t xi(const Conv2dDims& d, int64_t n, int64_t c, int64_t h, int64_t w) {
  return ((n * d.Cin + c) * d.H + h) * d.W + w;
}
inline int64_t wi(const Conv2dDims& d, int64_t co, int64_t ci, int64_t kh, int64_t kw) {
  return ((co * d.Cin + ci) * d.KH + kh) * d.KW + kw;
}
inline int64_t yi(const Conv2dDims& d, int64_t n, int64_t c, int64_t oh, int64_t ow) {
  return ((n * d.Cout + c) * d.Hout + oh) * d.Wout + ow;
}

}  // namespace

void matmul(Scalar* y, const Scalar* a, const Scalar* b, int64_t M, int64_t K, int64_t N,
            bool trans_a, bool trans_b, bool accumulate) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      Scalar s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const Scalar aik = trans_a ? a[k * M + i] : a[i * K + k];
        const Scalar bkj = trans_b ? b[j * K + k] : b[k * N + j];
        s += aik * bkj;
      }
      store(y[i * N + j], s, accumulate);
    }
  }
}

// y[n, co, oh, ow] = b[co] + sum over ci, kh, kw of w[co, ci, kh, kw] * x[n, ci, ih, iw]
// with ih = oh*stride - pad_h + kh, iw = ow*stride - pad_w + kw (zero outside the input).
void conv2d_forward(Scalar* y, const Scalar* x, const Scalar* w, const Scalar* b,
                    const Conv2dDims& d, bool accumulate) {
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t co = 0; co < d.Cout; ++co)
      for (int64_t oh = 0; oh < d.Hout; ++oh)
        for (int64_t ow = 0; ow < d.Wout; ++ow) {
          Scalar s = b != nullptr ? b[co] : Scalar(0);
          for (int64_t ci = 0; ci < d.Cin; ++ci)
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                const int64_t ih = oh * d.stride - d.pad_h + kh;
                const int64_t iw = ow * d.stride - d.pad_w + kw;
                if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) continue;
                s += w[wi(d, co, ci, kh, kw)] * x[xi(d, n, ci, ih, iw)];
              }
          store(y[yi(d, n, co, oh, ow)], s, accumulate);
        }
}

// The forward pass's loop nest with the multiply-add reversed: every term w * x that reached
// y[n, co, oh, ow] sends w * dy[n, co, oh, ow] back to x's position.
void conv2d_backward_input(Scalar* dx, const Scalar* dy, const Scalar* w, const Conv2dDims& d,
                           bool accumulate) {
  std::vector<Scalar> g(static_cast<size_t>(d.N * d.Cin * d.H * d.W), Scalar(0));
  for (int64_t n = 0; n < d.N; ++n)
    for (int64_t co = 0; co < d.Cout; ++co)
      for (int64_t oh = 0; oh < d.Hout; ++oh)
        for (int64_t ow = 0; ow < d.Wout; ++ow)
          for (int64_t ci = 0; ci < d.Cin; ++ci)
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                const int64_t ih = oh * d.stride - d.pad_h + kh;
                const int64_t iw = ow * d.stride - d.pad_w + kw;
                if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) continue;
                g[static_cast<size_t>(xi(d, n, ci, ih, iw))] +=
                    w[wi(d, co, ci, kh, kw)] * dy[yi(d, n, co, oh, ow)];
              }
  for (size_t i = 0; i < g.size(); ++i) store(dx[i], g[i], accumulate);
}

// dw[co, ci, kh, kw] = sum over n, oh, ow of dy[n, co, oh, ow] * x[n, ci, ih, iw].
void conv2d_backward_weight(Scalar* dw, const Scalar* dy, const Scalar* x, const Conv2dDims& d,
                            bool accumulate) {
  for (int64_t co = 0; co < d.Cout; ++co)
    for (int64_t ci = 0; ci < d.Cin; ++ci)
      for (int64_t kh = 0; kh < d.KH; ++kh)
        for (int64_t kw = 0; kw < d.KW; ++kw) {
          Scalar s = 0;
          for (int64_t n = 0; n < d.N; ++n)
            for (int64_t oh = 0; oh < d.Hout; ++oh)
              for (int64_t ow = 0; ow < d.Wout; ++ow) {
                const int64_t ih = oh * d.stride - d.pad_h + kh;
                const int64_t iw = ow * d.stride - d.pad_w + kw;
                if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) continue;
                s += dy[yi(d, n, co, oh, ow)] * x[xi(d, n, ci, ih, iw)];
              }
          store(dw[wi(d, co, ci, kh, kw)], s, accumulate);
        }
}

// db[co] = sum over n, oh, ow of dy[n, co, oh, ow].
void conv2d_backward_bias(Scalar* db, const Scalar* dy, const Conv2dDims& d, bool accumulate) {
  for (int64_t co = 0; co < d.Cout; ++co) {
    Scalar s = 0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t oh = 0; oh < d.Hout; ++oh)
        for (int64_t ow = 0; ow < d.Wout; ++ow) s += dy[yi(d, n, co, oh, ow)];
    store(db[co], s, accumulate);
  }
}

}  // namespace sngan::kernels::ref
