// Pooling and resizing: fast kernels (pool_ops.cpp) == reference loops (pool_ops_ref.cpp) over
// a table of shapes at 1 and 2 OpenMP threads; the reference kernels against values worked
// out by hand (and printed by torch.nn.functional for the same inputs); the Var ops' shapes,
// errors and missing backward; conv2d's per-axis padding option against the reference conv.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor/kernels/gemm_ops.h"
#include "core/tensor/kernels/pool_ops.h"
#include "core/tensor/ops.h"
#include "core/tensor/rng.h"

namespace sngan {
namespace {

using Vec = std::vector<Scalar>;

Vec randn(Rng& rng, int64_t n) {
  Tensor t = Tensor::empty(Shape{n});
  rng.fill_normal(t);
  return t.to_vector();
}

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// Elementwise agreement within a few ulps (max pooling picks the same element; the resize does
// the same arithmetic in the same order, where only multiply-add contraction may differ).
void expect_close(const Vec& got, const Vec& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 4 * std::numeric_limits<Scalar>::epsilon() *
                       std::max(std::abs(double(want[i])), 1.0);
    if (!(std::abs(double(got[i]) - want[i]) <= tol) && bad++ < 5)
      ADD_FAILURE() << what << " at " << i << ": fast " << got[i] << ", reference " << want[i];
  }
  EXPECT_EQ(bad, 0) << what;
}

struct PoolCase {
  int64_t planes, H, W, k, stride, pad;
};

const PoolCase kPoolCases[] = {
    // planes, H, W, k, stride, pad
    {2, 5, 5, 3, 1, 1},      // "same" 3x3 (Inception's branch pools)
    {3, 8, 8, 3, 1, 1},
    {1, 1, 1, 3, 1, 1},      // a single pixel: every window mostly padding
    {2, 1, 4, 3, 1, 1},      // one row
    {4, 147, 147, 3, 2, 0},  // Inception's first max pool (147 -> 73)
    {3, 71, 71, 3, 2, 0},    // second (71 -> 35)
    {5, 35, 35, 3, 2, 0},    // Mixed_6a (35 -> 17), Mixed_7a (17 -> 8) below
    {5, 17, 17, 3, 2, 0},
    {64, 17, 17, 3, 1, 1},   // many planes: the threaded loop
    {2, 8, 8, 3, 1, 1},
    {2, 6, 7, 2, 2, 0},      // even kernel, odd width (a dropped last column)
    {2, 9, 6, 2, 2, 1},      // even kernel with padding
    {3, 7, 9, 5, 2, 2},      // 5x5 pad 2
    {2, 10, 10, 3, 3, 1},    // stride 3
    {1, 3, 3, 3, 1, 0},      // kernel == input
};

TEST(PoolKernels, FastMatchesReference) {
  Rng rng(31);
  for (int threads : {1, 2}) {
    ThreadCount guard(threads);
    for (const PoolCase& c : kPoolCases) {
      const kernels::Pool2dDims d = kernels::make_pool2d_dims(c.planes, c.H, c.W, c.k, c.stride, c.pad);
      const Vec x = randn(rng, c.planes * c.H * c.W);
      const size_t yn = static_cast<size_t>(d.planes * d.Hout * d.Wout);
      const std::string what = std::to_string(c.planes) + "x" + std::to_string(c.H) + "x" +
                               std::to_string(c.W) + " k" + std::to_string(c.k) + " s" +
                               std::to_string(c.stride) + " p" + std::to_string(c.pad) +
                               " threads " + std::to_string(threads);
      Vec got(yn, Scalar(7)), want(yn, Scalar(-7));
      kernels::max_pool2d_forward(got.data(), x.data(), d);
      kernels::ref::max_pool2d_forward(want.data(), x.data(), d);
      expect_close(got, want, "max " + what);
      // Average pooling sums in another order than the reference: any order is within
      // (k*k) * eps * (sum of |x| over the window) / divisor of the exact mean, which the
      // reference run on |x| bounds (Higham, Accuracy and Stability, Sec. 3.1).
      Vec ax(x.size()), mag(yn);
      for (size_t i = 0; i < x.size(); ++i) ax[i] = std::abs(x[i]);
      for (bool include : {false, true}) {
        got.assign(yn, Scalar(7)), want.assign(yn, Scalar(-7));
        kernels::avg_pool2d_forward(got.data(), x.data(), d, include);
        kernels::ref::avg_pool2d_forward(want.data(), x.data(), d, include);
        kernels::ref::avg_pool2d_forward(mag.data(), ax.data(), d, include);
        int bad = 0;
        for (size_t i = 0; i < yn; ++i) {
          const double tol = 2.0 * d.k * d.k * std::numeric_limits<Scalar>::epsilon() * mag[i];
          if (!(std::abs(double(got[i]) - want[i]) <= tol) && bad++ < 5)
            ADD_FAILURE() << "avg include_pad=" << include << " " << what << " at " << i
                          << ": fast " << got[i] << ", reference " << want[i];
        }
        EXPECT_EQ(bad, 0);
      }
      Vec g(static_cast<size_t>(c.planes), Scalar(7)), gr(static_cast<size_t>(c.planes), Scalar(-7));
      kernels::global_avg_pool_forward(g.data(), x.data(), c.planes, c.H * c.W);
      kernels::ref::global_avg_pool_forward(gr.data(), x.data(), c.planes, c.H * c.W);
      expect_close(g, gr, "global avg " + what);
    }
  }
}

struct ResizeCase {
  int64_t planes, H, W, Hout, Wout;
};

TEST(PoolKernels, ResizeFastMatchesReference) {
  const ResizeCase cases[] = {
      {3, 32, 32, 299, 299},  // CIFAR-10 to Inception's input
      {1, 28, 28, 299, 299},  // Fashion-MNIST
      {2, 5, 7, 11, 4},       // up in one axis, down in the other
      {2, 320, 300, 299, 299},  // slight downscale
      {1, 1, 1, 3, 2},        // one pixel
      {2, 6, 6, 6, 6},        // identity
      {48, 9, 9, 17, 17},     // many planes: the threaded loop
  };
  Rng rng(32);
  for (int threads : {1, 2}) {
    ThreadCount guard(threads);
    for (const ResizeCase& c : cases) {
      const Vec x = randn(rng, c.planes * c.H * c.W);
      const size_t yn = static_cast<size_t>(c.planes * c.Hout * c.Wout);
      Vec got(yn, Scalar(7)), want(yn, Scalar(-7));
      kernels::resize_bilinear_forward(got.data(), x.data(), c.planes, c.H, c.W, c.Hout, c.Wout);
      kernels::ref::resize_bilinear_forward(want.data(), x.data(), c.planes, c.H, c.W, c.Hout, c.Wout);
      expect_close(got, want, "resize " + std::to_string(c.H) + "x" + std::to_string(c.W) + " -> " +
                                  std::to_string(c.Hout) + "x" + std::to_string(c.Wout));
    }
  }
}

void expect_values(const Vec& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << what << " at " << i;
}

// x = 0, 1, ..., 15 as a 4x4 plane.
Vec ramp16() {
  Vec x(16);
  for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = Scalar(i);
  return x;
}

TEST(PoolKernels, ReferenceAgainstHandValues) {
  const Vec x = ramp16();
  const kernels::Pool2dDims same = kernels::make_pool2d_dims(1, 4, 4, 3, 1, 1);
  Vec y(16);
  // count_include_pad=False: the corner averages 0, 1, 4, 5 -> 2.5; an edge 0, 1, 2, 4, 5, 6 -> 3.
  kernels::ref::avg_pool2d_forward(y.data(), x.data(), same, false);
  expect_values(y, {2.5, 3, 4, 4.5, 4.5, 5, 6, 6.5, 8.5, 9, 10, 10.5, 10.5, 11, 12, 12.5},
                "avg_pool2d count_include_pad=False");
  // count_include_pad=True: the same sums over 9.
  kernels::ref::avg_pool2d_forward(y.data(), x.data(), same, true);
  EXPECT_NEAR(y[0], 10.0 / 9, 1e-6);
  EXPECT_NEAR(y[5], 45.0 / 9, 1e-6);
  // max pool 3x3 stride 2 pad 1 of -x: the padding (which would be 0) never wins.
  Vec neg(16);
  for (size_t i = 0; i < 16; ++i) neg[i] = -x[i];
  const kernels::Pool2dDims s2 = kernels::make_pool2d_dims(1, 4, 4, 3, 2, 1);
  Vec m(4);
  kernels::ref::max_pool2d_forward(m.data(), neg.data(), s2);
  expect_values(m, {0, -1, -4, -5}, "max_pool2d of -x");
  // A NaN in a window wins that window (x[0] lies in the first window only).
  Vec xn = x;
  xn[0] = std::numeric_limits<Scalar>::quiet_NaN();
  kernels::ref::max_pool2d_forward(m.data(), xn.data(), s2);
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_FALSE(std::isnan(m[3]));
}

TEST(PoolKernels, ResizeReferenceAgainstHandValues) {
  // [[1, 2], [3, 4]] -> 4x4: source coordinates -0.25 (clamped to 0), 0.25, 0.75, 1.25.
  const Vec x{1, 2, 3, 4};
  Vec y(16);
  kernels::ref::resize_bilinear_forward(y.data(), x.data(), 1, 2, 2, 4, 4);
  expect_values(y, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4},
                "2x2 -> 4x4");
  // -> 3x5: rows at 0 (clamped), 0.5, 1.1667 -> 1 (the last row repeats); columns 0, 0.1, 0.5, 0.9, 1.
  Vec z(15);
  kernels::ref::resize_bilinear_forward(z.data(), x.data(), 1, 2, 2, 3, 5);
  expect_values(z, {1, 1.1, 1.5, 1.9, 2, 2, 2.1, 2.5, 2.9, 3, 3, 3.1, 3.5, 3.9, 4}, "2x2 -> 3x5");
  // 4x4 ramp -> 3x3 (downscale by 4/3): coordinates 1/6, 3/2, 17/6.
  Vec d(9);
  const Vec r = ramp16();
  kernels::ref::resize_bilinear_forward(d.data(), r.data(), 1, 4, 4, 3, 3);
  expect_values(d, {5.0 / 6, 13.0 / 6, 3.5, 37.0 / 6, 7.5, 53.0 / 6, 11.5, 77.0 / 6, 85.0 / 6},
                "4x4 -> 3x3");
}

