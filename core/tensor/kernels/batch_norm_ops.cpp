// Fast batch-norm kernels: one OpenMP task per channel, statistics accumulated in double.
// The fused kernels do a channel's statistics and output in one task; the sharded ones run
// each step over all channels so that the statistics can be summed over the ranks between.
#include "core/tensor/kernels/batch_norm_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/tensor/ordered_sum.h"

namespace sngan::kernels {

namespace {

// A channel's sums in double, in a fixed order that vectorises (ordered_sum.h): the lanes run
// on across the channel's rows, values past each row's last whole group of lanes go to one
// more partial.
// Sum over channel c of f(i, x[i]) for every element index i of the channel.
template <typename F>
double channel_reduce(const BatchNormDims& d, int64_t c, F f) {
  double acc[kSumLanes] = {}, tail = 0;
  const int64_t whole = d.inner / kSumLanes * kSumLanes;
  for (int64_t n = 0; n < d.N; ++n) {
    const int64_t base = (n * d.C + c) * d.inner;
    for (int64_t i = 0; i < whole; i += kSumLanes)
      for (int j = 0; j < kSumLanes; ++j) acc[j] += f(base + i + j);
    for (int64_t i = whole; i < d.inner; ++i) tail += f(base + i);
  }
  return fold_lanes(acc) + tail;
}

double channel_sum(const Scalar* x, const BatchNormDims& d, int64_t c) {
  return channel_reduce(d, c, [x](int64_t i) { return static_cast<double>(x[i]); });
}

double channel_squared_deviation(const Scalar* x, const BatchNormDims& d, int64_t c, double mu) {
  return channel_reduce(d, c, [x, mu](int64_t i) { return (x[i] - mu) * (x[i] - mu); });
}

// Channel c of y = max(gamma * (x - mu) * is + beta, floor), then the running statistics
// from the batch mean and biased variance over M values.
void normalize_channel(Scalar* y, const Scalar* x, const Scalar* gamma, const Scalar* beta,
                       const BatchNormDims& d, int64_t c, double mu, double var, double is,
                       int64_t M, Scalar floor, const BatchNormRunning& running) {
  const Scalar scale = gamma ? gamma[c] : Scalar(1), shift = beta ? beta[c] : Scalar(0);
  for (int64_t n = 0; n < d.N; ++n) {
    const int64_t base = (n * d.C + c) * d.inner;
    for (int64_t i = 0; i < d.inner; ++i) {
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

Scalar relu_floor(bool relu) { return relu ? Scalar(0) : -std::numeric_limits<Scalar>::infinity(); }

// The incoming gradient, zeroed where the relu was off (dy itself without relu). Masked in a
// pass of its own: a mask test inside the channel loops keeps them from vectorising (2-3x
// slower at G's shapes).
const Scalar* masked_gradient(const Scalar* dy, const Scalar* relu_y, const BatchNormDims& d,
                              Tensor& storage) {
  if (!relu_y) return dy;
  const int64_t n = d.N * d.C * d.inner;
  storage = Tensor::empty(Shape{n});
  Scalar* m = storage.data();
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) m[i] = relu_y[i] > 0 ? dy[i] : Scalar(0);
  return m;
}

// Channel c's sums of g and g * x-hat.
void channel_gradient_sums(const Scalar* g, const Scalar* x, const BatchNormDims& d, int64_t c,
                           double mu, double is, double& sg, double& sgh) {
  sg = channel_reduce(d, c, [g](int64_t i) { return static_cast<double>(g[i]); });
  sgh = channel_reduce(d, c, [g, x, mu, is](int64_t i) {
    const Scalar xhat = static_cast<Scalar>((x[i] - mu) * is);
    return static_cast<double>(g[i] * xhat);
  });
}

// dx = gamma * invstd / M * (M g - sum g - xhat * sum g xhat) for channel c.
void channel_input_gradient(Scalar* dx, const Scalar* g, const Scalar* x, const Scalar* gamma,
                            const BatchNormDims& d, int64_t c, double mu, double is, double sg,
                            double sgh, int64_t M) {
  const double scale = gamma ? gamma[c] : 1.0;
  const double k = scale * static_cast<Scalar>(is) / static_cast<double>(M);
  for (int64_t n = 0; n < d.N; ++n) {
    const int64_t base = (n * d.C + c) * d.inner;
    for (int64_t i = base; i < base + d.inner; ++i) {
      const Scalar xhat = static_cast<Scalar>((x[i] - mu) * is);
      dx[i] = static_cast<Scalar>(k * (M * g[i] - sg - xhat * sgh));
    }
  }
}

}  // namespace

void batch_norm_forward(Scalar* y, double* mean, double* invstd, const Scalar* x,
                        const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                        double eps, bool relu, const BatchNormRunning& running) {
  const int64_t M = d.count();
  const Scalar floor = relu_floor(relu);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.C; ++c) {
    // Two passes: the mean, then the biased variance around it.
    const double mu = channel_sum(x, d, c) / static_cast<double>(M);
    const double var = channel_squared_deviation(x, d, c, mu) / static_cast<double>(M);
    const double is = 1.0 / std::sqrt(var + eps);
    mean[c] = mu;
    invstd[c] = is;
    normalize_channel(y, x, gamma, beta, d, c, mu, var, is, M, floor, running);
  }
}

void batch_norm_backward(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                         const Scalar* x, const double* mean, const double* invstd,
                         const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d) {
  Tensor storage;
  const Scalar* g = masked_gradient(dy, relu_y, d, storage);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < d.C; ++c) {
    double sg, sgh;
    channel_gradient_sums(g, x, d, c, mean[c], invstd[c], sg, sgh);
    if (dbeta) dbeta[c] = static_cast<Scalar>(sg);
    if (dgamma) dgamma[c] = static_cast<Scalar>(sgh);
    channel_input_gradient(dx, g, x, gamma, d, c, mean[c], invstd[c], sg, sgh, d.count());
  }
}

void batch_norm_forward_sharded(Scalar* y, double* mean, double* invstd, const Scalar* x,
                                const Scalar* gamma, const Scalar* beta, const BatchNormDims& d,
                                int64_t total_count, const StatsReducer& reduce, double eps,
                                bool relu, const BatchNormRunning& running) {
  const int64_t C = d.C, M = total_count;
  std::vector<double> var(static_cast<size_t>(C));
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) mean[c] = channel_sum(x, d, c);
  reduce(mean, C);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    mean[c] /= static_cast<double>(M);
    var[c] = channel_squared_deviation(x, d, c, mean[c]);
  }
  reduce(var.data(), C);
  const Scalar floor = relu_floor(relu);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const double v = var[c] / static_cast<double>(M);
    invstd[c] = 1.0 / std::sqrt(v + eps);
    normalize_channel(y, x, gamma, beta, d, c, mean[c], v, invstd[c], M, floor, running);
  }
}

void batch_norm_backward_sharded(Scalar* dx, Scalar* dgamma, Scalar* dbeta, const Scalar* dy,
                                 const Scalar* x, const double* mean, const double* invstd,
                                 const Scalar* gamma, const Scalar* relu_y, const BatchNormDims& d,
                                 int64_t total_count, const StatsReducer& reduce) {
  const int64_t C = d.C;
  Tensor storage;
  const Scalar* g = masked_gradient(dy, relu_y, d, storage);
  std::vector<double> sums(static_cast<size_t>(2 * C));  // sum g (C), then sum g * x-hat (C)
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    channel_gradient_sums(g, x, d, c, mean[c], invstd[c], sums[c], sums[C + c]);
    if (dbeta) dbeta[c] = static_cast<Scalar>(sums[c]);
    if (dgamma) dgamma[c] = static_cast<Scalar>(sums[C + c]);
  }
  reduce(sums.data(), 2 * C);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c)
    channel_input_gradient(dx, g, x, gamma, d, c, mean[c], invstd[c], sums[c], sums[C + c], total_count);
}

}  // namespace sngan::kernels
