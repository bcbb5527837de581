// nn modules, initialisers, spectral norm and optimizers.
#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/nn/init.h"
#include "core/nn/layers.h"
#include "core/nn/optim.h"
#include "core/nn/spectral_norm.h"

namespace sngan {
namespace {

// Largest singular value of the weight seen with output channels as rows, by SVD.
double svd_sigma(const Tensor& w, WeightLayout layout) {
  const Shape& s = w.shape();
  int64_t kk = 1;
  for (int d = 2; d < s.ndim(); ++d) kk *= s[d];
  const int64_t rows = layout == WeightLayout::kOutFirst ? s[0] : s[1];
  const int64_t in = layout == WeightLayout::kOutFirst ? s[1] : s[0];
  Eigen::MatrixXd m(rows, in * kk);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t k = 0; k < kk; ++k)
        m(r, i * kk + k) = layout == WeightLayout::kOutFirst ? w[(r * in + i) * kk + k]
                                                            : w[(i * rows + r) * kk + k];
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(m);
  return svd.singularValues()(0);
}

void expect_sigma_converges(WeightedLayer& layer, const Var& input) {
  Rng rng(3);
  auto sn = SpectralNorm::attach(layer, {}, rng);
  const double want = svd_sigma(layer.weight().value(), layer.layout());
  layer.train();
  for (int i = 0; i < 200; ++i) layer.forward(input);
  EXPECT_NEAR(sn->sigma(), want, 1e-4 * want);
  // The weight the layer computes with has spectral norm 1.
  Tensor normalized = layer.effective_weight().value();
  EXPECT_NEAR(svd_sigma(normalized, layer.layout()), 1.0, 1e-3);
}

TEST(SpectralNorm, SigmaMatchesSvdForConv) {
  Rng rng(1);
  Conv2d conv(3, 8, 3, Conv2dOptions{/*stride=*/1, /*pad=*/1}, rng);
  Tensor x = Tensor::empty(Shape{1, 3, 5, 5});
  rng.fill_normal(x);
  expect_sigma_converges(conv, Var(x));
}

TEST(SpectralNorm, SigmaMatchesSvdForTransposedConv) {
  Rng rng(2);
  ConvTranspose2d deconv(6, 4, 4, ConvTranspose2dOptions{/*stride=*/2, /*pad=*/1}, rng);
  Tensor x = Tensor::empty(Shape{1, 6, 3, 3});
  rng.fill_normal(x);
  expect_sigma_converges(deconv, Var(x));
}

TEST(SpectralNorm, SigmaMatchesSvdForLinear) {
  Rng rng(4);
  Linear fc(10, 7, true, rng);
  Tensor x = Tensor::empty(Shape{2, 10});
  rng.fill_normal(x);
  expect_sigma_converges(fc, Var(x));
}

TEST(SpectralNorm, UPersistsAndEvalLeavesItUntouched) {
  Rng rng(5);
  Conv2d conv(2, 4, 3, Conv2dOptions{/*stride=*/1, /*pad=*/1}, rng, /*bias=*/false);
  auto sn = SpectralNorm::attach(conv, {}, rng);
  // u and v are registered as buffers of the layer, so checkpoints hold them.
  auto buffers = conv.named_buffers();
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers[0].first, "u");
  EXPECT_EQ(buffers[0].second.data(), sn->u().data());
  Tensor x = Tensor::empty(Shape{1, 2, 4, 4});
  rng.fill_normal(x);
  Tensor u0 = sn->u().clone();
  conv.train();
  conv.forward(Var(x));
  Tensor u1 = sn->u().clone();
  EXPECT_NE(u0.to_vector(), u1.to_vector());  // a training forward advances u
  conv.forward(Var(x));
  Tensor u2 = sn->u().clone();
  EXPECT_NE(u1.to_vector(), u2.to_vector());  // ... from where the last one left it
  conv.eval();
  const Scalar sigma_eval = [&] { conv.forward(Var(x)); return sn->sigma(); }();
  conv.forward(Var(x));
  EXPECT_EQ(sn->u().to_vector(), u2.to_vector());  // eval writes nothing
  EXPECT_EQ(sn->sigma(), sigma_eval);
}