TEST(PoolKernels, DimsAndErrors) {
  const kernels::Pool2dDims d = kernels::make_pool2d_dims(2, 147, 147, 3, 2, 0);
  EXPECT_EQ(d.Hout, 73);
  EXPECT_EQ(d.Wout, 73);
  EXPECT_EQ(kernels::make_pool2d_dims(1, 17, 17, 3, 2, 0).Hout, 8);
  EXPECT_EQ(kernels::make_pool2d_dims(1, 8, 8, 3, 1, 1).Hout, 8);
  EXPECT_THROW(kernels::make_pool2d_dims(1, 5, 5, 3, 1, 2), Error);  // pad > k / 2
  EXPECT_THROW(kernels::make_pool2d_dims(1, 2, 2, 3, 1, 0), Error);  // empty output
  EXPECT_THROW(kernels::make_pool2d_dims(1, 5, 5, 3, 0, 0), Error);
  EXPECT_THROW(kernels::make_pool2d_dims(0, 5, 5, 3, 1, 0), Error);
}

TEST(PoolOps, ShapesGradientsAndErrors) {
  Rng rng(33);
  Tensor t = Tensor::empty(Shape{2, 3, 9, 9});
  rng.fill_normal(t);
  const Var x(t, true);
  EXPECT_EQ(max_pool2d(x, {3, 2, 0}).shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(avg_pool2d(x, {3, 1, 1, false}).shape(), (Shape{2, 3, 9, 9}));
  EXPECT_EQ(resize_bilinear(x, 299, 13).shape(), (Shape{2, 3, 299, 13}));
  // Forward only: differentiating through them throws, naming the op.
  for (const Var& y : {max_pool2d(x, {3, 2, 0}), avg_pool2d(x, {3, 1, 1, false}), resize_bilinear(x, 5, 5)}) {
    try {
      backward(sum(y));
      ADD_FAILURE() << y.op() << ": expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("has no backward"), std::string::npos) << e.what();
    }
  }
  // global_avg_pool2d equals mean over H and W, and its gradient is 1 / (H*W) everywhere.
  const Var g = global_avg_pool2d(x);
  const Var m = mean(x, {2, 3});
  ASSERT_EQ(g.shape(), (Shape{2, 3}));
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(g.value()[i], m.value()[i], 1e-6);
  backward(sum(g));
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(x.grad()[i], 1.0 / 81, 1e-7);
  // Errors name the op and the shape.
  try {
    max_pool2d(x, {3, 1, 2});
    ADD_FAILURE() << "expected an error for pad > kernel / 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_pool2d on (2, 3, 9, 9)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resize_bilinear(Var(Tensor::zeros(Shape{3, 4})), 5, 5), Error);
  EXPECT_THROW(resize_bilinear(x, 0, 5), Error);
}

// conv2d's pad_h / pad_w options reach the kernel: values against the reference conv with the
// same per-axis padding, and `pad` is ignored on an axis that has its own.
TEST(PoolOps, Conv2dPerAxisPadding) {
  Rng rng(34);
  struct Case {
    Shape x, w;
    Conv2dOptions o;
    int64_t ph, pw;  // the padding the op must use
  };
  const Case cases[] = {{{2, 4, 17, 17}, {3, 4, 1, 7}, {1, 0, 0, 3}, 0, 3},
                        {{2, 4, 17, 17}, {3, 4, 7, 1}, {1, 0, 3, 0}, 3, 0},
                        {{1, 3, 8, 8}, {2, 3, 1, 3}, {1, 5, 0, 1}, 0, 1},
                        {{1, 3, 8, 6}, {2, 3, 3, 1}, {1, 1, -1, 0}, 1, 0},
                        {{2, 2, 9, 11}, {2, 2, 3, 3}, {2, 0, 2, 1}, 2, 1}};
  for (const Case& c : cases) {
    Tensor xt = Tensor::empty(c.x), wt = Tensor::empty(c.w), bt = Tensor::empty(Shape{c.w[0]});
    rng.fill_normal(xt), rng.fill_normal(wt), rng.fill_normal(bt);
    const Var y = conv2d(Var(xt), Var(wt), Var(bt), c.o);
    const kernels::Conv2dDims d = kernels::make_conv2d_dims(c.x[0], c.x[1], c.x[2], c.x[3], c.w[0], c.w[2],
                                                            c.w[3], c.o.stride, c.ph, c.pw);
    ASSERT_EQ(y.shape(), (Shape{d.N, d.Cout, d.Hout, d.Wout})) << c.w.str();
    Vec want(static_cast<size_t>(y.numel()));
    kernels::ref::conv2d_forward(want.data(), xt.data(), wt.data(), bt.data(), d, false);
    for (int64_t i = 0; i < y.numel(); ++i)
      ASSERT_NEAR(y.value()[i], want[static_cast<size_t>(i)], 1e-4) << c.w.str() << " at " << i;
  }
}

}  // namespace
}  // namespace sngan
