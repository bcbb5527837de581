#include "core/nn/init.h"

#include <Eigen/QR>
#include <cmath>

namespace sngan::init {

namespace {
void fans(const Tensor& w, double* fan_in, double* fan_out) {
  SNGAN_CHECK(w.ndim() >= 1, "init: expected a weight with at least one dimension");
  if (w.ndim() == 1) {
    *fan_in = *fan_out = static_cast<double>(w.dim(0));
    return;
  }
  double receptive = 1;
  for (int d = 2; d < w.ndim(); ++d) receptive *= static_cast<double>(w.dim(d));
  *fan_in = static_cast<double>(w.dim(1)) * receptive;
  *fan_out = static_cast<double>(w.dim(0)) * receptive;
}
}  // namespace

void normal(Tensor& w, Rng& rng, double std, double mean) { rng.fill_normal(w, mean, std); }

void uniform(Tensor& w, Rng& rng, double lo, double hi) { rng.fill_uniform(w, lo, hi); }

void glorot_uniform(Tensor& w, Rng& rng, double gain) {
  double fan_in, fan_out;
  fans(w, &fan_in, &fan_out);
  const double a = gain * std::sqrt(6.0 / (fan_in + fan_out));
  rng.fill_uniform(w, -a, a);
}

void orthogonal(Tensor& w, Rng& rng, double gain) {
  SNGAN_CHECK(w.ndim() >= 2, "orthogonal init: expected at least 2 dimensions, got ",
              w.shape().str());
  const int64_t rows = w.dim(0), cols = w.numel() / rows;
  const bool tall = rows >= cols;
  const int64_t m = tall ? rows : cols, n = tall ? cols : rows;
  Eigen::MatrixXd a(m, n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) a(i, j) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, n);
  Eigen::MatrixXd r = qr.matrixQR().topLeftCorner(n, n);
  for (int64_t j = 0; j < n; ++j)
    if (r(j, j) < 0) q.col(j) *= -1;  // unique, uniformly distributed Q
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      w[i * cols + j] = static_cast<Scalar>(gain * (tall ? q(i, j) : q(j, i)));
}

void constant(Tensor& w, double value) { w.fill(static_cast<Scalar>(value)); }

}  // namespace sngan::init
