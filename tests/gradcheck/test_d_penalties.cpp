// The discriminator regularizers in double precision: the gradient penalty and R1 differentiated
// w.r.t. D's weights through the second-order graph, through spectral norm, weight norm and
// layer norm, against central differences of the penalty's value; the orthonormal penalty's
// and weight norm's gradients likewise.
#include <memory>

#include "core/gan/penalties.h"
#include "core/nn/feature_norm.h"
#include "core/nn/orthonormal.h"
#include "core/nn/spectral_norm.h"
#include "core/nn/weight_norm.h"
#include "tests/gradcheck/gradcheck.h"

namespace sngan::testing {
namespace {

enum class Transform { kNone, kSpectral, kWeightNorm };

// conv 3x3 s2 (2 -> 3) [transform] -> [layer norm] -> leaky relu 0.1 -> linear -> 1 [transform].
class TinyD : public UnaryModule {
 public:
  TinyD(Transform t, bool layer_norm, uint64_t seed) {
    Rng rng(seed);
    conv_ = register_module("conv", std::make_shared<Conv2d>(2, 3, 3, Conv2dOptions{2, 1}, rng));
    fc_ = register_module("fc", std::make_shared<Linear>(3 * 3 * 3, 1, true, rng));
    for (WeightedLayer* l : {static_cast<WeightedLayer*>(conv_.get()),
                             static_cast<WeightedLayer*>(fc_.get())}) {
      rng.fill_uniform(l->bias().value(), -0.5, 0.5);
      if (t == Transform::kSpectral) SpectralNorm::attach(*l, {}, rng);
      if (t == Transform::kWeightNorm) WeightNorm::attach(*l);
    }
    if (layer_norm) {
      ln_ = register_module("ln", std::make_shared<FeatureNorm>(FeatureNormKind::kLayer, 3));
      rng.fill_uniform(ln_->beta().value(), -0.5, 0.5);
    }
  }
  Var forward(const Var& x) override {
    if (!ln_) return fc_->forward(flatten(conv_->forward_leaky_relu(x, 0.1)));
    return fc_->forward(flatten(leaky_relu(ln_->forward(conv_->forward(x)), 0.1)));
  }

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<Linear> fc_;
  std::shared_ptr<FeatureNorm> ln_;
};

// Compares d penalty / d theta from backward() (through create_graph) with central differences
// of penalty's value, for every parameter element of d.
void check_penalty_gradient(Module& d, const std::function<Var()>& penalty) {
  d.zero_grad();
  Var p = penalty();
  backward(p);
  int with_gradient = 0;
  for (auto& [name, param] : d.named_parameters()) {
    // A parameter the input gradient does not depend on (the last layer's bias) gets none:
    // its finite differences must then be zero.
    with_gradient += param.grad().defined();
    const Tensor analytic =
        param.grad().defined() ? param.grad().clone() : Tensor::zeros(param.shape());
    Tensor& value = param.value();
    for (int64_t k = 0; k < value.numel(); ++k) {
      const double saved = value[k];
      const double h = 1e-6 * std::max(1.0, std::abs(saved));
      value[k] = saved + h;
      const double plus = penalty().item();
      value[k] = saved - h;
      const double minus = penalty().item();
      value[k] = saved;
      const double numeric = (plus - minus) / (2 * h);
      ASSERT_NEAR(analytic[k], numeric, 1e-6 * (1 + std::abs(numeric))) << name << " element " << k;
    }
  }
  EXPECT_GE(with_gradient, 2);  // at least both layers' weights
}

Tensor input_batch(uint64_t seed) {
  Rng rng(seed);
  return random_tensor(rng, Shape{3, 2, 5, 5});
}

void check_gradient_penalty(Transform t, bool layer_norm) {
  TinyD d(t, layer_norm, 21);
  const Tensor x = input_batch(4);
  auto fwd = [&](const Var& v) { return d.forward(v); };
  check_penalty_gradient(d, [&] { return gradient_penalty_at(fwd, x, 10.0); });
}

void check_r1_penalty(Transform t, bool layer_norm) {
  TinyD d(t, layer_norm, 22);
  const Tensor x = input_batch(5);
  SpectralNormFreeze freeze;  // u fixed, so the penalty is a function of the weights alone
  check_penalty_gradient(d, [&] {
    Var xv(x, true);
    return r1_penalty(xv, d.forward(xv), 2.0);
  });
}

TEST(DPenaltyGradients, GradientPenaltyPlain) { check_gradient_penalty(Transform::kNone, false); }
TEST(DPenaltyGradients, GradientPenaltyThroughSpectralNorm) {
  check_gradient_penalty(Transform::kSpectral, false);
}
TEST(DPenaltyGradients, GradientPenaltyThroughWeightNorm) {
  check_gradient_penalty(Transform::kWeightNorm, false);
}
TEST(DPenaltyGradients, GradientPenaltyThroughLayerNorm) {
  check_gradient_penalty(Transform::kNone, true);
}
TEST(DPenaltyGradients, GradientPenaltyThroughSpectralAndLayerNorm) {
  check_gradient_penalty(Transform::kSpectral, true);
}
TEST(DPenaltyGradients, R1ThroughSpectralNorm) { check_r1_penalty(Transform::kSpectral, false); }
TEST(DPenaltyGradients, R1ThroughWeightNormAndLayerNorm) {
  check_r1_penalty(Transform::kWeightNorm, true);
}

TEST(DPenaltyGradients, OrthonormalPenaltyWideAndTall) {
  Rng rng(8);
  // wide (3 x 8): W W^T; tall (6 x 2): W^T W
  gradcheck([](const std::vector<Var>& v) { return orthonormal_penalty(v[0]); },
            {random_tensor(rng, Shape{3, 2, 2, 2})});
  gradcheck([](const std::vector<Var>& v) { return orthonormal_penalty(v[0]); },
            {random_tensor(rng, Shape{6, 2})});
}

TEST(DPenaltyGradients, WeightNormTransform) {
  Rng rng(9);
  WeightNorm wn(WeightLayout::kOutFirst);
  gradcheck([&](const std::vector<Var>& v) { return wn.apply(v[0], true); },
            {random_tensor(rng, Shape{3, 2, 3, 3})});
  gradgradcheck([&](const std::vector<Var>& v) { return wn.apply(v[0], true); },
                {random_tensor(rng, Shape{2, 3})});
}

}  // namespace
}  // namespace sngan::testing
