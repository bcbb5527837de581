// Trainer: one generator iteration at a time (Miyato et al. 2018, Sec. 4; n_dis as in Table 1):
//   n_dis times: real batch; z -> G (no graph) -> fake; D(real), D(fake) (two training forwards,
//     each advancing spectral norm's u); L_D + the configured penalties (gradient penalty on
//     interpolates, R1, orthonormal; d_method.h); backward; Adam(D); weight clipping if set
//   then: z -> G -> D -> L_G; backward into G through D's input gradient (D's weights get no
//     gradient); Adam(G); EMA(G) (from train.ema_start on; standing BN statistics, see
//     refresh_ema_statistics).
// Every random draw (z, the penalty's interpolation weights) comes from the trainer's z stream; all state, including that stream, is
// exposed for checkpoints.
// Data parallelism (set_process_group): every rank runs this trainer on the same batches, z
// and weights; each takes its shard of every real batch, z batch and penalty draw (the whole
// draw is made, so the streams stay those of one process), its loss is its rows' share of the
// batch mean, batch norm reduces its statistics over the ranks, and the ranks sum their
// gradients before each Adam step. So the ranks hold identical weights, and they equal one
// process's up to the rounding of the regrouped sums.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/gan/config.h"
#include "core/gan/models.h"
#include "core/nn/optim.h"
#include "core/tensor/process_group.h"

namespace sngan {

// Supplies the next real batch (N, C, H, W) (or (N, features) for toy sets) of size batch_size.
using BatchSource = std::function<Tensor()>;

struct StepStats {
  int64_t iteration = 0;  // generator updates done, after this step
  double loss_d = 0, loss_g = 0;
  double d_real = 0, d_fake = 0;  // mean logits of the last discriminator step
  double lr_g = 0, lr_d = 0;
  std::vector<std::pair<std::string, double>> sigmas;  // per spectrally normalized layer
};

// Seconds spent in each phase, accumulated over steps (for `sngan bench`). Spectral norm's
// share of D forward is kept by the layers themselves (spectral_norm_seconds()).
struct PhaseTimes {
  double g_forward = 0, g_backward = 0, d_forward = 0, d_backward = 0;
  double optimizer = 0, data = 0, ema = 0;
  double communicate = 0;  // summing gradients and logged values over the ranks
};

// The first tensor (by name) holding NaN or Inf, or "" when all are finite.
std::string first_non_finite(const std::vector<std::pair<std::string, Tensor>>& tensors);

// Thrown by Trainer::step when a loss, a weight or an optimizer state stops being finite.
// The trainer's state is then unusable; the caller keeps its last checkpoint.
class DivergenceError : public Error {
 public:
  using Error::Error;
};

class Trainer {
 public:
  Trainer(const TrainConfig& train, const GeneratorConfig& g, const DiscriminatorConfig& d);

  // Throws DivergenceError naming the iteration and the quantity when the step produces a
  // non-finite loss, weight or optimizer state.
  StepStats step(const BatchSource& next_real);
  int64_t iteration() const { return iteration_; }
  const TrainConfig& config() const { return config_; }

  Generator& generator() { return *g_; }
  Discriminator& discriminator() { return *d_; }
  // The moving average of G's weights (null when ema_decay == 0), its standing statistics
  // brought up to date first (refresh_ema_statistics).
  Generator* ema_generator();

  // EMA "standing statistics" (Brock et al. 2019, BigGAN, App. C): unless already current
  // for the present EMA weights, sets each BN layer's running mean and (unbiased) variance of the
  // EMA generator to the plain average, over train.ema_standing_batches batches of
  // train.batch_size z, of its batch statistics in a training-mode forward of the EMA weights
  // (no gradient, no weight change). The z come from the EMA's own seeded stream, restarted on
  // every refresh: the statistics are a function of the EMA weights alone, training draws
  // nothing from it, and checkpoints need no state for it. No-op without EMA or with
  // ema_standing_batches 0 (then update_ema copies G's running statistics). Const because it
  // only refreshes this cache; sample(), ema_generator() and state_tensors() call it.
  void refresh_ema_statistics() const;

  // Images for z (N, z_dim) from G (or EMA-G when use_ema and it exists) in eval mode.
  Tensor sample(const Tensor& z, bool use_ema);

  // Checkpoint state: every tensor by name ("generator.dense.weight",
  // "discriminator.conv0.u", "generator_ema...", "optimizer_d.m.conv0.weight", ...) as handles,
  // and the scalar state as strings (iteration, optimizer steps, RNG stream). The EMA
  // generator's BN statistics are its standing statistics (refreshed first).
  std::vector<std::pair<std::string, Tensor>> state_tensors() const;
  std::map<std::string, std::string> state_metadata() const;
  // Restores from tensors and metadata produced by the two above. Throws sngan::Error naming
  // `source` and the first tensor that is missing or has another shape.
  void load_state(const std::map<std::string, Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata, const std::string& source);

  // Steps add their phase times to `times` from now on (null: no timing, the default).
  void set_phase_times(PhaseTimes* times) { times_ = times; }
  // Trains as one rank of `group` from now on (null or a group of one: alone, the default).
  // The group must outlive the trainer's steps; every rank must step in lockstep.
  void set_process_group(ProcessGroup* group) { group_ = group; }
  ProcessGroup* process_group() const { return group_; }
  Rng& z_rng() { return z_rng_; }
  // The standing statistics' z stream at its start (each refresh draws from a copy).
  const Rng& standing_z_rng() const { return standing_rng_; }

 private:
  void update_learning_rates();
  // One discriminator update on a real batch and as many fakes; sets stats' D fields.
  void discriminator_step(const BatchSource& next_real, StepStats& stats);
  // One generator update through the (frozen) discriminator, then Adam(G) and EMA(G).
  void generator_step(StepStats& stats);
  // With several ranks: sums net's parameter gradients over them, and the values in `sums`.
  void sum_over_ranks(Module& net, std::vector<double>& sums);
  // EMA(G) after G's update number iteration_ + 1: a copy of G's weights before
  // train.ema_start, the average from it on.
  void update_ema();
  // state_tensors() without the refresh.
  std::vector<std::pair<std::string, Tensor>> all_tensors() const;
  // Throws DivergenceError if `value` or any parameter, buffer (BN statistics, SN vectors) or
  // optimizer state of the net is not finite, naming it as checkpoints do.
  void check_finite(const char* loss_name, double value, const char* net_name, const Module& net,
                    const char* opt_name, const Adam& opt) const;

  TrainConfig config_;
  std::shared_ptr<Generator> g_, g_ema_;
  std::shared_ptr<Discriminator> d_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  Rng z_rng_;
  Rng standing_rng_;  // the standing statistics' z stream at its start (copied on each refresh)
  mutable bool ema_stats_current_ = false;
  int64_t iteration_ = 0;
  PhaseTimes* times_ = nullptr;
  ProcessGroup* group_ = nullptr;
};

}  // namespace sngan
