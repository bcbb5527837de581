// The discriminator normalizations and regularizers of Miyato et al. 2018 (Sec. 4 baselines)
// against plain formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "core/gan/penalties.h"
#include "core/nn/feature_norm.h"
#include "core/nn/orthonormal.h"
#include "core/nn/spectral_norm.h"
#include "core/nn/weight_norm.h"

namespace sngan {
namespace {

Tensor uniform(Rng& rng, const Shape& s, double lo = -1, double hi = 1) {
  Tensor t = Tensor::empty(s);
  rng.fill_uniform(t, lo, hi);
  return t;
}

TEST(WeightNorm, EveryOutputRowHasUnitNormAndKeepsItsDirection) {
  Rng rng(1);
  Tensor w = uniform(rng, Shape{5, 3, 3, 3}, -2, 2);
  WeightNorm wn(WeightLayout::kOutFirst);
  Tensor out = wn.apply(Var(w), true).value();
  ASSERT_EQ(out.shape(), w.shape());
  const int64_t cols = 27;
  for (int64_t r = 0; r < 5; ++r) {
    double ss = 0;
    for (int64_t c = 0; c < cols; ++c) ss += double(w[r * cols + c]) * w[r * cols + c];
    for (int64_t c = 0; c < cols; ++c)
      EXPECT_NEAR(out[r * cols + c], w[r * cols + c] / std::sqrt(ss), 1e-6) << r << "," << c;
  }
  EXPECT_TRUE(wn.state().empty());  // no extra checkpoint state
}

TEST(WeightNorm, RefusesTransposedConvLayout) {
  EXPECT_THROW(WeightNorm(WeightLayout::kInFirst), Error);
}

TEST(FeatureNorm, LayerNormUsesEachSamplesOwnStatistics) {
  Rng rng(2);
  Tensor x = uniform(rng, Shape{3, 2, 2, 2}, -3, 5);
  FeatureNorm ln(FeatureNormKind::kLayer, 2);
  ln.beta().value()[0] = 0.5f;
  ln.beta().value()[1] = -1.0f;
  Tensor y = ln.forward(Var(x)).value();
  for (int64_t n = 0; n < 3; ++n) {
    double m = 0, v = 0;
    for (int k = 0; k < 8; ++k) m += x[n * 8 + k];
    m /= 8;
    for (int k = 0; k < 8; ++k) v += (x[n * 8 + k] - m) * (x[n * 8 + k] - m);
    v /= 8;
    for (int k = 0; k < 8; ++k) {
      const double beta = k < 4 ? 0.5 : -1.0;
      EXPECT_NEAR(y[n * 8 + k], (x[n * 8 + k] - m) / std::sqrt(v + 1e-5) + beta, 1e-5);
    }
  }
  // A sample's output does not depend on the rest of the batch.
  Tensor one = Tensor::empty(Shape{1, 2, 2, 2});
  for (int k = 0; k < 8; ++k) one[k] = x[8 + k];
  Tensor y1 = ln.forward(Var(one)).value();
  for (int k = 0; k < 8; ++k) EXPECT_FLOAT_EQ(y1[k], y[8 + k]);
}

TEST(FeatureNorm, BatchNormUsesBatchStatisticsPerChannelWithoutScale) {
  Rng rng(3);
  Tensor x = uniform(rng, Shape{4, 3, 2, 2}, -2, 4);
  FeatureNorm bn(FeatureNormKind::kBatch, 3);
  bn.beta().value()[1] = 0.25f;
  EXPECT_EQ(bn.named_parameters().size(), 1u);  // beta only, no gamma
  Tensor y = bn.forward(Var(x)).value();
  for (int64_t c = 0; c < 3; ++c) {
    double m = 0, v = 0;
    for (int64_t n = 0; n < 4; ++n)
      for (int k = 0; k < 4; ++k) m += x[(n * 3 + c) * 4 + k];
    m /= 16;
    for (int64_t n = 0; n < 4; ++n)
      for (int k = 0; k < 4; ++k) v += std::pow(x[(n * 3 + c) * 4 + k] - m, 2);
    for (int64_t n = 0; n < 4; ++n)
      for (int k = 0; k < 4; ++k) {
        const int64_t i = (n * 3 + c) * 4 + k;
        EXPECT_NEAR(y[i], (x[i] - m) / std::sqrt(v / 16 + 1e-5) + (c == 1 ? 0.25 : 0), 1e-5);
      }
    EXPECT_NEAR(bn.running_mean()[c], 0.1 * m, 1e-5);            // momentum 0.1 from 0
    EXPECT_NEAR(bn.running_var()[c], 0.9 + 0.1 * v / 15, 1e-5);  // unbiased, from 1
  }
}

TEST(Orthonormal, PenaltyMatchesAPlainLoopForWideAndTallWeights) {
  Rng rng(4);
  for (Shape s : {Shape{3, 2, 2, 2}, Shape{6, 2}, Shape{4, 4}}) {
    Tensor w = uniform(rng, s);
    const int64_t rows = s[0], cols = w.numel() / rows;
    const bool wide = rows < cols;
    const int64_t n = wide ? rows : cols;
    double expected = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double g = 0;
        if (wide)
          for (int64_t k = 0; k < cols; ++k) g += double(w[i * cols + k]) * w[j * cols + k];
        else
          for (int64_t k = 0; k < rows; ++k) g += double(w[k * cols + i]) * w[k * cols + j];
        expected += std::pow(g - (i == j ? 1 : 0), 2);
      }
    EXPECT_NEAR(orthonormal_penalty(Var(w)).item(), expected, 1e-4 * (1 + expected)) << s.str();
  }
}

// D(x) = <w, x> + b: grad_x D = w for every sample, so the penalties are plain formulas of w.
TEST(Penalties, GradientPenaltyAndR1OnALinearCritic) {
  Rng rng(5);
  Linear d(4, 1, true, rng);
  auto fwd = [&](const Var& x) { return d.forward(x); };
  double ww = 0;
  for (int k = 0; k < 4; ++k) ww += double(d.weight().value()[k]) * d.weight().value()[k];
  Tensor real = uniform(rng, Shape{6, 4}), fake = uniform(rng, Shape{6, 4});
  Rng e_rng(9);
  EXPECT_NEAR(gradient_penalty(fwd, real, fake, 10, e_rng).item(),
              10 * std::pow(std::sqrt(ww) - 1, 2), 1e-4);
  Var x(real, true);
  EXPECT_NEAR(r1_penalty(x, d.forward(x), 3).item(), 1.5 * ww, 1e-4);
}

TEST(Penalties, InterpolatesUseOneUniformDrawPerSample) {
  Rng rng(6);
  Tensor real = uniform(rng, Shape{5, 3}), fake = uniform(rng, Shape{5, 3});
  Rng a(11), b(11);
  Tensor xhat = interpolate(real, fake, a);
  Tensor e = Tensor::empty(Shape{5});
  b.fill_uniform(e, 0, 1);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_GE(e[i], 0);
    EXPECT_LE(e[i], 1);
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(xhat[i * 3 + k], e[i] * real[i * 3 + k] + (1 - e[i]) * fake[i * 3 + k], 1e-6);
  }
  EXPECT_EQ(a.state(), b.state());  // exactly N draws
}

