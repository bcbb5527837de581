// Trainer options and losses: the loss formulas (Miyato et al. 2018), the moving average of
// G, linear learning-rate decay, the generator step's own batch size, short last batches, and
// results that do not depend on the thread count.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>

#include "core/gan/losses.h"
#include "core/gan/trainer.h"

namespace sngan {
namespace {

Var logits(const std::vector<Scalar>& v) {
  return Var(Tensor::from_vector(Shape{static_cast<int64_t>(v.size()), 1}, v));
}

double softplus(double x) { return std::log1p(std::exp(x)); }

TEST(Losses, MatchThePapersFormulas) {
  const Var real = logits({0.5f, -1.0f}), fake = logits({2.0f, -0.3f});
  // Batch means: mean(f(D(x))) + mean(g(D(G(z)))).
  EXPECT_NEAR(discriminator_loss(LossType::kStandard, real, fake).item(),
              (softplus(-0.5) + softplus(1.0)) / 2 + (softplus(2.0) + softplus(-0.3)) / 2, 1e-6);
  EXPECT_NEAR(generator_loss(LossType::kStandard, fake).item(), (softplus(-2.0) + softplus(0.3)) / 2, 1e-6);
  // hinge: relu(1 - D(x)) = 0.5, 2.0; relu(1 + D(G(z))) = 3.0, 0.7.
  EXPECT_NEAR(discriminator_loss(LossType::kHinge, real, fake).item(), 1.25 + 1.85, 1e-6);
  EXPECT_NEAR(generator_loss(LossType::kHinge, fake).item(), -0.85, 1e-6);
  // Wasserstein: mean D(G(z)) - mean D(x) = 0.85 - (-0.25).
  EXPECT_NEAR(discriminator_loss(LossType::kWasserstein, real, fake).item(), 1.1, 1e-6);
  EXPECT_NEAR(generator_loss(LossType::kWasserstein, fake).item(), -0.85, 1e-6);
}

// A small standard CNN on 1x8x8 images.
struct Small {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  Small() {
    g.z_dim = 8;
    g.image_size = d.image_size = 8;
    g.channels = d.channels = 1;
    g.base_channels = 16;
    d.conv_channels = {4, 4, 8, 8, 8, 8, 8};
    t.batch_size = t.g_batch_size = 4;
    t.iterations = 4;
    t.seed = 11;
  }
};

BatchSource random_batches(Rng& rng, int64_t n) {
  return [&rng, n] {
    Tensor x = Tensor::empty(Shape{n, 1, 8, 8});
    rng.fill_uniform(x, -1, 1);
    return x;
  };
}

std::vector<Tensor> copies(const std::vector<std::pair<std::string, Var>>& params) {
  std::vector<Tensor> out;
  for (const auto& p : params) out.push_back(p.second.value().clone());
  return out;
}

TEST(Trainer, EmaAveragesWeightsAndCopiesBatchNormStatistics) {
  Small s;
  s.t.ema_decay = 0.9;
  s.t.ema_standing_batches = 0;  // copy G's statistics (test_ema.cpp covers standing ones)
  Trainer trainer(s.t, s.g, s.d);
  ASSERT_NE(trainer.ema_generator(), nullptr);
  const std::vector<Tensor> before = copies(trainer.ema_generator()->named_parameters());
  const auto g_params = trainer.generator().named_parameters();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(before[i].to_vector(), g_params[i].second.value().to_vector()) << g_params[i].first;

  Rng data(3);
  trainer.step(random_batches(data, 4));
  const auto ema = trainer.ema_generator()->named_parameters();
  double moved = 0;
  for (size_t i = 0; i < ema.size(); ++i) {
    const Tensor& e = ema[i].second.value();
    const Tensor& g = g_params[i].second.value();
    for (int64_t k = 0; k < e.numel(); ++k) {
      ASSERT_NEAR(e[k], 0.9 * before[i][k] + 0.1 * g[k], 1e-6) << ema[i].first << "[" << k << "]";
      moved += std::abs(g[k] - before[i][k]);
    }
  }
  EXPECT_GT(moved, 0) << "G's weights should have changed";
  // BN running statistics are G's own, not averaged.
  const auto gb = trainer.generator().named_buffers(), eb = trainer.ema_generator()->named_buffers();
  ASSERT_EQ(gb.size(), eb.size());
  ASSERT_FALSE(gb.empty());
  for (size_t i = 0; i < gb.size(); ++i)
    EXPECT_EQ(eb[i].second.to_vector(), gb[i].second.to_vector()) << eb[i].first;
}

TEST(Trainer, LinearDecayReachesZeroAtTheLastIteration) {
  Small s;
  s.t.lr_decay = LrDecay::kLinear;
  s.t.lr_g = 2e-4;
  s.t.lr_d = 1e-4;
  Trainer trainer(s.t, s.g, s.d);
  Rng data(4);
  // Iteration k (from 0) uses lr * (1 - k / iterations).
  for (int k = 0; k < 4; ++k) {
    const StepStats st = trainer.step(random_batches(data, 4));
    EXPECT_NEAR(st.lr_g, 2e-4 * (1 - k / 4.0), 1e-12) << k;
    EXPECT_NEAR(st.lr_d, 1e-4 * (1 - k / 4.0), 1e-12) << k;
  }
}

TEST(Trainer, GeneratorStepDrawsItsOwnBatchSize) {
  Small s;
  s.t.g_batch_size = 6;
  s.t.n_dis = 2;
  Trainer trainer(s.t, s.g, s.d);
  // The z stream advances by n_dis batches of batch_size and one of g_batch_size.
  Rng expected = trainer.z_rng();
  Tensor z = Tensor::empty(Shape{4, 8});
  expected.fill_normal(z);
  expected.fill_normal(z);
  Tensor zg = Tensor::empty(Shape{6, 8});
  expected.fill_normal(zg);
  Rng data(5);
  trainer.step(random_batches(data, 4));
  EXPECT_EQ(trainer.z_rng().state(), expected.state());
}

TEST(Trainer, ShortLastBatchTrainsAndTooLongIsRefused) {
  Small s;
  Trainer trainer(s.t, s.g, s.d);
  Rng data(6);
  const StepStats st = trainer.step(random_batches(data, 3));
  EXPECT_TRUE(std::isfinite(st.loss_d) && std::isfinite(st.loss_g));
  try {
    trainer.step(random_batches(data, 5));
    ADD_FAILURE() << "a batch larger than batch_size should be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected a real batch of 1 to 4 examples"), std::string::npos) << e.what();
  }
}

