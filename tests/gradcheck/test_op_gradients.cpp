// Gradient checks of every differentiable op (first order) and of the double-backward paths.
#include "tests/gradcheck/gradcheck.h"

namespace sngan::testing {
namespace {

Tensor rnd(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Rng rng(seed);
  return random_tensor(rng, s, lo, hi);
}

const Shape kImg{2, 3, 4, 4};

TEST(GradCheck, AddSubMulDivWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {kImg, kImg}, {kImg, Shape{1, 3, 1, 1}}, {kImg, Shape{4}}, {Shape{1}, kImg}, {Shape{3, 1}, Shape{1, 5}}};
  for (auto& [sa, sb] : pairs) {
    Tensor a = rnd(sa, 1), b = rnd(sb, 2, 0.5, 1.5);
    gradcheck([](auto& v) { return add(v[0], v[1]); }, {a, b});
    gradcheck([](auto& v) { return sub(v[0], v[1]); }, {a, b});
    gradcheck([](auto& v) { return mul(v[0], v[1]); }, {a, b});
    gradcheck([](auto& v) { return div(v[0], v[1]); }, {a, b});
  }
}

TEST(GradCheck, ScalarOps) {
  Tensor a = rnd(kImg, 3);
  gradcheck([](auto& v) { return add_scalar(v[0], 0.7); }, {a});
  gradcheck([](auto& v) { return mul_scalar(v[0], -1.3); }, {a});
  gradcheck([](auto& v) { return neg(v[0]); }, {a});
  gradcheck([](auto& v) { return rsub_scalar(2.0, v[0]); }, {a});
}

TEST(GradCheck, Activations) {
  Tensor a = rnd(kImg, 4, -2, 2);
  gradcheck([](auto& v) { return relu(v[0]); }, {a});
  gradcheck([](auto& v) { return leaky_relu(v[0], 0.1); }, {a});
  gradcheck([](auto& v) { return tanh(v[0]); }, {a});
  gradcheck([](auto& v) { return sigmoid(v[0]); }, {a});
  gradcheck([](auto& v) { return softplus(v[0]); }, {a});
  gradcheck([](auto& v) { return square(v[0]); }, {a});
  Tensor pos = rnd(kImg, 5, 0.2, 2);
  gradcheck([](auto& v) { return sqrt(v[0]); }, {pos});
  gradcheck([](auto& v) { return pow(v[0], 1.7); }, {pos});
  gradcheck([](auto& v) { return leaky_relu_grad(v[0], v[1], 0.2); }, {a, rnd(kImg, 6)},
            7, {true, false});
}

TEST(GradCheck, Reductions) {
  Tensor a = rnd(kImg, 8);
  gradcheck([](auto& v) { return sum(v[0]); }, {a});
  gradcheck([](auto& v) { return mean(v[0]); }, {a});
  gradcheck([](auto& v) { return sum(v[0], {1, 2, 3}); }, {a});
  gradcheck([](auto& v) { return sum(v[0], {0, 2}, true); }, {a});
  gradcheck([](auto& v) { return mean(v[0], {-1}); }, {a});
  gradcheck([](auto& v) { return mean(v[0], {0, 2, 3}, true); }, {a});
}

TEST(GradCheck, Shapes) {
  Tensor a = rnd(kImg, 9);
  gradcheck([](auto& v) { return reshape(v[0], Shape{6, 16}); }, {a});
  gradcheck([](auto& v) { return flatten(v[0]); }, {a});
  gradcheck([](auto& v) { return broadcast_to(v[0], Shape{2, 3, 4, 4}); }, {rnd(Shape{3, 1, 4}, 10)});
  gradcheck([](auto& v) { return sum_to(v[0], Shape{1, 3, 1, 1}); }, {a});
  gradcheck([](auto& v) { return transpose2d(v[0]); }, {rnd(Shape{3, 5}, 11)});
}

TEST(GradCheck, MatmulAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = rnd(ta ? Shape{4, 3} : Shape{3, 4}, 12), b = rnd(tb ? Shape{5, 4} : Shape{4, 5}, 13);
      gradcheck([ta, tb](auto& v) { return matmul(v[0], v[1], ta, tb); }, {a, b});
    }
}

TEST(GradCheck, Linear) {
  Tensor x = rnd(Shape{3, 4}, 14), w = rnd(Shape{5, 4}, 15), b = rnd(Shape{5}, 16);
  gradcheck([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b});
  gradcheck([](auto& v) { return linear(v[0], v[1], Var()); }, {x, w});
}

