#include "core/gan/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/gan/d_method.h"
#include "core/gan/losses.h"
#include "core/nn/layers.h"

namespace sngan {

namespace {

// Adds the seconds of its scope to one field of a PhaseTimes; does nothing when there is none.
class PhaseTimer {
 public:
  using Clock = std::chrono::steady_clock;
  PhaseTimer(PhaseTimes* times, double PhaseTimes::*phase)
      : seconds_(times ? &(times->*phase) : nullptr) {
    if (seconds_) start_ = Clock::now();
  }
  ~PhaseTimer() {
    if (seconds_) *seconds_ += std::chrono::duration<double>(Clock::now() - start_).count();
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  double* seconds_;
  Clock::time_point start_;
};

// Turns off gradients for a module's weights for one scope.
class FrozenWeights {
 public:
  explicit FrozenWeights(Module& m) : m_(m) { m_.set_requires_grad(false); }
  ~FrozenWeights() { m_.set_requires_grad(true); }

 private:
  Module& m_;
};

int64_t parse_int(const std::map<std::string, std::string>& md, const std::string& key,
                  const std::string& source) {
  auto it = md.find(key);
  SNGAN_CHECK(it != md.end(), source, ": expected metadata '", key, "', not found");
  try {
    size_t used = 0;
    int64_t v = std::stoll(it->second, &used);
    SNGAN_CHECK(used == it->second.size() && v >= 0, "");
    return v;
  } catch (...) {
    throw Error(detail::concat(source, ": expected a non-negative integer in metadata '", key,
                               "', got '", it->second, "'"));
  }
}

// Rows [shard.begin, shard.end) of t (N, ...); t itself when the shard is all of it.
Tensor shard_rows(const Tensor& t, const Shard& shard) {
  if (shard.whole()) return t;
  Shape shape = t.shape();
  const int64_t per = t.numel() / shape[0];
  shape[0] = shard.size();
  Tensor out = Tensor::empty(shape);
  std::copy(t.data() + shard.begin * per, t.data() + shard.end * per, out.data());
  return out;
}

// The shard of a batch of n that this rank takes. A batch that would leave a rank empty is
// refused on every rank alike (no rank goes on to wait for the others).
Shard batch_shard(int64_t n, const ProcessGroup* group, const char* what) {
  const int64_t ranks = group ? group->size() : 1;
  SNGAN_CHECK(n >= ranks, "expected at least one example per rank: ", what, " of ", n, " over ",
              ranks, " ranks");
  return shard_of(n, group);
}

// This shard's share of a mean over the batch: loss * rows / total (unchanged when whole), so
// that the ranks' shares and their gradients sum to the batch mean's.
Var share_of_mean(const Var& loss, const Shard& shard) {
  if (shard.whole()) return loss;
  return mul_scalar(loss, static_cast<Scalar>(static_cast<double>(shard.size()) / static_cast<double>(shard.total)));
}

}  // namespace

std::string first_non_finite(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) {
    const Scalar* p = t.data();
    const int64_t n = t.numel();  // clang (before C++20) cannot use the binding t in the region
    // Exponent bits all set (inf or NaN), tested on the bits so the loop vectorizes.
    int bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (sizeof(Scalar) == 4) {
        uint32_t u;
        std::memcpy(&u, p + i, sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
      } else {
        bad |= !std::isfinite(p[i]);
      }
    }
    if (bad) return name;
  }
  return "";
}

void Trainer::check_finite(const char* loss_name, double value, const char* net_name,
                           const Module& net, const char* opt_name, const Adam& opt) const {
  const int64_t it = iteration_ + 1;
  if (!std::isfinite(value))
    throw DivergenceError(detail::concat("training diverged at iteration ", it, ": ", loss_name,
                                         " is not finite (", value, ")"));
  // Named as in checkpoints: "discriminator.conv0.weight", "optimizer_d.v.conv0.weight". The
  // parameters and their moments were checked by the optimizer's step (the only writer of
  // both); the buffers (batch-norm statistics, spectral-norm vectors) are read here.
  const std::string net_prefix = std::string(net_name) + ".", opt_prefix = std::string(opt_name) + ".";
  std::string bad;
  if (const Adam::NonFinite& stepped = opt.non_finite(); !stepped.name.empty())
    bad = (stepped.in_state ? opt_prefix : net_prefix) + stepped.name;
  if (bad.empty()) {
    std::vector<std::pair<std::string, Tensor>> buffers;
    for (auto& [name, b] : net.named_buffers()) buffers.emplace_back(net_prefix + name, b);
    bad = first_non_finite(buffers);
  }
  if (!bad.empty())
    throw DivergenceError(detail::concat("training diverged at iteration ", it, ": ", bad,
                                         " is not finite"));
}

Trainer::Trainer(const TrainConfig& train, const GeneratorConfig& g, const DiscriminatorConfig& d)
    : config_(train) {
  SNGAN_CHECK(train.batch_size > 0, "train.batch_size: expected > 0, got ", train.batch_size);
  SNGAN_CHECK(train.g_batch_size > 0, "train.g_batch_size: expected > 0, got ", train.g_batch_size);
  SNGAN_CHECK(train.n_dis > 0, "train.n_dis: expected > 0, got ", train.n_dis);
  SNGAN_CHECK(train.ema_decay >= 0 && train.ema_decay < 1,
              "train.ema_decay: expected a value in [0, 1), got ", train.ema_decay);
  SNGAN_CHECK(train.ema_start >= 0, "train.ema_start: expected >= 0, got ", train.ema_start);
  SNGAN_CHECK(train.ema_standing_batches >= 0,
              "train.ema_standing_batches: expected >= 0, got ", train.ema_standing_batches);
  check_d_method(train, d);
  Rng base(train.seed);
  Rng init_rng = base.split();
  z_rng_ = base.split();
  standing_rng_ = base.split();  // drawn after the others: their streams are as before
  g_ = make_generator(g, init_rng);
  d_ = make_discriminator(d, init_rng);
  if (train.ema_decay > 0) {
    g_ema_ = make_generator(g, init_rng);
    auto src = g_->named_parameters();
    auto dst = g_ema_->named_parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].second.value().copy_from(src[i].second.value());
    g_ema_->eval();
  }
  opt_g_ = std::make_unique<Adam>(g_->named_parameters(),
                                  AdamConfig{train.lr_g, train.beta1, train.beta2, 1e-8});
  opt_d_ = std::make_unique<Adam>(d_->named_parameters(),
                                  AdamConfig{train.lr_d, train.beta1, train.beta2, 1e-8});
}