// d/dW <W/sigma, R> with u, v fixed, against central differences in float, for each weight
// layout (a linear and a conv store output-first, a transposed conv input-first).
void expect_gradient_flows_through_sigma(WeightedLayer& layer, Rng& rng) {
  SpectralNormConfig cfg;
  cfg.power_iterations = 0;  // keep u, v fixed so the function is smooth in W
  auto sn = SpectralNorm::attach(layer, cfg, rng);
  Tensor R = Tensor::empty(layer.weight().value().shape());
  rng.fill_normal(R);
  auto loss = [&] { return sum(mul(layer.effective_weight(), Var(R))); };
  layer.zero_grad();
  backward(loss());
  Tensor analytic = layer.weight().grad().clone();
  for (int64_t k = 0; k < analytic.numel(); ++k) {
    const Scalar keep = layer.weight().value()[k];
    const Scalar h = 1e-2f;
    layer.weight().value()[k] = keep + h;
    double lp = loss().item();
    layer.weight().value()[k] = keep - h;
    double lm = loss().item();
    layer.weight().value()[k] = keep;
    EXPECT_NEAR(analytic[k], (lp - lm) / (2 * h), 2e-3) << k;
  }
}

TEST(SpectralNorm, GradientFlowsThroughSigma) {
  Rng rng(6);
  Linear fc(3, 2, false, rng);
  expect_gradient_flows_through_sigma(fc, rng);
  Conv2d conv(2, 3, 3, Conv2dOptions{/*stride=*/1, /*pad=*/1}, rng);
  expect_gradient_flows_through_sigma(conv, rng);
  ConvTranspose2d deconv(3, 2, 2, ConvTranspose2dOptions{/*stride=*/2, /*pad=*/0}, rng);
  expect_gradient_flows_through_sigma(deconv, rng);
}

// W / sigma's backward runs as two passes over the weight, or, when recorded (create_graph, as
// a gradient penalty needs), as differentiable ops: both give dW = g / sigma - <g, W> / sigma^2
// u v^T, so they agree to float rounding, and the recorded one can be differentiated again.
TEST(SpectralNorm, RecordedBackwardMatchesTheDirectOne) {
  Rng rng(11);
  Conv2d conv(6, 5, 3, Conv2dOptions{/*stride=*/1, /*pad=*/1}, rng);
  SpectralNormConfig cfg;
  cfg.power_iterations = 0;
  SpectralNorm::attach(conv, cfg, rng);
  Tensor R = Tensor::empty(conv.weight().value().shape());
  rng.fill_normal(R);
  auto loss = [&] { return sum(mul(conv.effective_weight(), Var(R))); };
  const Tensor direct = grad(loss(), {conv.weight()})[0].value().clone();
  const Var recorded = grad(loss(), {conv.weight()}, /*create_graph=*/true)[0];
  ASSERT_TRUE(recorded.requires_grad());
  double scale = 0;
  for (int64_t k = 0; k < direct.numel(); ++k) scale = std::max(scale, std::abs(double(direct[k])));
  for (int64_t k = 0; k < direct.numel(); ++k)
    EXPECT_NEAR(recorded.value()[k], direct[k], 1e-5 * scale) << k;
  // Differentiable again: the gradient of <dW, dW> reaches W.
  const Var again = grad(sum(mul(recorded, recorded)), {conv.weight()})[0];
  double norm = 0;
  for (int64_t k = 0; k < again.numel(); ++k) norm += std::abs(double(again.value()[k]));
  EXPECT_GT(norm, 0.0);
}

TEST(Module, NamesFollowTheTreeAndTrainModeRecurses) {
  Rng rng(7);
  Sequential seq;
  seq.add(std::make_shared<Linear>(3, 4, true, rng));
  seq.add(std::make_shared<BatchNorm>(4));
  seq.add(std::make_shared<ReLU>());
  auto names = seq.named_parameters();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].first, "0.weight");
  EXPECT_EQ(names[3].first, "1.bias");
  EXPECT_EQ(seq.named_buffers()[0].first, "1.running_mean");
  EXPECT_EQ(seq.parameter_count(), 3 * 4 + 4 + 4 + 4);
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, -1, 0, 4});
  seq.forward(Var(x));  // training mode: running statistics move
  auto bn_mean = seq.named_buffers()[0].second;
  EXPECT_NE(bn_mean[0], 0.0f);
  seq.eval();
  const Tensor before = bn_mean.clone();
  seq.forward(Var(x));  // eval mode on every child: running statistics stay
  EXPECT_EQ(bn_mean.to_vector(), before.to_vector());
}

