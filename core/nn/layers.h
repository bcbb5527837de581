// Weighted layers (Linear, Conv2d, ConvTranspose2d) and activations.
//
// A weighted layer may carry a WeightTransform: the slot for discriminator normalizations
// (spectral norm, and later weight norm and friends). The layer then computes with
// transform->apply(weight) instead of weight; the transform's state (e.g. u, v) is registered as
// the layer's buffers.
#pragma once

#include <memory>

#include "core/nn/module.h"
#include "core/tensor/ops.h"
#include "core/tensor/rng.h"

namespace sngan {

// How a weight tensor is seen as a matrix with output channels as rows.
enum class WeightLayout {
  kOutFirst,  // (out, in, ...): Linear and Conv2d
  kInFirst,   // (in, out, kh, kw): ConvTranspose2d
};

class WeightTransform {
 public:
  virtual ~WeightTransform() = default;
  // The weight the layer computes with. In training mode it may advance internal state.
  virtual Var apply(const Var& weight, bool training) = 0;
  // State to save with the layer, as (name, tensor) handles.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
};

class WeightedLayer : public UnaryModule {
 public:
  Var& weight() { return weight_; }
  Var& bias() { return bias_; }
  WeightLayout layout() const { return layout_; }
  // Installs a transform and registers its state tensors as buffers of this layer.
  void set_weight_transform(std::shared_ptr<WeightTransform> transform);
  WeightTransform* weight_transform() const { return transform_.get(); }
  // The weight used by forward (transformed when a transform is set).
  Var effective_weight();

 protected:
  WeightedLayer(const Shape& weight_shape, int64_t bias_size, WeightLayout layout, Rng& rng);

  Var weight_, bias_;
  WeightLayout layout_;
  std::shared_ptr<WeightTransform> transform_;
};

// y = x W^T + b; weight (out, in); Glorot-uniform init, zero bias.
class Linear : public WeightedLayer {
 public:
  Linear(int64_t in, int64_t out, bool bias, Rng& rng);
  Var forward(const Var& x) override;
};

// weight (out, in, kernel, kernel); Glorot-uniform init, zero bias (when `bias`).
class Conv2d : public WeightedLayer {
 public:
  Conv2d(int64_t in, int64_t out, int64_t kernel, Conv2dOptions options, Rng& rng,
         bool bias = true);
  Var forward(const Var& x) override;
  // leaky_relu(forward(x), slope) as one fused op (conv2d_leaky_relu); slope 0 is relu.
  Var forward_leaky_relu(const Var& x, Scalar slope);
  // forward(upsample_nearest(x, 2)) and avg_pool2d(forward(x), 2) with the resampling folded
  // into the kernel (upsample2_conv3x3, conv3x3_avgpool2): 3x3, stride 1, pad 1 layers only.
  Var forward_upsampled2(const Var& x);
  Var forward_avgpooled2(const Var& x);

 private:
  void check_3x3_same(const char* what) const;
  Conv2dOptions options_;
};

// weight (in, out, kernel, kernel), PyTorch layout; Glorot-uniform init, zero bias (when `bias`).
class ConvTranspose2d : public WeightedLayer {
 public:
  ConvTranspose2d(int64_t in, int64_t out, int64_t kernel, ConvTranspose2dOptions options,
                  Rng& rng, bool bias = true);
  Var forward(const Var& x) override;

 private:
  ConvTranspose2dOptions options_;
};

class ReLU : public UnaryModule {
 public:
  Var forward(const Var& x) override { return relu(x); }
};

class BatchNorm : public UnaryModule {
 public:
  // Works on (N, C) (BatchNorm1d) and (N, C, H, W) (BatchNorm2d) inputs.
  BatchNorm(int64_t channels, bool affine = true, Scalar momentum = 0.1, Scalar eps = 1e-5);
  Var forward(const Var& x) override;
  // relu(forward(x)) as one fused op (batch_norm_relu).
  Var forward_relu(const Var& x);
  Tensor& running_mean() { return running_mean_; }
  Tensor& running_var() { return running_var_; }
  // Weight of the batch in each running-statistics update (running = (1 - m) running + m batch);
  // 1 / k on the k-th of a series of batches gives their plain average.
  void set_momentum(Scalar m) { momentum_ = m; }
  Scalar momentum() const { return momentum_; }

 private:
  Var gamma_, beta_;
  Tensor running_mean_, running_var_;
  Scalar momentum_, eps_;
};

class LayerNorm : public UnaryModule {
 public:
  // Normalises over one sample of shape `sample_shape` (x.shape without the batch dim).
  LayerNorm(const Shape& sample_shape, bool affine = true, Scalar eps = 1e-5);
  Var forward(const Var& x) override;

 private:
  Var gamma_, beta_;
  Scalar eps_;
};

}  // namespace sngan
