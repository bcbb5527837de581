// Fast batch-norm kernels (batch_norm_ops.cpp) == reference loops (batch_norm_ops_ref.cpp)
// over a table of shapes: (N, C) and (N, C, H, W), N = 1, odd C, with and without affine,
// relu and running statistics, on 1 and 2 OpenMP threads; plus independent checks of the
// reference (normalised output has mean 0 and variance 1; the input gradient of a
// non-affine batch norm is orthogonal to the constant and to x-hat).
//
// Tolerance: the reference computes in double, the fast kernels round x-hat and each product
// to Scalar. Every output is a short sum of terms, each rounded a few times, so it differs by
// at most a few eps times the sum of the terms' magnitudes (`mag`). We allow 16 eps * mag:
// far below the size of any one term, which is what a wrong formula would cost.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor/kernels/batch_norm_ops.h"
#include "core/tensor/rng.h"

namespace sngan::kernels {
namespace {

using Vec = std::vector<Scalar>;
constexpr double kEps = std::numeric_limits<Scalar>::epsilon();

Vec random_vec(Rng& rng, int64_t n, double lo, double hi) {
  Tensor t = Tensor::empty(Shape{n});
  rng.fill_uniform(t, lo, hi);
  return t.to_vector();
}

struct Case {
  int64_t N, C, inner;  // inner 1: an (N, C) input
  bool affine, relu, running;
};

std::string name(const Case& c) {
  return "N" + std::to_string(c.N) + " C" + std::to_string(c.C) + " inner" +
         std::to_string(c.inner) + (c.affine ? " affine" : "") + (c.relu ? " relu" : "") +
         (c.running ? " running" : "") + " threads" + std::to_string(omp_get_max_threads());
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      {1, 3, 20, true, false, true},  {1, 3, 20, false, true, false}, {2, 5, 1, true, true, true},
      {7, 3, 1, false, false, true},  {64, 33, 1, true, false, false}, {4, 7, 9, true, true, true},
      {3, 1, 4, false, false, false}, {5, 16, 16, false, true, true},  {2, 9, 49, true, false, true},
  };
  return table;
}

void compare_fast_and_reference(const Case& c) {
  SCOPED_TRACE(name(c));
  const BatchNormDims d{c.N, c.C, c.inner};
  const int64_t n = c.N * c.C * c.inner;
  Rng rng(static_cast<uint64_t>(n * 31 + c.C));
  const Vec x = random_vec(rng, n, -2, 3), dy = random_vec(rng, n, -1, 1);
  const Vec gamma = random_vec(rng, c.C, 0.5, 2), beta = random_vec(rng, c.C, -1, 1);
  const Vec rm0 = random_vec(rng, c.C, -1, 1), rv0 = random_vec(rng, c.C, 0.5, 2);
  const Scalar* pg = c.affine ? gamma.data() : nullptr;
  const Scalar* pb = c.affine ? beta.data() : nullptr;

  Vec y(n), y_ref(n), rm = rm0, rv = rv0, rm_ref = rm0, rv_ref = rv0;
  std::vector<double> mean(c.C), invstd(c.C), mean_ref(c.C), invstd_ref(c.C);
  const double eps = 1e-5;
  BatchNormRunning run, run_ref;
  if (c.running) {
    run = {rm.data(), rv.data(), Scalar(0.1)};
    run_ref = {rm_ref.data(), rv_ref.data(), Scalar(0.1)};
  }
  batch_norm_forward(y.data(), mean.data(), invstd.data(), x.data(), pg, pb, d, eps, c.relu, run);
  ref::batch_norm_forward(y_ref.data(), mean_ref.data(), invstd_ref.data(), x.data(), pg, pb, d,
                          eps, c.relu, run_ref);
  for (int64_t ch = 0; ch < c.C; ++ch) {
    EXPECT_NEAR(mean[ch], mean_ref[ch], 1e-12 * (1 + std::abs(mean_ref[ch]))) << "channel " << ch;
    EXPECT_NEAR(invstd[ch], invstd_ref[ch], 1e-12 * invstd_ref[ch]) << "channel " << ch;
    if (c.running) {
      EXPECT_NEAR(rm[ch], rm_ref[ch], 4 * kEps * (std::abs(rm0[ch]) + std::abs(mean_ref[ch])));
      EXPECT_NEAR(rv[ch], rv_ref[ch], 4 * kEps * (rv0[ch] + 2 / (invstd_ref[ch] * invstd_ref[ch])));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ch = (i / c.inner) % c.C;
    const double scale = c.affine ? gamma[ch] : 1, shift = c.affine ? beta[ch] : 0;
    const double xhat = (x[i] - mean_ref[ch]) * invstd_ref[ch];
    ASSERT_NEAR(y[i], y_ref[i], 16 * kEps * (std::abs(scale * xhat) + std::abs(shift))) << i;
  }

  // Backward: both read the relu mask from the fast forward's output.
  const Scalar* mask = c.relu ? y.data() : nullptr;
  Vec dx(n), dx_ref(n), dgamma(c.C), dgamma_ref(c.C), dbeta(c.C), dbeta_ref(c.C);
  batch_norm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(),
                      invstd.data(), pg, mask, d);
  ref::batch_norm_backward(dx_ref.data(), dgamma_ref.data(), dbeta_ref.data(), dy.data(), x.data(),
                           mean_ref.data(), invstd_ref.data(), pg, mask, d);
  std::vector<double> sum_abs_g(c.C, 0), sum_abs_gx(c.C, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ch = (i / c.inner) % c.C;
    sum_abs_g[ch] += std::abs(dy[i]);
    sum_abs_gx[ch] += std::abs(dy[i] * (x[i] - mean_ref[ch]) * invstd_ref[ch]);
  }
  for (int64_t ch = 0; ch < c.C; ++ch) {
    EXPECT_NEAR(dbeta[ch], dbeta_ref[ch], 16 * kEps * sum_abs_g[ch]) << "channel " << ch;
    EXPECT_NEAR(dgamma[ch], dgamma_ref[ch], 16 * kEps * sum_abs_gx[ch]) << "channel " << ch;
  }
  const double M = static_cast<double>(d.count());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ch = (i / c.inner) % c.C;
    const double scale = c.affine ? gamma[ch] : 1;
    const double xhat = std::abs((x[i] - mean_ref[ch]) * invstd_ref[ch]);
    const double mag = std::abs(scale) * invstd_ref[ch] / M *
                       (M * std::abs(dy[i]) + sum_abs_g[ch] + xhat * sum_abs_gx[ch]);
    ASSERT_NEAR(dx[i], dx_ref[i], 16 * kEps * mag) << i;
  }
}

