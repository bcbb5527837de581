// Every discriminator method (Miyato et al. 2018, Sec. 4) trains on every architecture, keeps
// its state in checkpoints and resumes bit for bit; clipping bounds hold after a step; the
// combinations the math does not allow are refused. Tiny models, a few steps each.
#include <gtest/gtest.h>

#include <cmath>

#include "core/gan/d_method.h"
#include "core/gan/trainer.h"

namespace sngan {
namespace {

struct Tiny {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  explicit Tiny(Architecture a) {
    g.architecture = d.architecture = a;
    t.batch_size = t.g_batch_size = 4;
    t.iterations = 10;
    t.n_dis = 2;
    t.seed = 3;
    g.z_dim = 8;
    if (a == Architecture::kMlp) {
      g.channels = d.channels = 2;
      g.mlp_hidden = d.mlp_hidden = 16;
    } else if (a == Architecture::kStandardCnn) {
      g.image_size = d.image_size = 8;
      g.channels = d.channels = 1;
      g.base_channels = 16;
      d.conv_channels = {4, 4, 8, 8, 8, 8, 8};
    } else {
      g.channels = d.channels = 1;
      g.base_channels = d.base_channels = 8;
    }
  }
  Shape batch_shape() const {
    if (d.architecture == Architecture::kMlp) return Shape{t.batch_size, d.channels};
    return Shape{t.batch_size, d.channels, d.image_size, d.image_size};
  }
};

BatchSource batches(const Tiny& c, Rng& rng) {
  return [&c, &rng] {
    Tensor x = Tensor::empty(c.batch_shape());
    rng.fill_uniform(x, -1, 1);
    return x;
  };
}

std::vector<std::vector<Scalar>> snapshot(const Trainer& tr) {
  std::vector<std::vector<Scalar>> out;
  for (auto& [name, t] : tr.state_tensors()) out.push_back(t.to_vector());
  return out;
}

const DNormalization kAll[] = {DNormalization::kSpectral,   DNormalization::kNone,
                               DNormalization::kWeightClip, DNormalization::kWeightNorm,
                               DNormalization::kBatchNorm,  DNormalization::kLayerNorm,
                               DNormalization::kOrthonormal};

TEST(DMethods, EveryNormalizationTrainsOnEveryArchitecture) {
  for (Architecture a : {Architecture::kMlp, Architecture::kStandardCnn, Architecture::kResNet})
    for (DNormalization n : kAll) {
      Tiny c(a);
      c.d.normalization = n;
      c.t.n_dis = 1;
      Trainer tr(c.t, c.g, c.d);
      Rng data(1);
      const auto before = snapshot(tr);
      StepStats st = tr.step(batches(c, data));
      EXPECT_TRUE(std::isfinite(st.loss_d) && std::isfinite(st.loss_g))
          << to_string(a) << " " << to_string(n);
      EXPECT_NE(snapshot(tr), before) << to_string(a) << " " << to_string(n);
      EXPECT_EQ(st.sigmas.empty(), n != DNormalization::kSpectral);
    }
}

TEST(DMethods, PenaltiesTrainOnEveryArchitecture) {
  for (Architecture a : {Architecture::kMlp, Architecture::kStandardCnn, Architecture::kResNet})
    for (DNormalization n : {DNormalization::kSpectral, DNormalization::kLayerNorm,
                             DNormalization::kWeightNorm, DNormalization::kWeightClip}) {
      Tiny c(a);
      c.d.normalization = n;
      c.t.n_dis = 1;
      c.t.loss = LossType::kWasserstein;
      c.t.gradient_penalty = 10;
      c.t.r1_penalty = 1;
      Trainer tr(c.t, c.g, c.d);
      Rng data(1);
      StepStats st = tr.step(batches(c, data));
      EXPECT_TRUE(std::isfinite(st.loss_d)) << to_string(a) << " " << to_string(n);
    }
}

TEST(DMethods, GradientPenaltyRaisesTheLoggedDLossByAPositiveAmount) {
  Tiny a(Architecture::kMlp), b(Architecture::kMlp);
  b.t.gradient_penalty = 10;
  a.t.n_dis = b.t.n_dis = 1;
  Trainer ta(a.t, a.g, a.d), tb(b.t, b.g, b.d);
  Rng da(1), db(1);
  // Same weights and batch; the penalty only adds (its interpolates draw after the z draws).
  const double la = ta.step(batches(a, da)).loss_d, lb = tb.step(batches(b, db)).loss_d;
  EXPECT_GT(lb, la);
}

TEST(DMethods, WeightClippingBoundsEveryDParameterAfterAStep) {
  Tiny c(Architecture::kStandardCnn);
  c.d.normalization = DNormalization::kWeightClip;
  c.d.clip_value = 0.02;
  c.t.lr_d = 0.1;  // large steps, so that unclipped weights would leave the box
  Trainer tr(c.t, c.g, c.d);
  Rng data(1);
  tr.step(batches(c, data));
  int64_t at_bound = 0;
  for (auto& [name, p] : tr.discriminator().named_parameters())
    for (int64_t i = 0; i < p.numel(); ++i) {
      ASSERT_LE(std::abs(p.value()[i]), 0.02f) << name;
      at_bound += std::abs(p.value()[i]) == 0.02f;
    }
  EXPECT_GT(at_bound, 0);
}

TEST(DMethods, BatchNormInDKeepsRunningStatisticsAndOrthonormalStartsOrthogonal) {
  Tiny c(Architecture::kStandardCnn);
  c.d.normalization = DNormalization::kBatchNorm;
  Trainer tr(c.t, c.g, c.d);
  int stats = 0;
  for (auto& [name, t] : tr.state_tensors())
    if (name.rfind("discriminator.", 0) == 0 && name.find("running_mean") != std::string::npos) ++stats;
  EXPECT_EQ(stats, 6);  // after convs 1..6: not the first conv, not the dense layer

  c.d.normalization = DNormalization::kOrthonormal;
  Trainer to(c.t, c.g, c.d);
  for (const Var& w : d_layer_weights(to.discriminator())) {
    const int64_t rows = w.dim(0), cols = w.numel() / rows;
    for (int64_t i = 0; i < std::min(rows, cols); ++i) {  // first rows (or columns) are unit vectors
      double ss = 0;
      for (int64_t k = 0; k < (rows <= cols ? cols : rows); ++k) {
        const Scalar v = rows <= cols ? w.value()[i * cols + k] : w.value()[k * cols + i];
        ss += double(v) * v;
      }
      EXPECT_NEAR(ss, 1.0, 1e-4);
    }
  }
}

TEST(DMethods, RefusesBatchNormWithAPenaltyNamingTheReason) {
  Tiny c(Architecture::kMlp);
  c.d.normalization = DNormalization::kBatchNorm;
  c.t.gradient_penalty = 10;
  try {
    Trainer tr(c.t, c.g, c.d);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch_norm cannot be combined"), std::string::npos);
  }
  c.t.gradient_penalty = 0;
  c.t.r1_penalty = 1;
  EXPECT_THROW(Trainer(c.t, c.g, c.d), Error);
  c.t.r1_penalty = -1;
  c.d.normalization = DNormalization::kSpectral;
  EXPECT_THROW(Trainer(c.t, c.g, c.d), Error);
}

// N + M steps in one run == N steps, checkpoint state into a fresh trainer, M steps.
void expect_bit_exact_resume(const Tiny& c) {
  Rng data_a(5), data_b(5);
  Trainer full(c.t, c.g, c.d);
  for (int i = 0; i < 4; ++i) full.step(batches(c, data_a));

  Trainer first(c.t, c.g, c.d);
  for (int i = 0; i < 2; ++i) first.step(batches(c, data_b));
  std::map<std::string, Tensor> saved;
  for (auto& [name, t] : first.state_tensors()) saved[name] = t.clone();
  const auto meta = first.state_metadata();
  Trainer resumed(c.t, c.g, c.d);
  resumed.load_state(saved, meta, "test");
  for (int i = 0; i < 2; ++i) resumed.step(batches(c, data_b));
  const auto a = full.state_tensors(), b = resumed.state_tensors();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
  EXPECT_EQ(full.state_metadata(), resumed.state_metadata());
}

TEST(DMethods, GradientPenaltyRunResumesBitForBit) {
  Tiny c(Architecture::kStandardCnn);
  c.t.loss = LossType::kWasserstein;
  c.t.gradient_penalty = 10;
  expect_bit_exact_resume(c);
}

TEST(DMethods, BatchNormInDRunResumesBitForBit) {
  Tiny c(Architecture::kStandardCnn);
  c.d.normalization = DNormalization::kBatchNorm;
  expect_bit_exact_resume(c);
}

TEST(DMethods, DescribeNamesTheMethodAndThePenalty) {
  TrainConfig t;
  DiscriminatorConfig d;
  d.normalization = DNormalization::kWeightNorm;
  t.loss = LossType::kWasserstein;
  t.gradient_penalty = 10;
  const std::string s = describe_d_method(t, d);
  EXPECT_NE(s.find("weight norm"), std::string::npos) << s;
  EXPECT_NE(s.find("WGAN-GP"), std::string::npos) << s;
  t.loss = LossType::kStandard;
  EXPECT_NE(describe_d_method(t, d).find("GAN-GP"), std::string::npos);
}

}  // namespace
}  // namespace sngan
