#include "core/gan/models.h"

#include <cmath>

#include "core/gan/d_method.h"
#include "core/gan/resnet_blocks.h"
#include "core/nn/init.h"

namespace sngan {

Tensor Generator::sample_z(Rng& rng, int64_t n) const {
  Tensor z = Tensor::empty(Shape{n, config_.z_dim});
  if (config_.z_distribution == ZDistribution::kNormal)
    rng.fill_normal(z);
  else
    rng.fill_uniform(z, -1.0, 1.0);
  return z;
}

void Discriminator::normalize_layer(const std::string& name, WeightedLayer& layer, Rng& rng) {
  if (auto sn = normalize_d_layer(config_, layer, rng)) spectral_norms_.emplace_back(name, sn);
}

std::shared_ptr<FeatureNorm> Discriminator::feature_norm(const std::string& name, int64_t channels) {
  auto norm = make_d_feature_norm(config_, channels);
  return norm ? register_module(name, norm) : nullptr;
}

void init_layer(WeightedLayer& layer, InitScheme scheme, Rng& rng, double gain) {
  if (scheme == InitScheme::kNormal002)
    init::normal(layer.weight().value(), rng, 0.02);
  else
    init::glorot_uniform(layer.weight().value(), rng, gain);
  if (layer.bias().defined()) layer.bias().value().zero();
}

namespace {

// ---- standard CNN (paper Table 3) ----

class StandardCnnGenerator : public Generator {
 public:
  StandardCnnGenerator(const GeneratorConfig& c, Rng& rng) : Generator(c) {
    SNGAN_CHECK(c.image_size >= 8 && c.image_size % 8 == 0,
                "image size: the standard CNN generator needs a multiple of 8, got ",
                c.image_size);
    SNGAN_CHECK(c.base_channels >= 8 && c.base_channels % 8 == 0,
                "model.generator.base_channels: expected a multiple of 8, got ", c.base_channels);
    bottom_ = c.image_size / 8;
    const int64_t ch = c.base_channels;
    dense_ = register_module("dense", std::make_shared<Linear>(c.z_dim, bottom_ * bottom_ * ch, true, rng));
    init_layer(*dense_, c.init, rng);
    // chainer-gan-lib: a 1-d BN over all of the dense layer's features, before the reshape.
    if (c.bn_after_dense)
      dense_bn_ = register_module("dense_bn", std::make_shared<BatchNorm>(bottom_ * bottom_ * ch));
    int64_t in = ch;
    for (int i = 0; i < 3; ++i) {
      const ConvTranspose2dOptions doubling{/*stride=*/2, /*pad=*/1};  // 4x4: H and W doubled
      auto up = register_module("deconv" + std::to_string(i),
                                std::make_shared<ConvTranspose2d>(in, in / 2, 4, doubling, rng));
      init_layer(*up, c.init, rng);
      ups_.push_back(up);
      bns_.push_back(register_module("bn" + std::to_string(i), std::make_shared<BatchNorm>(in / 2)));
      in /= 2;
    }
    const Conv2dOptions same{/*stride=*/1, /*pad=*/1};
    out_ = register_module("conv_out", std::make_shared<Conv2d>(in, c.channels, 3, same, rng));
    init_layer(*out_, c.init, rng);
  }

  Var forward(const Var& z) override {
    Var h = dense_->forward(z);
    if (dense_bn_) h = dense_bn_->forward_relu(h);
    h = reshape(h, Shape{z.dim(0), config_.base_channels, bottom_, bottom_});
    for (size_t i = 0; i < ups_.size(); ++i) h = bns_[i]->forward_relu(ups_[i]->forward(h));
    return tanh(out_->forward(h));
  }

 private:
  int64_t bottom_;
  std::shared_ptr<Linear> dense_;
  std::shared_ptr<BatchNorm> dense_bn_;
  std::vector<std::shared_ptr<ConvTranspose2d>> ups_;
  std::vector<std::shared_ptr<BatchNorm>> bns_;
  std::shared_ptr<Conv2d> out_;
};

class StandardCnnDiscriminator : public Discriminator {
 public:
  StandardCnnDiscriminator(const DiscriminatorConfig& c, Rng& rng) : Discriminator(c) {
    SNGAN_CHECK(c.image_size >= 8 && c.image_size % 8 == 0,
                "image size: the standard CNN discriminator needs a multiple of 8, got ",
                c.image_size);
    SNGAN_CHECK(c.conv_channels.size() == 7,
                "model.discriminator.conv_channels: expected 7 widths, got ", c.conv_channels.size());
    int64_t in = c.channels;
    for (size_t i = 0; i < 7; ++i) {
      const bool down = i % 2 == 1;  // 4x4 stride-2 convs at positions 1, 3, 5
      const std::string name = "conv" + std::to_string(i);
      const Conv2dOptions options{/*stride=*/down ? 2 : 1, /*pad=*/1};
      auto conv = register_module(
          name, std::make_shared<Conv2d>(in, c.conv_channels[i], down ? 4 : 3, options, rng));
      init_layer(*conv, c.init, rng);
      normalize_layer(name, *conv, rng);
      convs_.push_back(conv);
      // BN / LN after every conv but the first (and not after the dense layer), as
      // chainer-gan-lib's DCGANDiscriminator places its BN (before the leaky ReLU).
      norms_.push_back(i > 0 ? feature_norm("norm" + std::to_string(i), c.conv_channels[i]) : nullptr);
      in = c.conv_channels[i];
    }
    const int64_t side = c.image_size / 8;
    dense_ = register_module("dense", std::make_shared<Linear>(side * side * in, 1, true, rng));
    init_layer(*dense_, c.init, rng);
    normalize_layer("dense", *dense_, rng);
  }

