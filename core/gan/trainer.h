// Trainer: one generator iteration at a time (Miyato et al. 2018, Sec. 4; n_dis as in Table 1):
//   n_dis times: real batch; z -> G (no graph) -> fake; D(real), D(fake) (two training forwards,
//     each advancing spectral norm's u); L_D + the configured penalties (gradient penalty on
//     interpolates, R1, orthonormal; d_method.h); backward; Adam(D); weight clipping if set
//   then: z -> G -> D -> L_G; backward into G through D's input gradient (D's weights get no
//     gradient); Adam(G); EMA(G).
// Every random draw (z, the penalty's interpolation weights) comes from the trainer's z stream; all state, including that stream, is
// exposed for checkpoints.
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
  Generator* ema_generator() { return g_ema_.get(); }  // null when ema_decay == 0

  // Images for z (N, z_dim) from G (or EMA-G when use_ema and it exists) in eval mode.
  Tensor sample(const Tensor& z, bool use_ema);

  // Checkpoint state: every tensor by name ("generator.dense.weight",
  // "discriminator.conv0.u", "generator_ema...", "optimizer_d.m.conv0.weight", ...) as handles,
  // and the scalar state as strings (iteration, optimizer steps, RNG stream).
  std::vector<std::pair<std::string, Tensor>> state_tensors() const;
  std::map<std::string, std::string> state_metadata() const;
  // Restores from tensors and metadata produced by the two above. Throws sngan::Error naming
  // `source` and the first tensor that is missing or has another shape.
  void load_state(const std::map<std::string, Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata, const std::string& source);

  // Steps add their phase times to `times` from now on (null: no timing, the default).
  void set_phase_times(PhaseTimes* times) { times_ = times; }
  Rng& z_rng() { return z_rng_; }

 private:
  void update_learning_rates();
  // One discriminator update on a real batch and as many fakes; sets stats' D fields.
  void discriminator_step(const BatchSource& next_real, StepStats& stats);
  // One generator update through the (frozen) discriminator, then Adam(G) and EMA(G).
  void generator_step(StepStats& stats);
  void update_ema();
  // Throws DivergenceError if `value` or any parameter, buffer (BN statistics, SN vectors) or
  // optimizer state of the net is not finite, naming it as checkpoints do.
  void check_finite(const char* loss_name, double value, const char* net_name, const Module& net,
                    const char* opt_name, const Adam& opt) const;

  TrainConfig config_;
  std::shared_ptr<Generator> g_, g_ema_;
  std::shared_ptr<Discriminator> d_;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  Rng z_rng_;
  int64_t iteration_ = 0;
  PhaseTimes* times_ = nullptr;
};

}  // namespace sngan