void Trainer::update_learning_rates() {
  if (config_.lr_decay != LrDecay::kLinear) return;
  const double frac = 1.0 - static_cast<double>(iteration_) / static_cast<double>(config_.iterations);
  opt_g_->set_lr(config_.lr_g * std::max(frac, 0.0));
  opt_d_->set_lr(config_.lr_d * std::max(frac, 0.0));
}

StepStats Trainer::step(const BatchSource& next_real) {
  // The step's GEMMs in the configured precision; sampling and evaluation stay in fp32.
  kernels::PrecisionScope precision(config_.precision);
  update_learning_rates();
  StepStats stats;
  stats.lr_g = opt_g_->lr();
  stats.lr_d = opt_d_->lr();
  g_->train();
  d_->train();
  for (int64_t k = 0; k < config_.n_dis; ++k) discriminator_step(next_real, stats);
  generator_step(stats);
  ++iteration_;
  stats.iteration = iteration_;
  for (auto& [name, sn] : d_->spectral_norms()) stats.sigmas.emplace_back(name, sn->sigma());
  return stats;
}

void Trainer::discriminator_step(const BatchSource& next_real, StepStats& stats) {
  Tensor real;
  {
    PhaseTimer timer(times_, &PhaseTimes::data);
    real = next_real();
  }
  // A shorter batch is an epoch's last one without drop_last: G fakes as many.
  SNGAN_CHECK(real.defined() && real.ndim() >= 1 && real.dim(0) >= 1 &&
                  real.dim(0) <= config_.batch_size,
              "expected a real batch of 1 to ", config_.batch_size, " examples, got ",
              real.defined() ? real.shape().str() : std::string("none"));
  const Shard shard = batch_shard(real.dim(0), group_, "a real batch");
  real = shard_rows(real, shard);
  Tensor z = shard_rows(g_->sample_z(z_rng_, shard.total), shard);
  BatchGroupScope batch_scope(group_);  // batch norm's statistics over every rank's rows
  Var fake;
  {
    PhaseTimer timer(times_, &PhaseTimes::g_forward);
    NoGradGuard no_grad;
    fake = g_->forward(Var(z));
  }
  Var d_real, d_fake, loss;
  {
    PhaseTimer timer(times_, &PhaseTimes::d_forward);
    // Real and fake pass as two batches (two training forwards, as the official code does): with
    // batch norm in D each is normalized by its own statistics.
    const Var x_real(real, d_step_needs_real_grad(config_));  // R1 differentiates w.r.t. it
    d_real = d_->forward(x_real);
    d_fake = d_->forward(fake);
    // The loss minimised: L_D plus the configured penalties (their draws follow the z draw).
    loss = share_of_mean(add_d_regularizers(discriminator_loss(config_.loss, d_real, d_fake), config_,
                                            *d_, x_real, d_real, fake.value(), z_rng_, shard),
                         shard);
  }
  {
    PhaseTimer timer(times_, &PhaseTimes::d_backward);
    d_->zero_grad();
    backward(loss);
  }
  std::vector<double> sums{loss.item(), share_of_mean(mean(d_real), shard).item(),
                           share_of_mean(mean(d_fake), shard).item()};
  sum_over_ranks(*d_, sums);
  {
    PhaseTimer timer(times_, &PhaseTimes::optimizer);
    opt_d_->step();
    after_d_update(*d_);  // weight clipping
  }
  stats.loss_d = sums[0];
  check_finite("loss_d", stats.loss_d, "discriminator", *d_, "optimizer_d", *opt_d_);
  stats.d_real = sums[1];
  stats.d_fake = sums[2];
}