  Var forward(const Var& x) override {
    Var h = x;
    for (size_t i = 0; i < convs_.size(); ++i)
      h = norms_[i] ? leaky_relu(norms_[i]->forward(convs_[i]->forward(h)), config_.leaky_slope)
                    : convs_[i]->forward_leaky_relu(h, config_.leaky_slope);
    return dense_->forward(flatten(h));
  }

 private:
  std::vector<std::shared_ptr<Conv2d>> convs_;
  std::vector<std::shared_ptr<FeatureNorm>> norms_;  // null where none (always at 0)
  std::shared_ptr<Linear> dense_;
};

// ---- MLPs for the toy 2D sets ----

class MlpGenerator : public Generator {
 public:
  MlpGenerator(const GeneratorConfig& c, Rng& rng) : Generator(c) {
    int64_t in = c.z_dim;
    for (int64_t i = 0; i < c.mlp_layers; ++i) {
      auto fc = register_module("fc" + std::to_string(i), std::make_shared<Linear>(in, c.mlp_hidden, true, rng));
      init_layer(*fc, c.init, rng, std::sqrt(2.0));
      layers_.push_back(fc);
      in = c.mlp_hidden;
    }
    out_ = register_module("fc_out", std::make_shared<Linear>(in, c.channels, true, rng));
    init_layer(*out_, c.init, rng);
  }
  Var forward(const Var& z) override {
    Var h = z;
    for (auto& fc : layers_) h = relu(fc->forward(h));
    return out_->forward(h);
  }

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  std::shared_ptr<Linear> out_;
};

class MlpDiscriminator : public Discriminator {
 public:
  MlpDiscriminator(const DiscriminatorConfig& c, Rng& rng) : Discriminator(c) {
    int64_t in = c.channels;
    for (int64_t i = 0; i < c.mlp_layers; ++i) {
      const std::string name = "fc" + std::to_string(i);
      auto fc = register_module(name, std::make_shared<Linear>(in, c.mlp_hidden, true, rng));
      init_layer(*fc, c.init, rng, std::sqrt(2.0));
      normalize_layer(name, *fc, rng);
      layers_.push_back(fc);
      norms_.push_back(i > 0 ? feature_norm("norm" + std::to_string(i), c.mlp_hidden) : nullptr);
      in = c.mlp_hidden;
    }
    out_ = register_module("fc_out", std::make_shared<Linear>(in, 1, true, rng));
    init_layer(*out_, c.init, rng);
    normalize_layer("fc_out", *out_, rng);
  }
  Var forward(const Var& x) override {
    Var h = x;
    for (size_t i = 0; i < layers_.size(); ++i) {
      h = layers_[i]->forward(h);
      if (norms_[i]) h = norms_[i]->forward(h);
      h = leaky_relu(h, config_.leaky_slope);
    }
    return out_->forward(h);
  }

 private:
  std::vector<std::shared_ptr<Linear>> layers_;
  std::vector<std::shared_ptr<FeatureNorm>> norms_;  // after every hidden layer but the first
  std::shared_ptr<Linear> out_;
};

}  // namespace

std::shared_ptr<Generator> make_generator(const GeneratorConfig& c, Rng& rng) {
  SNGAN_CHECK(c.z_dim > 0, "model.z_dim: expected > 0, got ", c.z_dim);
  SNGAN_CHECK(c.channels > 0, "data channels: expected > 0, got ", c.channels);
  switch (c.architecture) {
    case Architecture::kStandardCnn: return std::make_shared<StandardCnnGenerator>(c, rng);
    case Architecture::kResNet: return make_resnet_generator(c, rng);
    case Architecture::kMlp: return std::make_shared<MlpGenerator>(c, rng);
  }
  throw Error("model.architecture: unknown architecture");
}

std::shared_ptr<Discriminator> make_discriminator(const DiscriminatorConfig& c, Rng& rng) {
  SNGAN_CHECK(c.channels > 0, "data channels: expected > 0, got ", c.channels);
  switch (c.architecture) {
    case Architecture::kStandardCnn: return std::make_shared<StandardCnnDiscriminator>(c, rng);
    case Architecture::kResNet: return make_resnet_discriminator(c, rng);
    case Architecture::kMlp: return std::make_shared<MlpDiscriminator>(c, rng);
  }
  throw Error("model.architecture: unknown architecture");
}

}  // namespace sngan
