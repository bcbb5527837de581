#include "core/gan/resnet_blocks.h"

#include <cmath>

#include "core/gan/d_method.h"

namespace sngan {

namespace {
const double kBlockGain = std::sqrt(2.0);  // 3x3 convs inside blocks (official code)
const Conv2dOptions kSame3x3{/*stride=*/1, /*pad=*/1};  // 3x3 convs keep H and W
const Conv2dOptions kPointwise{/*stride=*/1, /*pad=*/0};  // 1x1 shortcut convs
}

GBlock::GBlock(int64_t in, int64_t out, InitScheme init, Rng& rng, bool fold) : fold_(fold) {
  bn1_ = register_module("bn1", std::make_shared<BatchNorm>(in));
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(in, out, 3, kSame3x3, rng));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm>(out));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(out, out, 3, kSame3x3, rng));
  shortcut_ = register_module("shortcut", std::make_shared<Conv2d>(in, out, 1, kPointwise, rng));
  init_layer(*conv1_, init, rng, kBlockGain);
  init_layer(*conv2_, init, rng, kBlockGain);
  init_layer(*shortcut_, init, rng, 1.0);
}

// Folded: conv1 runs on the small side (upsample2_conv3x3), and the 1x1 shortcut conv
// commutes with nearest upsampling (4x fewer multiply-adds, the same values).
Var GBlock::forward(const Var& x) {
  const Var a = bn1_->forward_relu(x);
  Var h = fold_ ? conv1_->forward_upsampled2(a) : conv1_->forward(upsample_nearest(a, 2));
  h = conv2_->forward(bn2_->forward_relu(h));
  if (fold_) return add_upsampled_nearest(h, shortcut_->forward(x), 2);
  return add(h, shortcut_->forward(upsample_nearest(x, 2)));
}

DBlock::DBlock(int64_t in, int64_t out, bool downsample, bool optimized, InitScheme init, Rng& rng,
               bool fold)
    : downsample_(downsample), optimized_(optimized), fold_(fold) {
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(in, out, 3, kSame3x3, rng));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(out, out, 3, kSame3x3, rng));
  init_layer(*conv1_, init, rng, kBlockGain);
  init_layer(*conv2_, init, rng, kBlockGain);
  if (optimized || downsample || in != out) {
    shortcut_ = register_module("shortcut", std::make_shared<Conv2d>(in, out, 1, kPointwise, rng));
    init_layer(*shortcut_, init, rng, 1.0);
  }
}

// Folded: conv2 and its average pooling run as one 4x4 stride-2 conv (conv3x3_avgpool2), and
// the 1x1 shortcut conv commutes with average pooling, so it pools first (4x fewer
// multiply-adds, the same values up to rounding). The optimized block pools first either way.
Var DBlock::forward(const Var& x) {
  const Var in = optimized_ ? x : relu(x);
  Var h = norm1_ ? relu(norm1_->forward(conv1_->forward(in))) : conv1_->forward_leaky_relu(in, 0);
  if (!downsample_) h = conv2_->forward(h);
  else h = fold_ ? conv2_->forward_avgpooled2(h) : avg_pool2d(conv2_->forward(h), 2);
  if (norm2_) h = norm2_->forward(h);
  if (!shortcut_) return add(h, x);
  Var s;
  if (!downsample_) s = shortcut_->forward(x);
  else if (fold_ || optimized_) s = shortcut_->forward(avg_pool2d(x, 2));
  else s = avg_pool2d(shortcut_->forward(x), 2);
  return add(h, s);
}

std::vector<std::pair<std::string, WeightedLayer*>> DBlock::weighted_layers() {
  std::vector<std::pair<std::string, WeightedLayer*>> out{{"conv1", conv1_.get()},
                                                          {"conv2", conv2_.get()}};
  if (shortcut_) out.emplace_back("shortcut", shortcut_.get());
  return out;
}

void DBlock::set_feature_norms(std::shared_ptr<FeatureNorm> after_conv1,
                               std::shared_ptr<FeatureNorm> after_conv2) {
  if (after_conv1) norm1_ = register_module("norm1", after_conv1);
  if (after_conv2) norm2_ = register_module("norm2", after_conv2);
}

