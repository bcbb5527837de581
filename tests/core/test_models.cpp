// GAN models and the trainer: output shapes, multiply-add counts against the paper, and a
// toy-ring run that must cover the modes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/gan/models.h"
#include "core/gan/trainer.h"
#include "core/tensor/kernels/gemm_ops.h"
#include "core/tensor/kernels/winograd.h"

namespace sngan {
namespace {

// The layers' nominal multiply-adds (Winograd convs compute fewer).
int64_t forward_macs(UnaryModule& m, const Tensor& input) {
  const kernels::NoWinogradScope nominal;
  NoGradGuard no_grad;
  m.train();
  mac_counter() = 0;
  m.forward(Var(input));
  return mac_counter();
}

TEST(Models, StandardCnnMultiplyAddsMatchThePaper) {
  // The standard CNN of Miyato et al. 2018, Table 3, at 32x32: per image forward, G about 104M
  // multiply-adds, D about 109M (counted layer by layer, as scripts/bench/torch_reference.py does).
  Rng rng(1);
  GeneratorConfig gc;
  DiscriminatorConfig dc;
  auto g = make_generator(gc, rng);
  auto d = make_discriminator(dc, rng);
  const double g_macs = forward_macs(*g, g->sample_z(rng, 2)) / 2.0;
  const double d_macs = forward_macs(*d, Tensor::zeros(Shape{2, 3, 32, 32})) / 2.0;
  EXPECT_NEAR(g_macs / 1e6, 104, 1.5);
  EXPECT_NEAR(d_macs / 1e6, 109, 1.5);
}

// conv2d records what the kernels compute: per 2x2 output block and channel pair, a 3x3 Winograd
// conv's forward 16 multiply-adds (the direct conv's 36), a 4x4 stride-2 one's 36 (64); per 4x4
// block a 3x3 conv's 36 where the fp32 forward takes the large form (maps multiples of 4).
TEST(Models, Conv2dRecordsTheMultiplyAddsItsKernelsCompute) {
  const Tensor x = Tensor::zeros(Shape{2, 64, 8, 8});
  const Tensor w3 = Tensor::zeros(Shape{32, 64, 3, 3}), w4 = Tensor::zeros(Shape{32, 64, 4, 4});
  const int64_t direct3 = 2 * 32 * 8 * 8 * 64 * 9, direct4 = 2 * 32 * 4 * 4 * 64 * 16;
  auto count = [&](const Tensor& w, int64_t stride) {
    NoGradGuard no_grad;
    mac_counter() = 0;
    conv2d(Var(x), Var(w), Var(), Conv2dOptions{stride, 1});
    return mac_counter();
  };
  const bool winograd3 = kernels::winograd_serves(kernels::make_conv2d_dims(2, 64, 8, 8, 32, 3, 3, 1, 1));
  const bool winograd4 = kernels::winograd_serves(kernels::make_conv2d_dims(2, 64, 8, 8, 32, 4, 4, 2, 1));
  EXPECT_EQ(winograd3, winograd4);
  const bool wide3 = kernels::winograd_wide_shape(kernels::make_conv2d_dims(2, 64, 8, 8, 32, 3, 3, 1, 1));
  EXPECT_EQ(count(w3, 1), !winograd3 ? direct3 : wide3 ? direct3 / 4 : direct3 * 4 / 9);
  EXPECT_EQ(count(w4, 2), winograd4 ? direct4 * 9 / 16 : direct4);
  const kernels::NoWinogradScope direct_only;
  EXPECT_EQ(count(w3, 1), direct3);
  EXPECT_EQ(count(w4, 2), direct4);
}

TEST(Models, OutputShapesForEveryArchitecture) {
  Rng rng(2);
  struct Case { Architecture arch; int64_t size, channels; };
  for (const Case& c : {Case{Architecture::kStandardCnn, 32, 1}, Case{Architecture::kStandardCnn, 48, 3},
                        Case{Architecture::kResNet, 32, 3}, Case{Architecture::kResNet, 48, 3}}) {
    GeneratorConfig gc;
    gc.architecture = c.arch;
    gc.image_size = c.size;
    gc.channels = c.channels;
    gc.base_channels = c.arch == Architecture::kResNet ? 32 : 64;
    DiscriminatorConfig dc;
    dc.architecture = c.arch;
    dc.image_size = c.size;
    dc.channels = c.channels;
    dc.base_channels = 16;
    dc.conv_channels = {8, 8, 16, 16, 16, 16, 32};
    auto g = make_generator(gc, rng);
    auto d = make_discriminator(dc, rng);
    NoGradGuard no_grad;
    Var x = g->forward(Var(g->sample_z(rng, 3)));
    EXPECT_EQ(x.shape(), (Shape{3, c.channels, c.size, c.size})) << to_string(c.arch) << c.size;
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_LE(std::abs(x.value()[i]), 1.0f);
    EXPECT_EQ(d->forward(x).shape(), (Shape{3, 1}));
    EXPECT_FALSE(d->spectral_norms().empty());
  }
  GeneratorConfig bad;
  bad.architecture = Architecture::kResNet;
  bad.image_size = 40;
  EXPECT_THROW(make_generator(bad, rng), Error);
}

// chainer-gan-lib's variant: BatchNormalization(bottom * bottom * ch) on the dense output.
TEST(Models, ChainerVariantBatchNormCoversEveryDenseFeature) {
  Rng rng(3);
  GeneratorConfig gc;
  gc.base_channels = 16;
  gc.bn_after_dense = true;
  auto g = make_generator(gc, rng);
  bool found = false;
  for (const auto& [name, t] : g->named_buffers())
    if (name == "dense_bn.running_mean") {
      found = true;
      EXPECT_EQ(t.shape(), Shape{4 * 4 * 16});
    }
  EXPECT_TRUE(found);
  NoGradGuard no_grad;
  EXPECT_EQ(g->forward(Var(g->sample_z(rng, 3))).shape(), (Shape{3, 3, 32, 32}));
}

// Folding the resampling into the ResNet blocks' convs changes the work, not the function:
// outputs and every parameter gradient match the plain blocks to float rounding.
TEST(Models, ResNetWithFoldedResamplingComputesTheSameFunction) {
  for (int64_t size : {32, 48}) {
    SCOPED_TRACE(size);
    auto build = [&](bool fold) {
      Rng rng(4);
      GeneratorConfig gc;
      gc.architecture = Architecture::kResNet;
      gc.image_size = size;
      gc.base_channels = size == 48 ? 32 : 16;
      gc.fold_resampling = fold;
      DiscriminatorConfig dc;
      dc.architecture = Architecture::kResNet;
      dc.image_size = size;
      dc.base_channels = 8;
      dc.fold_resampling = fold;
      auto g = make_generator(gc, rng);
      auto d = make_discriminator(dc, rng);
      Rng zr(5);
      Var loss = sum(d->forward(g->forward(Var(g->sample_z(zr, 3)))));
      backward(loss);
      std::vector<Tensor> grads;
      for (auto* m : {static_cast<Module*>(g.get()), static_cast<Module*>(d.get())})
        for (auto& [name, p] : m->named_parameters()) grads.push_back(p.grad());
      return std::make_pair(loss.item(), grads);
    };
    const auto [plain_loss, plain] = build(false);
    const auto [folded_loss, folded] = build(true);
    EXPECT_NEAR(folded_loss, plain_loss, 1e-4 * (1 + std::abs(plain_loss)));
    ASSERT_EQ(plain.size(), folded.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      double err = 0, scale = 0;
      for (int64_t k = 0; k < plain[i].numel(); ++k) {
        err = std::max(err, double(std::abs(folded[i][k] - plain[i][k])));
        scale = std::max(scale, double(std::abs(plain[i][k])));
      }
      EXPECT_LE(err, 1e-4 * scale + 1e-6) << "parameter " << i;
    }
  }
}

TEST(Models, ResNetDiscriminatorHasSpectralNormOnEveryLayer) {
  Rng rng(3);
  DiscriminatorConfig dc;
  dc.architecture = Architecture::kResNet;
  auto d = make_discriminator(dc, rng);
  int64_t weights = 0;
  for (auto& [name, p] : d->named_parameters())
    if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) ++weights;
  EXPECT_EQ(static_cast<int64_t>(d->spectral_norms().size()), weights);
  EXPECT_EQ(d->spectral_norms().front().first, "block0.conv1");
}

// 8 Gaussians on a circle of radius 2, std 0.02.
Tensor ring_batch(Rng& rng, int64_t n) {
  Tensor t = Tensor::empty(Shape{n, 2});
  for (int64_t i = 0; i < n; ++i) {
    const double a = 2 * M_PI * static_cast<double>(rng.below(8)) / 8;
    t[2 * i] = static_cast<Scalar>(2 * std::cos(a) + 0.02 * rng.normal());
    t[2 * i + 1] = static_cast<Scalar>(2 * std::sin(a) + 0.02 * rng.normal());
  }
  return t;
}

struct RingResult {
  int64_t near = 0;  // of 2000 samples, within 3 std of a mode's centre
  int covered = 0;   // modes holding at least 1% of the samples
};

// An MLP SN-GAN trained 2000 iterations on the ring with trainer seed `seed`.
RingResult train_ring(uint64_t seed) {
  GeneratorConfig gc;
  gc.architecture = Architecture::kMlp;
  gc.z_dim = 2;
  gc.channels = 2;
  gc.mlp_hidden = 128;
  gc.mlp_layers = 2;
  DiscriminatorConfig dc;
  dc.architecture = Architecture::kMlp;
  dc.channels = 2;
  dc.mlp_hidden = 128;
  dc.mlp_layers = 2;
  dc.leaky_slope = 0.2f;
  TrainConfig tc;
  tc.batch_size = tc.g_batch_size = 256;
  tc.lr_g = tc.lr_d = 5e-4;
  tc.beta1 = 0.5;
  tc.beta2 = 0.9;
  tc.iterations = 2000;
  tc.seed = seed;
  Trainer trainer(tc, gc, dc);
  Rng data(9);
  for (int64_t i = 0; i < tc.iterations; ++i) trainer.step([&] { return ring_batch(data, 256); });

  Rng zr(5);
  Tensor pts = trainer.sample(trainer.generator().sample_z(zr, 2000), false);
  int counts[8] = {0};
  RingResult result;
  for (int64_t i = 0; i < 2000; ++i) {
    double best = 1e9;
    int mode = 0;
    for (int m = 0; m < 8; ++m) {
      const double a = 2 * M_PI * m / 8;
      const double dist = std::hypot(pts[2 * i] - 2 * std::cos(a), pts[2 * i + 1] - 2 * std::sin(a));
      if (dist < best) best = dist, mode = m;
    }
    if (best < 3 * 0.02) {
      ++result.near;
      ++counts[mode];
    }
  }
  for (int c : counts) result.covered += c >= 20;
  return result;
}

// Training on the ring is chaotic: a change in the last bit of one op (a different summation
// order) can turn a seed's run from recovered to collapsed, and some seeds collapse whatever
// the rounding. So four seeds train and at least two must recover: 7 or more modes, and more
// than 30% of the samples within 3 std of a centre (a spread-out or collapsed generator puts
// a few percent there). Measured: 3 of the 4 recover, with 690-1500 samples near.
TEST(Trainer, ToyRingRecoversTheModes) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "4 x 2000 training iterations take minutes under AddressSanitizer; the plain pass runs this";
#endif
  int recovered = 0;
  std::string runs;
  for (uint64_t seed : {1, 2, 3, 4}) {
    const RingResult r = train_ring(seed);
    recovered += r.covered >= 7 && r.near > 600;
    runs += " seed " + std::to_string(seed) + ": " + std::to_string(r.near) + " near, " +
            std::to_string(r.covered) + " modes;";
  }
  EXPECT_GE(recovered, 2) << "runs:" << runs;
}

}  // namespace
}  // namespace sngan
