// The discriminator's method as one concern: which normalization its layers carry (Miyato et
// al. 2018, Sec. 4: spectral norm and the baselines), which penalties join its loss, what runs
// after its update, which combinations are refused and what each costs. The models call the
// layer-level pieces; the trainer calls add_d_regularizers and after_d_update.
#pragma once

#include <memory>
#include <string>

#include "core/gan/config.h"
#include "core/gan/models.h"
#include "core/nn/feature_norm.h"
#include "core/tensor/process_group.h"

namespace sngan {

// Throws sngan::Error naming the config keys when the combination cannot run, with the reason
// (batch norm in D with a gradient or R1 penalty; negative weights; clip_value <= 0).
void check_d_method(const TrainConfig& train, const DiscriminatorConfig& d);

// One line for --dry-run: the method and its extra cost, e.g.
// "spectral norm: one power-iteration step per layer per D forward".
std::string describe_d_method(const TrainConfig& train, const DiscriminatorConfig& d);

// The per-layer part of the normalization for a weighted layer of D: attaches spectral norm
// (returned) or weight norm, or re-initialises the weight orthogonally (orthonormal). Others:
// nothing, returns null.
std::shared_ptr<SpectralNorm> normalize_d_layer(const DiscriminatorConfig& d, WeightedLayer& layer,
                                                Rng& rng);

// The BN / LN module following a hidden conv or linear of D with `channels` outputs, or null
// when the normalization is neither batch_norm nor layer_norm.
std::shared_ptr<FeatureNorm> make_d_feature_norm(const DiscriminatorConfig& d, int64_t channels);

// The weights of D's conv and linear layers (parameters named "...weight"), as the orthonormal
// penalty sums over them.
std::vector<Var> d_layer_weights(const Module& d);

// loss + the configured penalties of one D step:
//   gradient penalty on interpolates of real and fake (e ~ U[0, 1] per sample from rng),
//   R1 on real data (x_real must be the leaf D(real) was computed from, requiring a gradient),
//   orthonormal_penalty * sum ||W^T W - I||^2 (orthonormal normalization).
// Returns the loss unchanged when none is on.
// `shard`: the rows of the batch that x_real and fake hold (data parallelism; default: all).
Var add_d_regularizers(const Var& loss, const TrainConfig& train, Discriminator& d,
                       const Var& x_real, const Var& d_real, const Tensor& fake, Rng& rng,
                       const Shard& shard = {});

// After each D update: weight clipping (weight_clip normalization); nothing otherwise.
void after_d_update(Discriminator& d);

// Whether a D step needs its real batch as a leaf requiring a gradient (R1).
inline bool d_step_needs_real_grad(const TrainConfig& train) { return train.r1_penalty > 0; }

}  // namespace sngan
