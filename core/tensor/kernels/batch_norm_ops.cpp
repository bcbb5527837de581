// Fast batch-norm kernels: one OpenMP task per channel, statistics accumulated in double.
#include "core/tensor/kernels/batch_norm_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sngan::kernels {

void batch_norm_forward(Scalar* y, double* mean, double* invstd, const Scalar* x,
                        const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                        double eps, bool relu, const BatchNormRunning& running) {
  const int64_t N = d.N, C = d.C, inner = d.inner, M = d.count();
  const Scalar floor = relu ? Scalar(0) : -std::numeric_limits<Scalar>::infinity();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    // Two passes: the mean, then the biased variance around it.
    double s = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n) {
      const Scalar* row = x + (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) s += row[i];
    }
    const double mu = s / static_cast<double>(M);
    for (int64_t n = 0; n < N; ++n) {
      const Scalar* row = x + (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) ss += (row[i] - mu) * (row[i] - mu);
    }
    const double var = ss / static_cast<double>(M);
    const double is = 1.0 / std::sqrt(var + eps);
    mean[c] = mu;
    invstd[c] = is;
    const Scalar scale = gamma ? gamma[c] : Scalar(1), shift = beta ? beta[c] : Scalar(0);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const Scalar h = static_cast<Scalar>((x[base + i] - mu) * is);
        y[base + i] = std::max(h * scale + shift, floor);
      }
    }
    if (running.mean) {
      Scalar& rm = running.mean[c];
      Scalar& rv = running.var[c];
      const Scalar mom = running.momentum;
      rm = static_cast<Scalar>((1 - mom) * rm + mom * mu);
      rv = static_cast<Scalar>((1 - mom) * rv + mom * var * static_cast<double>(M) / (M - 1));
    }
  }
}

void batch_norm_backward(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                         const Scalar* x, const double* mean, const double* invstd,
                         const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d) {
  const int64_t N = d.N, C = d.C, inner = d.inner, M = d.count();
  // The incoming gradient, zeroed where the relu was off. Masked in a pass of its own: a mask
  // test inside the loops below keeps them from vectorising (2-3x slower at G's shapes).
  const Scalar* g = dy;
  Tensor masked;
  if (relu_y) {
    const int64_t n = N * C * inner;
    masked = Tensor::empty(Shape{n});
    Scalar* m = masked.data();
#pragma omp parallel for schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) m[i] = relu_y[i] > 0 ? dy[i] : Scalar(0);
    g = m;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const double mu = mean[c], is = invstd[c];
    double sg = 0, sgh = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t i = base; i < base + inner; ++i) {
        const Scalar xhat = static_cast<Scalar>((x[i] - mu) * is);
        sg += g[i];
        sgh += g[i] * xhat;
      }
    }
    if (dbeta) dbeta[c] = static_cast<Scalar>(sg);
    if (dgamma) dgamma[c] = static_cast<Scalar>(sgh);
    // dx = gamma * invstd / M * (M g - sum g - xhat * sum g xhat)
    const double scale = gamma ? gamma[c] : 1.0;
    const double k = scale * static_cast<Scalar>(is) / static_cast<double>(M);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t i = base; i < base + inner; ++i) {
        const Scalar xhat = static_cast<Scalar>((x[i] - mu) * is);
        dx[i] = static_cast<Scalar>(k * (M * g[i] - sg - xhat * sgh));
      }
    }
  }
}

}  // namespace sngan::kernels