void Trainer::sum_over_ranks(Module& net, std::vector<double>& sums) {
  if (!group_ || group_->size() == 1) return;
  PhaseTimer timer(times_, &PhaseTimes::communicate);
  // Every defined gradient packed into one buffer (one sum), then the values (a second).
  std::vector<Var> params;
  int64_t n = 0;
  for (auto& [name, p] : net.named_parameters())
    if (p.grad().defined()) {
      params.push_back(p);
      n += p.numel();
    }
  std::vector<Scalar> buffer(static_cast<size_t>(n));
  int64_t at = 0;
  for (Var& p : params) {
    std::copy(p.grad().data(), p.grad().data() + p.numel(), buffer.data() + at);
    at += p.numel();
  }
  group_->sum(buffer.data(), n);
  group_->sum(sums.data(), static_cast<int64_t>(sums.size()));
  at = 0;
  for (Var& p : params) {
    std::copy(buffer.data() + at, buffer.data() + at + p.numel(), p.grad().data());
    at += p.numel();
  }
}

void Trainer::generator_step(StepStats& stats) {
  {
    FrozenWeights frozen(*d_);  // G's step needs D's input gradient, not its weight gradient
    const Shard shard = batch_shard(config_.g_batch_size, group_, "train.g_batch_size");
    Tensor z = shard_rows(g_->sample_z(z_rng_, shard.total), shard);
    BatchGroupScope batch_scope(group_);
    Var fake, loss;
    {
      PhaseTimer timer(times_, &PhaseTimes::g_forward);
      fake = g_->forward(Var(z));
    }
    {
      PhaseTimer timer(times_, &PhaseTimes::d_forward);
      loss = share_of_mean(generator_loss(config_.loss, d_->forward(fake)), shard);
    }
    {
      PhaseTimer timer(times_, &PhaseTimes::g_backward);
      g_->zero_grad();
      backward(loss);
    }
    std::vector<double> sums{loss.item()};
    sum_over_ranks(*g_, sums);
    stats.loss_g = sums[0];
  }
  {
    PhaseTimer timer(times_, &PhaseTimes::optimizer);
    opt_g_->step();
  }
  check_finite("loss_g", stats.loss_g, "generator", *g_, "optimizer_g", *opt_g_);
  PhaseTimer timer(times_, &PhaseTimes::ema);
  update_ema();
}

void Trainer::update_ema() {
  if (!g_ema_) return;
  // Before ema_start the average has not begun: decay 0 copies G's weights exactly.
  const bool averaging = iteration_ + 1 >= config_.ema_start;
  const Scalar decay = averaging ? static_cast<Scalar>(config_.ema_decay) : Scalar(0);
  auto src = g_->named_parameters();
  auto dst = g_ema_->named_parameters();
  for (size_t i = 0; i < src.size(); ++i) {
    Scalar* e = dst[i].second.value().data();
    const Scalar* p = src[i].second.value().data();
    for (int64_t k = 0; k < src[i].second.numel(); ++k) e[k] = decay * e[k] + (1 - decay) * p[k];
  }
  ema_stats_current_ = false;
  if (config_.ema_standing_batches > 0) return;  // re-estimated when needed
  // Without standing statistics G's running statistics are copied (they fit G's weights).
  auto bsrc = g_->named_buffers();
  auto bdst = g_ema_->named_buffers();
  for (size_t i = 0; i < bsrc.size(); ++i) bdst[i].second.copy_from(bsrc[i].second);
}