struct ConvCase {
  Shape x, w;
  int64_t stride, pad;
};

TEST(GradCheck, Conv2d) {
  const std::vector<ConvCase> cases = {{{2, 3, 5, 5}, {4, 3, 3, 3}, 1, 1},
                                       {{1, 2, 6, 6}, {3, 2, 4, 4}, 2, 1},
                                       {{2, 2, 5, 4}, {2, 2, 1, 1}, 1, 0},
                                       {{1, 1, 7, 7}, {2, 1, 3, 3}, 2, 0}};
  for (const auto& c : cases) {
    Tensor x = rnd(c.x, 17), w = rnd(c.w, 18), b = rnd(Shape{c.w[0]}, 19);
    Conv2dOptions o{c.stride, c.pad};
    gradcheck([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b});
  }
}

// Rectangular kernels with per-axis padding (Inception-v3's 1x7 / 7x1 / 1x3 / 3x1 convs), and
// unequal row and column padding with stride 2.
TEST(GradCheck, Conv2dRectangularPadding) {
  struct Case {
    Shape x, w;
    Conv2dOptions o;
  };
  const std::vector<Case> cases = {{{2, 2, 4, 5}, {3, 2, 1, 3}, {1, 0, 0, 1}},
                                   {{2, 2, 5, 4}, {3, 2, 3, 1}, {1, 0, 1, 0}},
                                   {{1, 2, 3, 3}, {2, 2, 1, 7}, {1, 0, 0, 3}},
                                   {{1, 2, 6, 5}, {2, 2, 3, 3}, {2, 5, 2, 1}}};
  for (const auto& c : cases) {
    Tensor x = rnd(c.x, 70), w = rnd(c.w, 71), b = rnd(Shape{c.w[0]}, 72);
    const Conv2dOptions o = c.o;
    gradcheck([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b});
  }
}

TEST(GradCheck, Conv2dLeakyReluFused) {
  Tensor x = rnd(Shape{2, 3, 5, 5}, 60), w = rnd(Shape{4, 3, 3, 3}, 61), b = rnd(Shape{4}, 62);
  for (Scalar slope : {0.1, 0.0}) {
    Conv2dOptions o{1, 1};
    gradcheck([o, slope](auto& v) { return conv2d_leaky_relu(v[0], v[1], v[2], o, slope); }, {x, w, b});
    Conv2dOptions s2{2, 1};
    gradcheck([s2, slope](auto& v) { return conv2d_leaky_relu(v[0], v[1], Var(), s2, slope); },
              {rnd(Shape{1, 2, 6, 6}, 63), rnd(Shape{3, 2, 4, 4}, 64)});
  }
}

TEST(GradCheck, ConvTranspose2d) {
  const std::vector<ConvCase> cases = {{{2, 3, 3, 3}, {3, 2, 4, 4}, 2, 1},
                                       {{1, 2, 4, 4}, {2, 3, 3, 3}, 1, 1},
                                       {{1, 2, 3, 3}, {2, 2, 3, 3}, 2, 0}};
  for (const auto& c : cases) {
    Tensor x = rnd(c.x, 20), w = rnd(c.w, 21), b = rnd(Shape{c.w[1]}, 22);
    ConvTranspose2dOptions o{c.stride, c.pad, 0};
    gradcheck([o](auto& v) { return conv_transpose2d(v[0], v[1], v[2], o); }, {x, w, b});
  }
  ConvTranspose2dOptions op{2, 1, 1};
  gradcheck([op](auto& v) { return conv_transpose2d(v[0], v[1], Var(), op); },
            {rnd(Shape{1, 2, 3, 3}, 23), rnd(Shape{2, 2, 3, 3}, 24)});
}

TEST(GradCheck, ConvGradientOps) {
  auto d = kernels::make_conv2d_dims(2, 2, 5, 5, 3, 3, 3, 2, 1);
  Tensor x = rnd(Shape{2, 2, 5, 5}, 25), w = rnd(Shape{3, 2, 3, 3}, 26);
  Tensor dy = rnd(Shape{2, 3, d.Hout, d.Wout}, 27);
  gradcheck([d](auto& v) { return conv2d_input_grad(v[0], v[1], d); }, {dy, w});
  gradcheck([d](auto& v) { return conv2d_weight_grad(v[0], v[1], d); }, {x, dy});
}

