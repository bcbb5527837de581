// The moving average of G (Trainer): its start (train.ema_start) and its standing BN statistics
// (Brock et al. 2019, App. C): the average of the batch statistics of the EMA weights over
// train.ema_standing_batches batches of z, not the live G's running statistics; refreshing
// them changes no training result; runs with EMA resume bit for bit.
#include <gtest/gtest.h>

#include <map>

#include "core/gan/trainer.h"
#include "core/nn/layers.h"

namespace sngan {
namespace {

// A small standard CNN on 1x8x8 images, with EMA.
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
    t.iterations = 8;
    t.seed = 17;
    t.lr_g = t.lr_d = 1e-2;  // large steps: EMA and live weights differ clearly
    t.ema_decay = 0.5;
    t.ema_standing_batches = 3;
  }
};

BatchSource random_batches(Rng& rng) {
  return [&rng] {
    Tensor x = Tensor::empty(Shape{4, 1, 8, 8});
    rng.fill_uniform(x, -1, 1);
    return x;
  };
}

std::vector<BatchNorm*> batch_norms(Module& m) {
  std::vector<BatchNorm*> out;
  m.visit([&](Module& x) {
    if (auto* bn = dynamic_cast<BatchNorm*>(&x)) out.push_back(bn);
  });
  return out;
}

// For a generator with `weights`: per BN layer, the plain average over `batches` batches of z
// from `stream` of (batch mean, unbiased batch variance) of the layer's input. Each batch's
// statistics are read from a training forward with momentum 1 (running value = that batch's).
std::vector<std::pair<std::vector<double>, std::vector<double>>> averaged_batch_stats(
    const GeneratorConfig& cfg, const std::vector<std::pair<std::string, Var>>& weights, Rng stream,
    int64_t batches, int64_t batch_size) {
  Rng init(0);
  auto g = make_generator(cfg, init);
  auto params = g->named_parameters();
  for (size_t i = 0; i < params.size(); ++i) params[i].second.value().copy_from(weights[i].second.value());
  auto bns = batch_norms(*g);
  std::vector<std::pair<std::vector<double>, std::vector<double>>> sums(bns.size());
  NoGradGuard no_grad;
  g->train();
  for (int64_t k = 0; k < batches; ++k) {
    for (BatchNorm* bn : bns) bn->set_momentum(1);
    g->forward(Var(g->sample_z(stream, batch_size)));
    for (size_t l = 0; l < bns.size(); ++l) {
      const auto m = bns[l]->running_mean().to_vector(), v = bns[l]->running_var().to_vector();
      sums[l].first.resize(m.size());
      sums[l].second.resize(v.size());
      for (size_t c = 0; c < m.size(); ++c) {
        sums[l].first[c] += m[c] / batches;
        sums[l].second[c] += v[c] / batches;
      }
    }
  }
  return sums;
}

double max_difference(const std::vector<double>& a, const std::vector<Scalar>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

TEST(Ema, StandingStatisticsAreTheBatchStatisticsOfTheEmaWeights) {
  Small s;
  Trainer trainer(s.t, s.g, s.d);
  Rng data(3);
  for (int i = 0; i < 4; ++i) trainer.step(random_batches(data));
  Generator* ema = trainer.ema_generator();  // refreshes
  const auto ema_weights = ema->named_parameters();
  const auto want = averaged_batch_stats(s.g, ema_weights, trainer.standing_z_rng(), 3, 4);
  const auto of_live_g =
      averaged_batch_stats(s.g, trainer.generator().named_parameters(), trainer.standing_z_rng(), 3, 4);
  auto bns = batch_norms(*ema);
  ASSERT_EQ(bns.size(), want.size());
  ASSERT_FALSE(bns.empty());
  double live_gap = 0;
  for (size_t l = 0; l < bns.size(); ++l) {
    const auto m = bns[l]->running_mean().to_vector(), v = bns[l]->running_var().to_vector();
    EXPECT_LT(max_difference(want[l].first, m), 1e-4) << "mean of BN " << l;
    EXPECT_LT(max_difference(want[l].second, v), 1e-4) << "var of BN " << l;
    live_gap = std::max(live_gap, max_difference(of_live_g[l].first, m));
    EXPECT_EQ(bns[l]->momentum(), Scalar(0.1)) << "momentum restored";
  }
  EXPECT_GT(live_gap, 1e-3) << "the live G's batch statistics should differ from the EMA's";
  EXPECT_FALSE(ema->is_training());
  // The live G's running statistics are not what the EMA carries.
  const auto gb = trainer.generator().named_buffers(), eb = ema->named_buffers();
  bool differs = false;
  for (size_t i = 0; i < gb.size(); ++i) differs = differs || gb[i].second.to_vector() != eb[i].second.to_vector();
  EXPECT_TRUE(differs);
}

TEST(Ema, RefreshingChangesNoTrainingResultNorTheEmaWeights) {
  Small s;
  Trainer quiet(s.t, s.g, s.d), busy(s.t, s.g, s.d);
  Rng data_a(4), data_b(4);
  const Tensor z = Tensor::full(Shape{2, 8}, 0.5);
  for (int i = 0; i < 3; ++i) {
    quiet.step(random_batches(data_a));
    busy.step(random_batches(data_b));
    busy.sample(z, true);  // refreshes the standing statistics
  }
  const auto a = quiet.generator().named_parameters(), b = busy.generator().named_parameters();
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.value().to_vector(), b[i].second.value().to_vector()) << a[i].first;
  const auto ea = quiet.ema_generator()->named_parameters(), eb = busy.ema_generator()->named_parameters();
  for (size_t i = 0; i < ea.size(); ++i)
    EXPECT_EQ(ea[i].second.value().to_vector(), eb[i].second.value().to_vector()) << ea[i].first;
  EXPECT_EQ(quiet.state_metadata(), busy.state_metadata());
}

