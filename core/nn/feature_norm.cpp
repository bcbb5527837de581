#include "core/nn/feature_norm.h"

namespace sngan {

FeatureNorm::FeatureNorm(FeatureNormKind kind, int64_t channels, Scalar eps, Scalar momentum)
    : kind_(kind), channels_(channels), eps_(eps), momentum_(momentum) {
  SNGAN_CHECK(channels > 0, "feature norm: expected channels > 0, got ", channels);
  beta_ = register_parameter("bias", Tensor::zeros(Shape{channels}));
  if (kind == FeatureNormKind::kBatch) {
    running_mean_ = register_buffer("running_mean", Tensor::zeros(Shape{channels}));
    running_var_ = register_buffer("running_var", Tensor::full(Shape{channels}, 1));
  }
}

Var FeatureNorm::forward(const Var& x) {
  SNGAN_CHECK((x.shape().ndim() == 2 || x.shape().ndim() == 4) && x.dim(1) == channels_,
              "feature norm: expected (N, ", channels_, ") or (N, ", channels_,
              ", H, W), got ", x.shape().str());
  if (kind_ == FeatureNormKind::kBatch) {
    BatchNormState st{&running_mean_, &running_var_, momentum_, eps_};
    return batch_norm(x, Var(), beta_, is_training(), st);
  }
  const Shape cs = x.shape().ndim() == 4 ? Shape{1, channels_, 1, 1} : Shape{1, channels_};
  return add(layer_norm(x, Var(), Var(), eps_), reshape(beta_, cs));
}

}  // namespace sngan