TEST(GradCheck, BatchNorm) {
  for (const Shape& s : {Shape{4, 3, 2, 2}, Shape{5, 3}}) {
    Tensor x = rnd(s, 28), g = rnd(Shape{3}, 29, 0.5, 1.5), b = rnd(Shape{3}, 30);
    gradcheck([](auto& v) { return batch_norm(v[0], v[1], v[2], true, {}); }, {x, g, b});
    gradcheck([](auto& v) { return batch_norm(v[0], Var(), Var(), true, {}); }, {x});
    Tensor rm = rnd(Shape{3}, 31), rv = rnd(Shape{3}, 32, 0.5, 2);
    BatchNormState st{&rm, &rv, 0.1, 1e-5};
    gradcheck([st](auto& v) { return batch_norm(v[0], v[1], v[2], false, st); }, {x, g, b});
    // Fused with relu, in both modes.
    gradcheck([](auto& v) { return batch_norm_relu(v[0], v[1], v[2], true, {}); }, {x, g, b});
    gradcheck([](auto& v) { return batch_norm_relu(v[0], Var(), Var(), true, {}); }, {x});
    gradcheck([st](auto& v) { return batch_norm_relu(v[0], v[1], v[2], false, st); }, {x, g, b});
  }
}

TEST(GradCheck, LayerNorm) {
  Tensor x = rnd(kImg, 33), g = rnd(Shape{3, 4, 4}, 34), b = rnd(Shape{3, 4, 4}, 35);
  gradcheck([](auto& v) { return layer_norm(v[0], v[1], v[2]); }, {x, g, b});
  gradcheck([](auto& v) { return layer_norm(v[0], Var(), Var()); }, {rnd(Shape{3, 6}, 36)});
}

TEST(GradCheck, PoolingUpsamplingConcat) {
  Tensor a = rnd(kImg, 37);
  gradcheck([](auto& v) { return sum_pool2d(v[0], 2); }, {a});
  gradcheck([](auto& v) { return avg_pool2d(v[0], 2); }, {a});
  gradcheck([](auto& v) { return upsample_nearest(v[0], 2); }, {a});
  gradcheck([](auto& v) { return add_upsampled_nearest(v[0], v[1], 2); },
            {rnd(Shape{2, 3, 8, 6}, 39), rnd(Shape{2, 3, 4, 3}, 40)});
  Tensor b = rnd(Shape{2, 2, 4, 4}, 38);
  gradcheck([](auto& v) { return concat_channels({v[0], v[1], v[0]}); }, {a, b});
  gradcheck([](auto& v) { return slice_channels(v[0], 1, 2); }, {a});
  gradcheck([](auto& v) { return pad_channels(v[0], 1, 6); }, {a});
}

TEST(GradCheck, AddUpsampledEqualsAddOfTheUpsampledTensor) {
  const Tensor h = rnd(Shape{2, 3, 6, 9}, 41), s = rnd(Shape{2, 3, 2, 3}, 42);
  const Var fused = add_upsampled_nearest(Var(h), Var(s), 3);
  const Var ref = add(Var(h), upsample_nearest(Var(s), 3));
  ASSERT_EQ(fused.shape(), ref.shape());
  for (int64_t i = 0; i < ref.numel(); ++i) ASSERT_EQ(fused.value()[i], ref.value()[i]) << i;
  EXPECT_THROW(add_upsampled_nearest(Var(h), Var(s), 2), Error);
}