void Trainer::refresh_ema_statistics() const {
  if (!g_ema_ || config_.ema_standing_batches == 0 || ema_stats_current_) return;
  Generator& g = *g_ema_;
  std::vector<BatchNorm*> bns;
  g.visit([&](Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm*>(&m)) bns.push_back(bn);
  });
  std::vector<Scalar> momenta;
  for (BatchNorm* bn : bns) momenta.push_back(bn->momentum());
  Rng rng = standing_rng_;
  NoGradGuard no_grad;
  g.train();
  for (int64_t k = 0; k < config_.ema_standing_batches; ++k) {
    // Momentum 1 / (k + 1): after batch k the running value is the mean of batches 0..k.
    for (BatchNorm* bn : bns) bn->set_momentum(static_cast<Scalar>(1.0 / static_cast<double>(k + 1)));
    Tensor z = g.sample_z(rng, config_.batch_size);  // (batch_size, z_dim)
    g.forward(Var(z));
  }
  for (size_t i = 0; i < bns.size(); ++i) bns[i]->set_momentum(momenta[i]);
  g.eval();
  ema_stats_current_ = true;
}

Generator* Trainer::ema_generator() {
  refresh_ema_statistics();
  return g_ema_.get();
}

Tensor Trainer::sample(const Tensor& z, bool use_ema) {
  if (use_ema) refresh_ema_statistics();
  Generator& g = (use_ema && g_ema_) ? *g_ema_ : *g_;
  NoGradGuard no_grad;
  const bool was_training = g.is_training();
  g.eval();
  Tensor out = g.forward(Var(z)).value();
  g.train(was_training);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Trainer::state_tensors() const {
  refresh_ema_statistics();
  return all_tensors();
}

std::vector<std::pair<std::string, Tensor>> Trainer::all_tensors() const {
  std::vector<std::pair<std::string, Tensor>> out;
  auto add_module = [&](const std::string& prefix, const Module& m) {
    for (auto& [name, p] : m.named_parameters()) out.emplace_back(prefix + name, p.value());
    for (auto& [name, b] : m.named_buffers()) out.emplace_back(prefix + name, b);
  };
  add_module("generator.", *g_);
  add_module("discriminator.", *d_);
  if (g_ema_) add_module("generator_ema.", *g_ema_);
  for (auto& [name, t] : opt_g_->state()) out.emplace_back("optimizer_g." + name, t);
  for (auto& [name, t] : opt_d_->state()) out.emplace_back("optimizer_d." + name, t);
  return out;
}

std::map<std::string, std::string> Trainer::state_metadata() const {
  return {{"iteration", std::to_string(iteration_)},
          {"optimizer_g.step", std::to_string(opt_g_->step_count())},
          {"optimizer_d.step", std::to_string(opt_d_->step_count())},
          {"rng.z", z_rng_.state()}};
}

void Trainer::load_state(const std::map<std::string, Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata,
                         const std::string& source) {
  auto expected = all_tensors();
  // Validate everything before changing anything.
  for (auto& [name, t] : expected) {
    auto it = tensors.find(name);
    SNGAN_CHECK(it != tensors.end(), source, ": expected tensor '", name,
                "' for this model, not found (a checkpoint of another model or config?)");
    SNGAN_CHECK(it->second.shape() == t.shape(), source, ": tensor '", name, "' has shape ",
                it->second.shape().str(), ", this model expects ", t.shape().str());
  }
  const int64_t iteration = parse_int(metadata, "iteration", source);
  const int64_t step_g = parse_int(metadata, "optimizer_g.step", source);
  const int64_t step_d = parse_int(metadata, "optimizer_d.step", source);
  auto rng_it = metadata.find("rng.z");
  SNGAN_CHECK(rng_it != metadata.end(), source, ": expected metadata 'rng.z', not found");
  Rng z_rng;
  try {
    z_rng.set_state(rng_it->second);
  } catch (const Error& e) {
    throw Error(detail::concat(source, ": metadata 'rng.z': ", e.what()));
  }
  for (auto& [name, t] : expected) t.copy_from(tensors.at(name));
  iteration_ = iteration;
  opt_g_->set_step_count(step_g);
  opt_d_->set_step_count(step_d);
  z_rng_ = z_rng;
  ema_stats_current_ = false;  // recomputed (to the same values when saved as standing statistics)
}

}  // namespace sngan
