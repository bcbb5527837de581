#include "core/gan/d_method.h"

#include <sstream>

#include "core/gan/penalties.h"
#include "core/nn/init.h"
#include "core/nn/orthonormal.h"
#include "core/nn/weight_norm.h"

namespace sngan {

void check_d_method(const TrainConfig& t, const DiscriminatorConfig& d) {
  SNGAN_CHECK(t.gradient_penalty >= 0, "train.gradient_penalty: expected >= 0 (0 = off), got ",
              t.gradient_penalty);
  SNGAN_CHECK(t.r1_penalty >= 0, "train.r1_penalty: expected >= 0 (0 = off), got ", t.r1_penalty);
  SNGAN_CHECK(d.clip_value > 0, "model.discriminator.clip_value: expected > 0, got ", d.clip_value);
  SNGAN_CHECK(d.orthonormal_penalty >= 0,
              "model.discriminator.orthonormal_penalty: expected >= 0, got ", d.orthonormal_penalty);
  // Batch norm mixes the samples of a batch: D(x_i) depends on every x_j, so the per-sample
  // input gradient both penalties are defined on does not exist independently of the batch
  // (and the fused BN backward cannot be differentiated again).
  SNGAN_CHECK(!(d.normalization == DNormalization::kBatchNorm &&
                (t.gradient_penalty > 0 || t.r1_penalty > 0)),
              "model.discriminator.normalization: batch_norm cannot be combined with "
              "train.gradient_penalty or train.r1_penalty: batch norm makes D(x_i) depend on the "
              "whole batch, so the per-sample gradient the penalty constrains is not defined "
              "(use layer_norm, as Gulrajani et al. 2017 do)");
}

std::string describe_d_method(const TrainConfig& t, const DiscriminatorConfig& d) {
  std::ostringstream s;
  switch (d.normalization) {
    case DNormalization::kSpectral:
      s << "spectral norm: " << d.spectral_norm.power_iterations
        << " power-iteration step(s) per layer per D forward";
      break;
    case DNormalization::kNone: s << "no normalization"; break;
    case DNormalization::kWeightClip:
      s << "weight clipping to [-" << d.clip_value << ", " << d.clip_value
        << "]: one pass over D's parameters after each D update";
      break;
    case DNormalization::kWeightNorm: s << "weight norm: one row-norm per layer per D forward"; break;
    case DNormalization::kBatchNorm:
      s << "batch norm (no scale) after each hidden conv/linear of D; real and fake batches "
           "normalized separately";
      break;
    case DNormalization::kLayerNorm:
      s << "layer norm (no scale) after each hidden conv/linear of D";
      break;
    case DNormalization::kOrthonormal:
      s << "orthonormal regularization (weight " << d.orthonormal_penalty
        << "): one Gram matrix per layer per D step";
      break;
  }
  if (t.gradient_penalty > 0)
    s << "; " << (t.loss == LossType::kWasserstein ? "WGAN-GP" : "GAN-GP") << " (lambda "
      << t.gradient_penalty
      << "): one more D forward on interpolates and a double backward per D step";
  if (t.r1_penalty > 0)
    s << "; R1 (gamma " << t.r1_penalty << "): a double backward through D(real) per D step";
  return s.str();
}

std::shared_ptr<SpectralNorm> normalize_d_layer(const DiscriminatorConfig& d, WeightedLayer& layer,
                                                Rng& rng) {
  switch (d.normalization) {
    case DNormalization::kSpectral: return SpectralNorm::attach(layer, d.spectral_norm, rng);
    case DNormalization::kWeightNorm: WeightNorm::attach(layer); break;
    case DNormalization::kOrthonormal: init::orthogonal(layer.weight().value(), rng); break;
    default: break;
  }
  return nullptr;
}

std::shared_ptr<FeatureNorm> make_d_feature_norm(const DiscriminatorConfig& d, int64_t channels) {
  if (d.normalization == DNormalization::kBatchNorm)
    return std::make_shared<FeatureNorm>(FeatureNormKind::kBatch, channels);
  if (d.normalization == DNormalization::kLayerNorm)
    return std::make_shared<FeatureNorm>(FeatureNormKind::kLayer, channels);
  return nullptr;
}

std::vector<Var> d_layer_weights(const Module& d) {
  std::vector<Var> out;
  const std::string suffix = "weight";
  for (auto& [name, p] : d.named_parameters())
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  return out;
}

Var add_d_regularizers(const Var& loss, const TrainConfig& t, Discriminator& d, const Var& x_real,
                       const Var& d_real, const Tensor& fake, Rng& rng, const Shard& shard) {
  Var total = loss;
  if (t.gradient_penalty > 0) {
    auto fwd = [&d](const Var& x) { return d.forward(x); };
    total = add(total, gradient_penalty(fwd, x_real.value(), fake, t.gradient_penalty, rng, shard));
  }
  if (t.r1_penalty > 0) total = add(total, r1_penalty(x_real, d_real, t.r1_penalty));
  const DiscriminatorConfig& c = d.config();
  if (c.normalization == DNormalization::kOrthonormal && c.orthonormal_penalty > 0)
    total = add(total, mul_scalar(orthonormal_penalty(d_layer_weights(d)),
                                  static_cast<Scalar>(c.orthonormal_penalty)));
  return total;
}

void after_d_update(Discriminator& d) {
  if (d.config().normalization == DNormalization::kWeightClip) clip_parameters(d, d.config().clip_value);
}

}  // namespace sngan
