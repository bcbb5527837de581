// Data parallelism (core/tensor/process_group.h): K ranks, here threads of one process joined
// by LocalProcessGroups, each with its own Trainer on the same batches. The ranks must hold
// the same bits after every step, one rank must equal a trainer without a group bit for bit,
// and K ranks must equal one process up to the rounding of the regrouped sums. The same
// holds over MPI (tests/cli/test_mpi.cpp runs the binary under mpirun).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>

#include "core/gan/trainer.h"
#include "core/tensor/kernels/batch_norm_ops.h"

namespace sngan {
namespace {

struct Models {
  GeneratorConfig g;
  DiscriminatorConfig d;
  TrainConfig t;
  explicit Models(Architecture a) {
    g.architecture = d.architecture = a;
    t.batch_size = t.g_batch_size = 12;
    t.n_dis = 2;
    t.seed = 5;
    g.z_dim = 16;
    g.channels = d.channels = 1;
    if (a == Architecture::kStandardCnn) {
      g.image_size = d.image_size = 8;
      g.base_channels = 16;
      d.conv_channels = {4, 4, 8, 8, 8, 8, 16};
    } else {
      g.base_channels = d.base_channels = 8;
    }
  }
  Shape batch_shape() const { return Shape{t.batch_size, d.channels, d.image_size, d.image_size}; }
};

struct Result {
  std::shared_ptr<Trainer> trainer;
  std::vector<std::pair<std::string, Tensor>> state;
  std::vector<StepStats> stats;
  Tensor g_eval, g_train, d_out;  // the function computed, on fixed inputs (outputs())
};

// G on fixed z in eval and in training mode (batch statistics) and D on a fixed batch (eval
// mode): the
// function the weights compute, whatever the weights that cannot change it (below).
void outputs(const Models& s, Result& r) {
  if (r.g_eval.defined()) return;
  Rng rng(99);
  Tensor z = r.trainer->generator().sample_z(rng, 6);
  r.g_eval = r.trainer->sample(z, false);
  NoGradGuard no_grad;
  r.trainer->generator().train();
  r.g_train = r.trainer->generator().forward(Var(z)).value();
  Tensor x = Tensor::empty(Shape{6, s.d.channels, s.d.image_size, s.d.image_size});
  rng.fill_uniform(x, -1, 1);
  r.trainer->discriminator().eval();
  r.d_out = r.trainer->discriminator().forward(Var(x)).value();
}

// `steps` steps of one trainer (as rank group->rank() when group is set).
Result train(const Models& s, int steps, ProcessGroup* group) {
  Result r;
  r.trainer = std::make_shared<Trainer>(s.t, s.g, s.d);
  Trainer& tr = *r.trainer;
  tr.set_process_group(group);
  Rng data(11);  // every rank draws the same whole batches
  BatchSource next = [&] {
    Tensor x = Tensor::empty(s.batch_shape());
    data.fill_uniform(x, -1, 1);
    return x;
  };
  for (int i = 0; i < steps; ++i) r.stats.push_back(tr.step(next));
  for (auto& [name, t] : tr.state_tensors()) {  // copies: outputs() moves the BN running statistics
    Tensor copy = Tensor::empty(t.shape());
    copy.copy_from(t);
    r.state.emplace_back(name, copy);
  }
  return r;
}

std::vector<Result> train_ranks(const Models& s, int steps, int ranks) {
  auto groups = LocalProcessGroups::make(ranks);
  std::vector<Result> results(static_cast<size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] { results[static_cast<size_t>(r)] = train(s, steps, groups[static_cast<size_t>(r)].get()); });
  for (auto& th : threads) th.join();
  return results;
}

void expect_identical(const Result& a, const Result& b, const std::string& what) {
  ASSERT_EQ(a.state.size(), b.state.size());
  for (size_t i = 0; i < a.state.size(); ++i)
    EXPECT_EQ(a.state[i].second.to_vector(), b.state[i].second.to_vector()) << what << ": " << a.state[i].first;
  for (size_t i = 0; i < a.stats.size(); ++i) {
    EXPECT_EQ(a.stats[i].loss_d, b.stats[i].loss_d) << what << " step " << i;
    EXPECT_EQ(a.stats[i].loss_g, b.stats[i].loss_g) << what << " step " << i;
  }
}

// Biases that feed a batch norm: BN subtracts any per-channel constant, so their gradient is
// zero but for rounding, which Adam (m / sqrt(v)) turns into full-size steps of random sign.
// Their values, Adam states and the BN running means that follow them depend on the
// grouping of the sums and on nothing else; outputs() checks they change nothing.
bool feeds_batch_norm(const std::string& state_name) {
  std::string name = state_name;  // an Adam state's name as its parameter's
  for (auto [from, to] : {std::pair{"optimizer_g.m.", "generator."}, {"optimizer_g.v.", "generator."},
                          {"optimizer_d.m.", "discriminator."}, {"optimizer_d.v.", "discriminator."}})
    if (name.rfind(from, 0) == 0) name = to + name.substr(std::string(from).size());
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("running_mean")) return true;
  if (!has(".bias")) return false;
  if (has("generator.deconv") && !has("deconv3")) return true;  // standard CNN: BN after deconv 0-2
  if (has("generator.block") || has("generator.dense")) return true;  // ResNet
  return has("discriminator.conv") && !has("conv0.");  // BN in D: after every conv but the first
}