namespace {

class ResNetGenerator : public Generator {
 public:
  ResNetGenerator(const GeneratorConfig& c, Rng& rng) : Generator(c) {
    // 32x32: dense to 4x4xW, three up-blocks W -> W. 48x48: dense to 6x6xW, blocks halve W.
    SNGAN_CHECK(c.image_size == 32 || c.image_size == 48,
                "image size: the ResNet generator takes 32 or 48, got ", c.image_size);
    const bool stl = c.image_size == 48;
    bottom_ = stl ? 6 : 4;
    SNGAN_CHECK(c.base_channels >= (stl ? 8 : 1), "model.generator.base_channels: too small: ",
                c.base_channels);
    const int64_t w = c.base_channels;
    dense_ = register_module("dense", std::make_shared<Linear>(c.z_dim, bottom_ * bottom_ * w, true, rng));
    init_layer(*dense_, c.init, rng);
    int64_t in = w;
    for (int i = 0; i < 3; ++i) {
      const int64_t out = stl ? in / 2 : in;
      blocks_.push_back(register_module("block" + std::to_string(i),
                                        std::make_shared<GBlock>(in, out, c.init, rng, c.fold_resampling)));
      in = out;
    }
    bn_ = register_module("bn_out", std::make_shared<BatchNorm>(in));
    out_ = register_module("conv_out", std::make_shared<Conv2d>(in, c.channels, 3, kSame3x3, rng));
    init_layer(*out_, c.init, rng);
  }

  Var forward(const Var& z) override {
    Var h = reshape(dense_->forward(z), Shape{z.dim(0), config_.base_channels, bottom_, bottom_});
    for (auto& b : blocks_) h = b->forward(h);
    return tanh(out_->forward(bn_->forward_relu(h)));
  }

 private:
  int64_t bottom_;
  std::shared_ptr<Linear> dense_;
  std::vector<std::shared_ptr<GBlock>> blocks_;
  std::shared_ptr<BatchNorm> bn_;
  std::shared_ptr<Conv2d> out_;
};

class ResNetDiscriminator : public Discriminator {
 public:
  ResNetDiscriminator(const DiscriminatorConfig& c, Rng& rng) : Discriminator(c) {
    SNGAN_CHECK(c.image_size == 32 || c.image_size == 48,
                "image size: the ResNet discriminator takes 32 or 48, got ", c.image_size);
    const int64_t w = c.base_channels;
    struct Spec { int64_t in, out; bool down, optimized; };
    const std::vector<Spec> specs =
        c.image_size == 32
            ? std::vector<Spec>{{c.channels, w, true, true}, {w, w, true, false}, {w, w, false, false},
                                {w, w, false, false}}
            // 48x48: 64 -> 128 -> 256 -> 512 (down), then 1024
            : std::vector<Spec>{{c.channels, w, true, true}, {w, 2 * w, true, false}, {2 * w, 4 * w, true, false},
                                {4 * w, 8 * w, true, false}, {8 * w, 16 * w, false, false}};
    for (size_t i = 0; i < specs.size(); ++i) {
      const std::string name = "block" + std::to_string(i);
      auto b = register_module(name, std::make_shared<DBlock>(specs[i].in, specs[i].out, specs[i].down,
                                                              specs[i].optimized, c.init, rng,
                                                              c.fold_resampling));
      for (auto& [sub, layer] : b->weighted_layers()) normalize_layer(name + "." + sub, *layer, rng);
      // BN / LN after every residual-path conv but D's first (block0.conv1), none after the
      // final linear; registered inside the block ("block1.norm1").
      b->set_feature_norms(i > 0 ? make_d_feature_norm(c, specs[i].out) : nullptr,
                           make_d_feature_norm(c, specs[i].out));
      blocks_.push_back(b);
    }
    out_ = register_module("linear", std::make_shared<Linear>(specs.back().out, 1, false, rng));
    init_layer(*out_, c.init, rng);
    normalize_layer("linear", *out_, rng);
  }

  Var forward(const Var& x) override {
    Var h = x;
    for (auto& b : blocks_) h = b->forward(h);
    h = sum(relu(h), {2, 3});  // global sum pooling -> (N, C)
    return out_->forward(h);
  }

 private:
  std::vector<std::shared_ptr<DBlock>> blocks_;
  std::shared_ptr<Linear> out_;
};

}  // namespace

std::shared_ptr<Generator> make_resnet_generator(const GeneratorConfig& c, Rng& rng) {
  return std::make_shared<ResNetGenerator>(c, rng);
}

std::shared_ptr<Discriminator> make_resnet_discriminator(const DiscriminatorConfig& c, Rng& rng) {
  return std::make_shared<ResNetDiscriminator>(c, rng);
}

}  // namespace sngan
