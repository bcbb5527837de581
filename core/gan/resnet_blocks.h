// ResNet generator and discriminator (paper Tables 4-5 and the official code).
#pragma once

#include <memory>

#include "core/gan/models.h"

namespace sngan {

// Up-block: BN, ReLU, nearest 2x upsample, conv3x3, BN, ReLU, conv3x3;
// shortcut: upsample, then conv1x1. With `fold`, the upsampling is folded into conv1
// (upsample2_conv3x3) and the shortcut convolves before upsampling: the same function.
class GBlock : public UnaryModule {
 public:
  GBlock(int64_t in, int64_t out, InitScheme init, Rng& rng, bool fold = true);
  Var forward(const Var& x) override;

 private:
  bool fold_;
  std::shared_ptr<BatchNorm> bn1_, bn2_;
  std::shared_ptr<Conv2d> conv1_, conv2_, shortcut_;
};

// Discriminator block: ReLU, conv3x3, ReLU, conv3x3, [avgpool 2];
// shortcut: conv1x1 then [avgpool 2] when downsampling or changing width, identity otherwise.
// The optimized first block has no pre-activation: conv3x3, ReLU, conv3x3, avgpool 2;
// shortcut avgpool 2 then conv1x1. With `fold`, a downsampling block's conv2 and pooling run as
// one strided conv (conv3x3_avgpool2) and its shortcut pools before the 1x1 conv.
class DBlock : public UnaryModule {
 public:
  DBlock(int64_t in, int64_t out, bool downsample, bool optimized, InitScheme init, Rng& rng,
         bool fold = true);
  Var forward(const Var& x) override;
  // The weighted layers with their names inside the block, for normalization.
  std::vector<std::pair<std::string, WeightedLayer*>> weighted_layers();
  // BN / LN after conv1 and after conv2 (after its pooling when downsampling), registered as
  // "norm1", "norm2"; either may be null. The shortcut's 1x1 conv gets none.
  void set_feature_norms(std::shared_ptr<FeatureNorm> after_conv1,
                         std::shared_ptr<FeatureNorm> after_conv2);

 private:
  bool downsample_, optimized_, fold_;
  std::shared_ptr<Conv2d> conv1_, conv2_, shortcut_;
  std::shared_ptr<FeatureNorm> norm1_, norm2_;
};

std::shared_ptr<Generator> make_resnet_generator(const GeneratorConfig& config, Rng& rng);
std::shared_ptr<Discriminator> make_resnet_discriminator(const DiscriminatorConfig& config, Rng& rng);

}  // namespace sngan