TEST(BatchNorm, RunningStatisticsFollowPyTorch) {
  BatchNorm bn(1, false, 0.1f);
  // Batch {1, 3}: mean 2, biased var 1, unbiased var 2.
  bn.forward(Var(Tensor::from_vector(Shape{2, 1}, {1, 3})));
  EXPECT_FLOAT_EQ(bn.running_mean()[0], 0.2f);
  EXPECT_FLOAT_EQ(bn.running_var()[0], 0.9f + 0.1f * 2.0f);
}

TEST(Init, GlorotBoundAndOrthogonalRows) {
  Rng rng(8);
  Tensor w = Tensor::empty(Shape{16, 8, 3, 3});
  init::glorot_uniform(w, rng, std::sqrt(2.0));
  const double bound = std::sqrt(2.0) * std::sqrt(6.0 / (8 * 9 + 16 * 9));
  double mx = 0;
  for (int64_t i = 0; i < w.numel(); ++i) mx = std::max(mx, std::abs(double(w[i])));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.95 * bound);
  Tensor q = Tensor::empty(Shape{4, 10});
  init::orthogonal(q, rng);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) {
      double d = 0;
      for (int k = 0; k < 10; ++k) d += q[a * 10 + k] * q[b * 10 + k];
      EXPECT_NEAR(d, a == b ? 1.0 : 0.0, 1e-5);
    }
}

TEST(Init, NormalHasTheRequestedMoments) {
  Rng rng(9);
  Tensor w = Tensor::empty(Shape{200, 100});
  init::normal(w, rng, 0.02);
  double s = 0, ss = 0;
  for (int64_t i = 0; i < w.numel(); ++i) s += w[i], ss += double(w[i]) * w[i];
  const double n = static_cast<double>(w.numel()), mean = s / n;
  EXPECT_NEAR(mean, 0.0, 5 * 0.02 / std::sqrt(n));              // 5 standard errors
  EXPECT_NEAR(std::sqrt(ss / n - mean * mean), 0.02, 5 * 0.02 / std::sqrt(2 * n));  // 5 s.e.
}

TEST(LayerNormModule, NormalisesEachSampleThenScalesAndShifts) {
  LayerNorm ln(Shape{2, 3});
  Rng rng(10);
  Tensor x = Tensor::empty(Shape{4, 2, 3});
  rng.fill_uniform(x, -3, 5);
  Tensor y = ln.forward(Var(x)).value();
  for (int n = 0; n < 4; ++n) {
    double s = 0, ss = 0;
    for (int k = 0; k < 6; ++k) s += y[n * 6 + k], ss += double(y[n * 6 + k]) * y[n * 6 + k];
    EXPECT_NEAR(s / 6, 0.0, 1e-5);
    EXPECT_NEAR(ss / 6, 1.0, 1e-3);  // biased variance, eps 1e-5
  }
  // gamma and beta are the module's parameters, applied per element.
  auto params = ln.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  params[0].second.value().fill(2.0f);  // weight
  params[1].second.value().fill(1.0f);  // bias
  Tensor z = ln.forward(Var(x)).value();
  for (int64_t i = 0; i < z.numel(); ++i) EXPECT_NEAR(z[i], 2 * y[i] + 1, 1e-5);
}