double relative_difference(const std::vector<Scalar>& x, const std::vector<Scalar>& y) {
  double diff = 0, norm = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    diff += (double(x[k]) - y[k]) * (double(x[k]) - y[k]);
    norm += double(y[k]) * y[k];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// The largest ||a - b|| / ||b|| over the state (but feeds_batch_norm), the outputs and the
// losses (relative to max(|loss|, 1e-3)); *where names it.
double worst_relative_difference(const Models& s, Result& a, Result& b, std::string* where,
                                 double* worst_eval_mode) {
  double worst = 0;
  auto note = [&](double rel, const std::string& what) {
    if (rel > worst) {
      worst = rel;
      *where = what;
    }
  };
  for (size_t i = 0; i < a.state.size(); ++i)
    if (!feeds_batch_norm(a.state[i].first))
      note(relative_difference(a.state[i].second.to_vector(), b.state[i].second.to_vector()), a.state[i].first);
  outputs(s, a);
  outputs(s, b);
  *worst_eval_mode = std::max(relative_difference(a.g_eval.to_vector(), b.g_eval.to_vector()),
                              relative_difference(a.d_out.to_vector(), b.d_out.to_vector()));
  note(relative_difference(a.g_train.to_vector(), b.g_train.to_vector()), "G(z), batch statistics");
  for (size_t i = 0; i < a.stats.size(); ++i) {
    note(std::abs(a.stats[i].loss_d - b.stats[i].loss_d) / std::max(std::abs(b.stats[i].loss_d), 1e-3),
         "loss_d at step " + std::to_string(i));
    note(std::abs(a.stats[i].loss_g - b.stats[i].loss_g) / std::max(std::abs(b.stats[i].loss_g), 1e-3),
         "loss_g at step " + std::to_string(i));
  }
  return worst;
}

constexpr int kSteps = 4;
// Tolerance against one process: float sums regrouped over the ranks differ in their last
// bits, and Adam's first steps (m / sqrt(v)) pass on such differences at full size where a
// gradient is small. Measured worst cases over 4 steps, 2 and 3 ranks: 6.3e-4 (D's last
// bias with the gradient penalty), else below 6e-5. Eval-mode outputs read the BN running means, which carry the biases that feed a
// batch norm (see feeds_batch_norm): up to 4e-3 there.
constexpr double kTolerance = 1e-3;
constexpr double kEvalModeTolerance = 2e-2;

void check_ranks_match_one_process(const Models& s, const std::string& name) {
  Result alone = train(s, kSteps, nullptr);
  expect_identical(train_ranks(s, kSteps, 1)[0], alone, name + ", one rank");
  for (int ranks : {2, 3}) {
    auto results = train_ranks(s, kSteps, ranks);
    for (int r = 1; r < ranks; ++r)
      expect_identical(results[static_cast<size_t>(r)], results[0], name + ", rank " + std::to_string(r));
    std::string where;
    double worst_eval_mode = 0;
    const double worst = worst_relative_difference(s, results[0], alone, &where, &worst_eval_mode);
    EXPECT_LT(worst, kTolerance) << name << ", " << ranks << " ranks: " << where;
    EXPECT_LT(worst_eval_mode, kEvalModeTolerance) << name << ", " << ranks << " ranks";
    std::printf("%s, %d ranks: worst relative difference %.3g (%s), eval-mode outputs %.3g\n", name.c_str(),
                ranks, worst, where.c_str(), worst_eval_mode);
  }
}

TEST(DataParallel, StandardCnnMatchesOneProcess) {
  check_ranks_match_one_process(Models(Architecture::kStandardCnn), "standard_cnn");
}

TEST(DataParallel, ResNetMatchesOneProcess) {
  check_ranks_match_one_process(Models(Architecture::kResNet), "resnet");
}

TEST(DataParallel, BatchNormInDMatchesOneProcess) {
  Models s(Architecture::kStandardCnn);
  s.d.normalization = DNormalization::kBatchNorm;
  check_ranks_match_one_process(s, "batch_norm_d");
}

// GAN-GP: the penalty's per-sample draws are sharded like z. (WGAN's loss is not compared at
// these sizes: with a near-linear D at init the per-sample gradients into G are almost equal,
// G's batch norm subtracts their mean, and what is left is rounding in any grouping.)
TEST(DataParallel, GradientPenaltyMatchesOneProcess) {
  Models s(Architecture::kStandardCnn);
  s.d.normalization = DNormalization::kNone;
  s.t.gradient_penalty = 10;
  check_ranks_match_one_process(s, "gan_gp");
}

TEST(DataParallel, BatchSmallerThanTheRanksIsRefused) {
  Models s(Architecture::kStandardCnn);
  s.t.batch_size = s.t.g_batch_size = 2;
  auto groups = LocalProcessGroups::make(3);
  std::vector<std::string> errors(3);
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      try {
        train(s, 1, groups[static_cast<size_t>(r)].get());
      } catch (const Error& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  // A batch of 2 leaves one of 3 ranks empty: every rank refuses it (none waits on the others).
  for (const std::string& e : errors) EXPECT_NE(e.find("at least one example per rank"), std::string::npos) << e;
}

// The sharded batch-norm kernels over 3 ranks against the fused kernels on the whole batch.
TEST(DataParallel, ShardedBatchNormMatchesWholeBatch) {
  const kernels::BatchNormDims whole{9, 3, 5};
  Rng rng(2);
  Tensor x = Tensor::empty(Shape{9, 3, 5}), dy = Tensor::empty(Shape{9, 3, 5});
  Tensor gamma = Tensor::empty(Shape{3}), beta = Tensor::empty(Shape{3});
  for (Tensor* t : {&x, &dy, &gamma, &beta}) rng.fill_uniform(*t, -1, 1);
  Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
  Tensor dg = Tensor::empty(Shape{3}), db = Tensor::empty(Shape{3});
  std::vector<double> mean(3), invstd(3);
  kernels::batch_norm_forward(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(), beta.data(),
                              whole, 1e-5, true, {});
  kernels::batch_norm_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(),
                               invstd.data(), gamma.data(), y.data(), whole);

  auto groups = LocalProcessGroups::make(3);
  Tensor ys = Tensor::empty(x.shape()), dxs = Tensor::empty(x.shape());
  std::vector<Tensor> dgs(3, Tensor::empty(Shape{3})), dbs(3, Tensor::empty(Shape{3}));
  for (auto& t : dgs) t = Tensor::empty(Shape{3});
  for (auto& t : dbs) t = Tensor::empty(Shape{3});
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      ProcessGroup* g = groups[static_cast<size_t>(r)].get();
      const int64_t per = 3 * 5, n0 = 3 * r;  // rows 3r..3r+2
      const kernels::BatchNormDims d{3, 3, 5};
      auto reduce = [g](double* v, int64_t n) { g->sum(v, n); };
      std::vector<double> m(3), is(3);
      kernels::batch_norm_forward_sharded(ys.data() + n0 * per, m.data(), is.data(), x.data() + n0 * per,
                                          gamma.data(), beta.data(), d, 45, reduce, 1e-5, true, {});
      kernels::batch_norm_backward_sharded(dxs.data() + n0 * per, dgs[r].data(), dbs[r].data(),
                                           dy.data() + n0 * per, x.data() + n0 * per, m.data(), is.data(),
                                           gamma.data(), ys.data() + n0 * per, d, 45, reduce);
    });
  for (auto& th : threads) th.join();
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_NEAR(ys[i], y[i], 1e-5) << i;
    EXPECT_NEAR(dxs[i], dx[i], 1e-5) << i;
  }
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(dgs[0][c] + dgs[1][c] + dgs[2][c], dg[c], 1e-5);
    EXPECT_NEAR(dbs[0][c] + dbs[1][c] + dbs[2][c], db[c], 1e-5);
  }
}

}  // namespace
}  // namespace sngan
