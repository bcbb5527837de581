// The generators and discriminators of Miyato et al. 2018 (Tables 3-5), built from config structs:
// the standard CNN (with the chainer-gan-lib variant as options), the ResNet for 32x32 and
// 48x48 images, and small MLPs for the toy 2D sets.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/gan/config.h"
#include "core/nn/feature_norm.h"
#include "core/nn/layers.h"

namespace sngan {

// forward(z (N, z_dim)) -> images (N, C, H, W) in [-1, 1], or points (N, C) for the MLP.
class Generator : public UnaryModule {
 public:
  explicit Generator(const GeneratorConfig& config) : config_(config) {}
  const GeneratorConfig& config() const { return config_; }
  // z ~ N(0, I) or U(-1, 1) as configured, shape (n, z_dim).
  Tensor sample_z(Rng& rng, int64_t n) const;

 protected:
  GeneratorConfig config_;
};

// forward(x) -> logits (N, 1).
class Discriminator : public UnaryModule {
 public:
  explicit Discriminator(const DiscriminatorConfig& config) : config_(config) {}
  const DiscriminatorConfig& config() const { return config_; }
  // Every spectrally normalized layer, by parameter-path name ("blocks.0.conv1").
  const std::vector<std::pair<std::string, std::shared_ptr<SpectralNorm>>>& spectral_norms() const {
    return spectral_norms_;
  }

 protected:
  // Applies the configured normalization to a layer named `name` (d_method.h).
  void normalize_layer(const std::string& name, WeightedLayer& layer, Rng& rng);
  // With batch_norm / layer_norm: registers and returns the norm module `name` for a hidden
  // layer's `channels` outputs; null otherwise.
  std::shared_ptr<FeatureNorm> feature_norm(const std::string& name, int64_t channels);

  DiscriminatorConfig config_;
  std::vector<std::pair<std::string, std::shared_ptr<SpectralNorm>>> spectral_norms_;
};

// Throws sngan::Error naming the offending field when the config cannot be built
// (e.g. an image size the architecture cannot take).
std::shared_ptr<Generator> make_generator(const GeneratorConfig& config, Rng& init_rng);
std::shared_ptr<Discriminator> make_discriminator(const DiscriminatorConfig& config, Rng& init_rng);

// Applies an init scheme to a layer: weight as the scheme says with `gain` for Glorot, zero bias.
void init_layer(WeightedLayer& layer, InitScheme scheme, Rng& rng, double gain = 1.0);

}  // namespace sngan