TEST(BatchNormKernels, FastMatchesReference) {
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    for (const Case& c : cases()) compare_fast_and_reference(c);
  }
}

// The reference on its own: without affine, each channel of y has mean 0 and biased variance
// 1 / (1 + eps / var); dx sums to 0 and is orthogonal to x-hat in each channel.
TEST(BatchNormKernels, ReferenceNormalisesAndProjects) {
  const BatchNormDims d{6, 4, 5};
  const int64_t n = d.N * d.C * d.inner;
  Rng rng(7);
  const Vec x = random_vec(rng, n, -3, 5), dy = random_vec(rng, n, -1, 1);
  Vec y(n), dx(n);
  std::vector<double> mean(d.C), invstd(d.C);
  ref::batch_norm_forward(y.data(), mean.data(), invstd.data(), x.data(), nullptr, nullptr, d,
                          1e-5, false, {});
  ref::batch_norm_backward(dx.data(), nullptr, nullptr, dy.data(), x.data(), mean.data(),
                           invstd.data(), nullptr, nullptr, d);
  for (int64_t ch = 0; ch < d.C; ++ch) {
    double s = 0, ss = 0, mx = 0, sdx = 0, sdx_xhat = 0, xs = 0, xss = 0;
    for (int64_t b = 0; b < d.N; ++b)
      for (int64_t i = 0; i < d.inner; ++i) {
        const int64_t k = (b * d.C + ch) * d.inner + i;
        s += y[k];
        ss += y[k] * y[k];
        xs += x[k];
        xss += x[k] * x[k];
        mx = std::max(mx, std::abs(static_cast<double>(dx[k])));
      }
    const double M = static_cast<double>(d.count());
    const double var = xss / M - (xs / M) * (xs / M);
    EXPECT_NEAR(mean[ch], xs / M, 1e-5);
    EXPECT_NEAR(s / M, 0, 1e-5);
    EXPECT_NEAR(ss / M, 1 / (1 + 1e-5 / var), 1e-5);
    for (int64_t b = 0; b < d.N; ++b)
      for (int64_t i = 0; i < d.inner; ++i) {
        const int64_t k = (b * d.C + ch) * d.inner + i;
        sdx += dx[k];
        sdx_xhat += dx[k] * y[k];
      }
    EXPECT_GT(mx, 0.01);  // not trivially zero
    EXPECT_NEAR(sdx, 0, 1e-5);
    EXPECT_NEAR(sdx_xhat, 0, 1e-5);
  }
}

}  // namespace
}  // namespace sngan::kernels