// Every tensor of the trainer's state (G, D, EMA-G, BN statistics, SN vectors, Adam moments)
// and the losses after `steps` iterations on `threads` OpenMP threads.
struct RunResult {
  std::vector<std::pair<std::string, Tensor>> state;
  std::vector<double> losses;
};
RunResult train_on_threads(const TrainConfig& t, const GeneratorConfig& g, const DiscriminatorConfig& d,
                           int threads, int steps) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Trainer trainer(t, g, d);
  Rng data(7);
  RunResult r;
  for (int i = 0; i < steps; ++i) {
    const StepStats st = trainer.step([&] {
      Tensor x = Tensor::empty(Shape{t.batch_size, d.channels, d.image_size, d.image_size});
      data.fill_uniform(x, -1, 1);
      return x;
    });
    r.losses.push_back(st.loss_d);
    r.losses.push_back(st.loss_g);
  }
  r.state = trainer.state_tensors();
  omp_set_num_threads(before);
  return r;
}

// The layers are large enough that the convolutions split their batch and their GEMMs over
// the threads; 3 threads split differently from 2 (more threads than cores is fine here).
void expect_the_same_bits_on_1_2_and_3_threads(const TrainConfig& t, const GeneratorConfig& g,
                                               const DiscriminatorConfig& d) {
  const RunResult one = train_on_threads(t, g, d, 1, 2);
  for (int threads : {2, 3}) {
    const RunResult r = train_on_threads(t, g, d, threads, 2);
    EXPECT_EQ(r.losses, one.losses) << threads << " threads";
    ASSERT_EQ(r.state.size(), one.state.size());
    for (size_t i = 0; i < r.state.size(); ++i)
      EXPECT_EQ(r.state[i].second.to_vector(), one.state[i].second.to_vector())
          << r.state[i].first << " on " << threads << " threads";
  }
}

// A standard CNN small enough for tests, large enough that convolutions split over threads.
void small_standard_cnn(GeneratorConfig& g, DiscriminatorConfig& d, TrainConfig& t) {
  g.z_dim = 32;
  g.base_channels = 64;
  d.conv_channels = {16, 16, 32, 32, 64, 64, 128};
  t.batch_size = t.g_batch_size = 16;
  t.seed = 5;
}

TEST(Trainer, StandardCnnResultsDoNotDependOnTheThreadCount) {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  small_standard_cnn(g, d, t);
  t.ema_decay = 0.9;
  expect_the_same_bits_on_1_2_and_3_threads(t, g, d);
}

TEST(Trainer, ResNetResultsDoNotDependOnTheThreadCount) {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  g.architecture = d.architecture = Architecture::kResNet;
  g.z_dim = 32;
  g.base_channels = d.base_channels = 32;
  t.batch_size = t.g_batch_size = 8;
  t.loss = LossType::kHinge;
  t.n_dis = 2;
  t.seed = 6;
  expect_the_same_bits_on_1_2_and_3_threads(t, g, d);
}

// train.precision bf16: the step's GEMMs round their operands, so the losses move off fp32's
// (by far less than training moves them) while every state tensor stays fp32 and finite; the
// thread count still changes no bit.
TEST(Trainer, Bf16StepsStayCloseToFp32AndDoNotDependOnTheThreadCount) {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  small_standard_cnn(g, d, t);
  const RunResult fp32 = train_on_threads(t, g, d, 1, 2);
  t.precision = kernels::Precision::kBf16;
  const RunResult bf16 = train_on_threads(t, g, d, 1, 2);
  EXPECT_EQ(kernels::precision(), kernels::Precision::kFp32) << "the step restores the precision";
  ASSERT_EQ(bf16.losses.size(), fp32.losses.size());
  EXPECT_NE(bf16.losses, fp32.losses) << "bf16 changed nothing: are the operands rounded?";
  for (size_t i = 0; i < bf16.losses.size(); ++i)
    EXPECT_NEAR(bf16.losses[i], fp32.losses[i], 0.02 * std::abs(fp32.losses[i]) + 1e-3) << "loss " << i;
  for (const auto& [name, tensor] : bf16.state)
    for (Scalar v : tensor.to_vector()) ASSERT_TRUE(std::isfinite(v)) << name;
  expect_the_same_bits_on_1_2_and_3_threads(t, g, d);
}

}  // namespace
}  // namespace sngan
