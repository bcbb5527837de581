// Batch and layer normalization as discriminator baselines (Miyato et al. 2018, Sec. 4): a
// normalization without the learnable scale gamma, keeping a learnable per-channel shift beta,
// as chainer-gan-lib's DCGANDiscriminator does (L.BatchNormalization(use_gamma=False)).
//   batch: per channel over (N, H, W) of the batch in training mode (running statistics
//          updated, used in evaluation mode). Its training-mode backward is a fused kernel that
//          cannot be differentiated again, so no gradient penalty runs through it (and the
//          per-sample input gradient a penalty needs is not defined independently of the batch).
//   layer: per sample over all of its features (C, H, W), the same in training and evaluation;
//          fully differentiable.
// Input (N, C, H, W) or (N, C); beta (C) is registered as "bias".
#pragma once

#include "core/nn/module.h"
#include "core/tensor/ops.h"

namespace sngan {

enum class FeatureNormKind { kBatch, kLayer };

class FeatureNorm : public UnaryModule {
 public:
  FeatureNorm(FeatureNormKind kind, int64_t channels, Scalar eps = 1e-5, Scalar momentum = 0.1);
  Var forward(const Var& x) override;
  FeatureNormKind kind() const { return kind_; }
  Var& beta() { return beta_; }
  Tensor& running_mean() { return running_mean_; }  // batch kind only
  Tensor& running_var() { return running_var_; }

 private:
  FeatureNormKind kind_;
  int64_t channels_;
  Var beta_;
  Tensor running_mean_, running_var_;
  Scalar eps_, momentum_;
};

}  // namespace sngan
