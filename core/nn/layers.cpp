#include "core/nn/layers.h"

#include "core/nn/init.h"

namespace sngan {

WeightedLayer::WeightedLayer(const Shape& weight_shape, int64_t bias_size, WeightLayout layout,
                             Rng& rng)
    : layout_(layout) {
  Tensor w = Tensor::empty(weight_shape);
  init::glorot_uniform(w, rng);
  weight_ = register_parameter("weight", w);
  if (bias_size > 0) bias_ = register_parameter("bias", Tensor::zeros(Shape{bias_size}));
}

void WeightedLayer::set_weight_transform(std::shared_ptr<WeightTransform> transform) {
  SNGAN_CHECK(transform_ == nullptr, "a layer takes one weight transform");
  transform_ = std::move(transform);
  for (auto& [name, t] : transform_->state()) register_buffer(name, t);
}

Var WeightedLayer::effective_weight() {
  return transform_ ? transform_->apply(weight_, is_training()) : weight_;
}

Linear::Linear(int64_t in, int64_t out, bool bias, Rng& rng)
    : WeightedLayer(Shape{out, in}, bias ? out : 0, WeightLayout::kOutFirst, rng) {}

Var Linear::forward(const Var& x) { return linear(x, effective_weight(), bias_); }

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, Conv2dOptions options, Rng& rng,
               bool bias)
    : WeightedLayer(Shape{out, in, kernel, kernel}, bias ? out : 0, WeightLayout::kOutFirst, rng),
      options_(options) {}

Var Conv2d::forward(const Var& x) { return conv2d(x, effective_weight(), bias_, options_); }

Var Conv2d::forward_leaky_relu(const Var& x, Scalar slope) {
  return conv2d_leaky_relu(x, effective_weight(), bias_, options_, slope);
}

void Conv2d::check_3x3_same(const char* what) const {
  SNGAN_CHECK(weight_.dim(2) == 3 && weight_.dim(3) == 3 && options_.stride == 1 && options_.pad == 1,
              "Conv2d::", what, ": expected a 3x3 conv with stride 1 and pad 1");
}

Var Conv2d::forward_upsampled2(const Var& x) {
  check_3x3_same("forward_upsampled2");
  return upsample2_conv3x3(x, effective_weight(), bias_);
}

Var Conv2d::forward_avgpooled2(const Var& x) {
  check_3x3_same("forward_avgpooled2");
  return conv3x3_avgpool2(x, effective_weight(), bias_);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t kernel,
                                 ConvTranspose2dOptions options, Rng& rng, bool bias)
    : WeightedLayer(Shape{in, out, kernel, kernel}, bias ? out : 0, WeightLayout::kInFirst, rng),
      options_(options) {}

Var ConvTranspose2d::forward(const Var& x) {
  return conv_transpose2d(x, effective_weight(), bias_, options_);
}

BatchNorm::BatchNorm(int64_t channels, bool affine, Scalar momentum, Scalar eps)
    : momentum_(momentum), eps_(eps) {
  if (affine) {
    gamma_ = register_parameter("weight", Tensor::full(Shape{channels}, 1));
    beta_ = register_parameter("bias", Tensor::zeros(Shape{channels}));
  }
  running_mean_ = register_buffer("running_mean", Tensor::zeros(Shape{channels}));
  running_var_ = register_buffer("running_var", Tensor::full(Shape{channels}, 1));
}

Var BatchNorm::forward(const Var& x) {
  BatchNormState st{&running_mean_, &running_var_, momentum_, eps_};
  return batch_norm(x, gamma_, beta_, is_training(), st);
}

Var BatchNorm::forward_relu(const Var& x) {
  BatchNormState st{&running_mean_, &running_var_, momentum_, eps_};
  return batch_norm_relu(x, gamma_, beta_, is_training(), st);
}

LayerNorm::LayerNorm(const Shape& sample_shape, bool affine, Scalar eps) : eps_(eps) {
  if (affine) {
    gamma_ = register_parameter("weight", Tensor::full(sample_shape, 1));
    beta_ = register_parameter("bias", Tensor::zeros(sample_shape));
  }
}

Var LayerNorm::forward(const Var& x) { return layer_norm(x, gamma_, beta_, eps_); }

}  // namespace sngan