TEST(Ema, BeforeTheStartTheEmaCopiesGThenAverages) {
  Small s;
  s.t.ema_start = 3;
  Trainer trainer(s.t, s.g, s.d);
  Rng data(5);
  for (int i = 0; i < 2; ++i) {  // updates 1 and 2: copies
    trainer.step(random_batches(data));
    const auto g = trainer.generator().named_parameters(), e = trainer.ema_generator()->named_parameters();
    for (size_t k = 0; k < g.size(); ++k)
      ASSERT_EQ(e[k].second.value().to_vector(), g[k].second.value().to_vector()) << e[k].first;
  }
  std::vector<std::vector<Scalar>> before;
  for (auto& [name, p] : trainer.ema_generator()->named_parameters()) before.push_back(p.value().to_vector());
  trainer.step(random_batches(data));  // update 3: the average starts
  const auto g = trainer.generator().named_parameters(), e = trainer.ema_generator()->named_parameters();
  double moved = 0;
  for (size_t k = 0; k < g.size(); ++k) {
    const auto gv = g[k].second.value().to_vector(), ev = e[k].second.value().to_vector();
    for (size_t j = 0; j < gv.size(); ++j) {
      ASSERT_NEAR(ev[j], 0.5 * before[k][j] + 0.5 * gv[j], 1e-6) << e[k].first;
      moved += std::abs(gv[j] - before[k][j]);
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Ema, RunWithEmaResumesBitForBit) {
  Small s;
  s.t.ema_start = 2;
  const Tensor z = Tensor::full(Shape{2, 8}, 0.25);
  Rng data_a(6), data_b(6);
  Trainer full(s.t, s.g, s.d);
  for (int i = 0; i < 4; ++i) {
    full.step(random_batches(data_a));
    if (i == 1) full.state_tensors();  // a save, as the straight run makes one
    full.sample(z, true);
  }
  Trainer first(s.t, s.g, s.d);
  for (int i = 0; i < 2; ++i) first.step(random_batches(data_b));
  std::map<std::string, Tensor> saved;
  for (auto& [name, t] : first.state_tensors()) saved[name] = t.clone();
  const auto meta = first.state_metadata();
  Trainer resumed(s.t, s.g, s.d);
  resumed.load_state(saved, meta, "test");
  for (int i = 0; i < 2; ++i) {
    resumed.step(random_batches(data_b));
    resumed.sample(z, true);
  }
  const auto a = full.state_tensors(), b = resumed.state_tensors();
  ASSERT_EQ(a.size(), b.size());
  bool has_ema_bn = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
    has_ema_bn = has_ema_bn || (a[i].first.find("generator_ema.") == 0 &&
                                    a[i].first.find("running_mean") != std::string::npos);
  }
  EXPECT_TRUE(has_ema_bn);
  EXPECT_EQ(full.state_metadata(), resumed.state_metadata());
  EXPECT_EQ(full.sample(z, true).to_vector(), resumed.sample(z, true).to_vector());
}

}  // namespace
}  // namespace sngan