// The resampling-folded 3x3 convs equal the pairs they replace, and their gradients check.
TEST(GradCheck, ConvsWithFoldedResampling) {
  for (const Shape& xs : {Shape{2, 3, 4, 4}, Shape{1, 2, 3, 5}}) {
    Tensor x = rnd(xs, 70), w = rnd(Shape{4, xs[1], 3, 3}, 71), b = rnd(Shape{4}, 72);
    const Var up = upsample2_conv3x3(Var(x), Var(w), Var(b));
    const Var ref = conv2d(upsample_nearest(Var(x), 2), Var(w), Var(b), Conv2dOptions{1, 1});
    ASSERT_EQ(up.shape(), ref.shape());
    for (int64_t i = 0; i < up.numel(); ++i) ASSERT_NEAR(up.value()[i], ref.value()[i], 1e-12) << i;
    gradcheck([](auto& v) { return upsample2_conv3x3(v[0], v[1], v[2]); }, {x, w, b});
  }
  for (const Shape& xs : {Shape{2, 3, 4, 4}, Shape{1, 2, 6, 2}}) {
    Tensor x = rnd(xs, 73), w = rnd(Shape{4, xs[1], 3, 3}, 74), b = rnd(Shape{4}, 75);
    const Var pooled = conv3x3_avgpool2(Var(x), Var(w), Var(b));
    const Var ref = avg_pool2d(conv2d(Var(x), Var(w), Var(b), Conv2dOptions{1, 1}), 2);
    ASSERT_EQ(pooled.shape(), ref.shape());
    for (int64_t i = 0; i < pooled.numel(); ++i) ASSERT_NEAR(pooled.value()[i], ref.value()[i], 1e-12) << i;
    gradcheck([](auto& v) { return conv3x3_avgpool2(v[0], v[1], v[2]); }, {x, w, b});
    gradcheck([](auto& v) { return conv3x3_avgpool2(v[0], v[1], Var()); }, {x, w});
  }
}

// ---- second order: the backward closures are themselves differentiable ----

TEST(GradGradCheck, NonlinearElementwise) {
  Tensor a = rnd(kImg, 40, -2, 2), b = rnd(kImg, 41, 0.5, 1.5);
  gradgradcheck([](auto& v) { return mul(v[0], v[1]); }, {a, b});
  gradgradcheck([](auto& v) { return div(v[0], v[1]); }, {a, b});
  gradgradcheck([](auto& v) { return tanh(v[0]); }, {a});
  gradgradcheck([](auto& v) { return sigmoid(v[0]); }, {a});
  gradgradcheck([](auto& v) { return softplus(v[0]); }, {a});
  gradgradcheck([](auto& v) { return square(v[0]); }, {a});
  gradgradcheck([](auto& v) { return sqrt(v[0]); }, {b});
  gradgradcheck([](auto& v) { return pow(v[0], 2.5); }, {b});
  // leaky relu: piecewise linear, so its second derivative flows only through a product.
  gradgradcheck([](auto& v) { return mul(leaky_relu(v[0], 0.1), v[1]); }, {a, b});
}

TEST(GradGradCheck, BilinearNetworkOps) {
  gradgradcheck([](auto& v) { return matmul(v[0], v[1], false, true); },
                {rnd(Shape{3, 4}, 42), rnd(Shape{5, 4}, 43)});
  Conv2dOptions o{2, 1};
  gradgradcheck([o](auto& v) { return conv2d(v[0], v[1], Var(), o); },
                {rnd(Shape{1, 2, 5, 5}, 44), rnd(Shape{3, 2, 3, 3}, 45)});
  ConvTranspose2dOptions t{2, 1, 0};
  gradgradcheck([t](auto& v) { return conv_transpose2d(v[0], v[1], Var(), t); },
                {rnd(Shape{1, 2, 3, 3}, 46), rnd(Shape{2, 2, 4, 4}, 47)});
  gradgradcheck([t](auto& v) { return conv_transpose2d(v[0], v[1], v[2], t); },
                {rnd(Shape{1, 2, 3, 3}, 49), rnd(Shape{2, 2, 4, 4}, 50), rnd(Shape{2}, 51)});
  gradgradcheck([](auto& v) { return conv3x3_avgpool2(v[0], v[1], v[2]); },
                {rnd(Shape{1, 2, 4, 4}, 55), rnd(Shape{3, 2, 3, 3}, 56), rnd(Shape{3}, 57)});
  gradgradcheck([](auto& v) { return upsample2_conv3x3(v[0], v[1], v[2]); },
                {rnd(Shape{1, 2, 3, 3}, 58), rnd(Shape{2, 2, 3, 3}, 59), rnd(Shape{2}, 60)});
  // The discriminator's fused layer: the gradient-penalty path differentiates it twice.
  gradgradcheck([o](auto& v) { return conv2d_leaky_relu(v[0], v[1], v[2], o, 0.2); },
                {rnd(Shape{1, 2, 5, 5}, 52), rnd(Shape{3, 2, 3, 3}, 53), rnd(Shape{3}, 54)});
  gradgradcheck([](auto& v) { return layer_norm(v[0], Var(), Var()); }, {rnd(Shape{2, 5}, 48)});
}

}  // namespace
}  // namespace sngan::testing
