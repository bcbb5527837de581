// Reference batch-norm kernels: direct loops in double, no threads. The test oracle for the
// fast kernels in batch_norm_ops.cpp; written to be obviously correct, not fast.
#include <algorithm>
#include <cmath>

#include "core/tensor/kernels/batch_norm_ops.h"

namespace sngan::kernels::ref {

namespace {
// Flat index of x (N, C, inner).
inline int64_t at(const BatchNormDims& d, int64_t n, int64_t c, int64_t i) {
  return (n * d.C + c) * d.inner + i;
}
}  // namespace

void batch_norm_forward(Scalar* y, double* mean, double* invstd, const Scalar* x,
                        const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                        double eps, bool relu, const BatchNormRunning& running) {
  const double count = static_cast<double>(d.count());
  for (int64_t c = 0; c < d.C; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t i = 0; i < d.inner; ++i) sum += x[at(d, n, c, i)];
    const double mu = sum / count;
    double sq = 0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t i = 0; i < d.inner; ++i) sq += (x[at(d, n, c, i)] - mu) * (x[at(d, n, c, i)] - mu);
    const double var = sq / count;  // biased
    mean[c] = mu;
    invstd[c] = 1.0 / std::sqrt(var + eps);
    const double scale = gamma ? gamma[c] : 1.0, shift = beta ? beta[c] : 0.0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t i = 0; i < d.inner; ++i) {
        const double v = scale * (x[at(d, n, c, i)] - mu) * invstd[c] + shift;
        y[at(d, n, c, i)] = static_cast<Scalar>(relu ? std::max(v, 0.0) : v);
      }
    if (running.mean) {
      const double m = running.momentum;
      running.mean[c] = static_cast<Scalar>((1 - m) * running.mean[c] + m * mu);
      running.var[c] = static_cast<Scalar>((1 - m) * running.var[c] + m * var * count / (count - 1));
    }
  }
}

void batch_norm_backward(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                         const Scalar* x, const double* mean, const double* invstd,
                         const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d) {
  const double count = static_cast<double>(d.count());
  for (int64_t c = 0; c < d.C; ++c) {
    auto grad = [&](int64_t k) { return relu_y && !(relu_y[k] > 0) ? 0.0 : double(dy[k]); };
    auto xhat = [&](int64_t k) { return (x[k] - mean[c]) * invstd[c]; };
    double sum_g = 0, sum_gx = 0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t i = 0; i < d.inner; ++i) {
        const int64_t k = at(d, n, c, i);
        sum_g += grad(k);
        sum_gx += grad(k) * xhat(k);
      }
    if (dbeta) dbeta[c] = static_cast<Scalar>(sum_g);
    if (dgamma) dgamma[c] = static_cast<Scalar>(sum_gx);
    const double scale = gamma ? gamma[c] : 1.0;
    for (int64_t n = 0; n < d.N; ++n)
      for (int64_t i = 0; i < d.inner; ++i) {
        const int64_t k = at(d, n, c, i);
        dx[k] = static_cast<Scalar>(scale * invstd[c] / count *
                                    (count * grad(k) - sum_g - xhat(k) * sum_gx));
      }
  }
}

}  // namespace sngan::kernels::ref