TEST(Penalties, GradientPenaltyForwardDoesNotAdvanceSpectralNormU) {
  Rng rng(7);
  Linear d(4, 3, true, rng);
  auto sn = SpectralNorm::attach(d, {}, rng);
  auto fwd = [&](const Var& x) { return sum(d.forward(x), {1}, true); };
  const Tensor u0 = sn->u().clone(), v0 = sn->v().clone();
  Tensor x = uniform(rng, Shape{2, 4});
  backward(gradient_penalty_at(fwd, x, 10));
  for (int64_t i = 0; i < u0.numel(); ++i) EXPECT_EQ(sn->u()[i], u0[i]);
  for (int64_t i = 0; i < v0.numel(); ++i) EXPECT_EQ(sn->v()[i], v0[i]);
  // A training forward outside the penalty does advance it.
  fwd(Var(x));
  double moved = 0;
  for (int64_t i = 0; i < u0.numel(); ++i) moved += std::abs(sn->u()[i] - u0[i]);
  EXPECT_GT(moved, 0);
}

TEST(Penalties, ClipParametersBoundsEveryParameter) {
  Rng rng(8);
  Linear d(5, 3, true, rng);
  rng.fill_uniform(d.weight().value(), -1, 1);
  rng.fill_uniform(d.bias().value(), -1, 1);
  const Tensor w0 = d.weight().value().clone();
  clip_parameters(d, 0.05);
  for (auto& [name, p] : d.named_parameters())
    for (int64_t i = 0; i < p.numel(); ++i) {
      EXPECT_LE(p.value()[i], 0.05f) << name;
      EXPECT_GE(p.value()[i], -0.05f) << name;
    }
  for (int64_t i = 0; i < w0.numel(); ++i) {
    if (std::abs(w0[i]) < 0.05f) {
      EXPECT_EQ(d.weight().value()[i], w0[i]);
    }
  }
  EXPECT_THROW(clip_parameters(d, 0), Error);
}

}  // namespace
}  // namespace sngan