TEST(Optim, AdamMatchesHandComputedSteps) {
  Var p(Tensor::from_vector(Shape{2}, {1.0f, -2.0f}), true);
  Adam adam({{"p", p}}, {0.1, 0.5, 0.9, 1e-8});
  // Step 1 with g = (0.5, -1): m = (0.25, -0.5), v = (0.025, 0.1); m_hat = g, v_hat = g^2,
  // so the step is lr * sign(g) = 0.1 (up to eps).
  p.grad() = Tensor::from_vector(Shape{2}, {0.5f, -1.0f});
  adam.step();
  EXPECT_NEAR(p.value()[0], 0.9, 1e-6);
  EXPECT_NEAR(p.value()[1], -1.9, 1e-6);
  // Step 2 with g = (1, 1): m = (0.625, 0.25), v = (0.1225, 0.19);
  // m_hat = m / 0.75, v_hat = v / 0.19.
  p.grad() = Tensor::from_vector(Shape{2}, {1.0f, 1.0f});
  adam.step();
  const double s0 = 0.1 * (0.625 / 0.75) / std::sqrt(0.1225 / 0.19);
  const double s1 = 0.1 * (0.25 / 0.75) / std::sqrt(0.19 / 0.19);
  EXPECT_NEAR(p.value()[0], 0.9 - s0, 1e-6);
  EXPECT_NEAR(p.value()[1], -1.9 - s1, 1e-6);
  EXPECT_EQ(adam.step_count(), 2);
  EXPECT_NEAR(adam.state()[0].second[0], 0.625, 1e-7);  // m.p
}

// The step reports what it left non-finite, in the order parameter, m, v, and the first such
// parameter (in the element the threads' split puts last too: 70000 elements run in parallel).
TEST(Optim, AdamReportsTheFirstNonFiniteParameterOrMoment) {
  const int64_t n = 70000;
  Var a(Tensor::zeros(Shape{n}), true), b(Tensor::zeros(Shape{3}), true);
  Adam adam({{"a", a}, {"b", b}}, {0.1, 0.5, 0.9, 1e-8});
  a.grad() = Tensor::full(Shape{n}, 1.0f);
  b.grad() = Tensor::full(Shape{3}, 1.0f);
  adam.step();
  EXPECT_EQ(adam.non_finite().name, "");
  // g = 1e30: g^2 overflows v to Inf, while m and (m / sqrt(v) = 0) the parameter stay finite.
  b.grad()[2] = 1e30f;
  adam.step();
  EXPECT_EQ(adam.non_finite().name, "v.b");
  EXPECT_TRUE(adam.non_finite().in_state);
  // A NaN gradient makes the parameter itself NaN; `a` comes first.
  b.grad()[2] = 1.0f;
  a.grad()[n - 1] = std::numeric_limits<float>::quiet_NaN();
  adam.step();
  EXPECT_EQ(adam.non_finite().name, "a");
  EXPECT_FALSE(adam.non_finite().in_state);
}

TEST(Optim, PlainSgdSubtractsTheScaledGradient) {
  Var p(Tensor::from_vector(Shape{2}, {1.0f, -1.0f}), true);
  Sgd sgd({{"p", p}}, 0.5);
  p.grad() = Tensor::from_vector(Shape{2}, {2.0f, -4.0f});
  sgd.step();
  EXPECT_NEAR(p.value()[0], 0.0, 1e-7);  // 1 - 0.5 * 2
  EXPECT_NEAR(p.value()[1], 1.0, 1e-7);  // -1 + 0.5 * 4
  sgd.step();  // no momentum: the same step again
  EXPECT_NEAR(p.value()[0], -1.0, 1e-7);
}

TEST(Optim, SgdWithMomentumMatchesHandComputedSteps) {
  Var p(Tensor::from_vector(Shape{1}, {1.0f}), true);
  Sgd sgd({{"p", p}}, 0.1, 0.9);
  p.grad() = Tensor::from_vector(Shape{1}, {2.0f});
  sgd.step();  // buf = 2, p = 1 - 0.2
  EXPECT_NEAR(p.value()[0], 0.8, 1e-7);
  sgd.step();  // buf = 0.9*2 + 2 = 3.8, p = 0.8 - 0.38
  EXPECT_NEAR(p.value()[0], 0.42, 1e-6);
  EXPECT_THROW(Adam({{"p", p}}, {0.0, 0.5, 0.9, 1e-8}), Error);
}

}  // namespace
}  // namespace sngan
