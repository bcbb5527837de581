// Weight normalization as the discriminator baseline of Miyato et al. 2018 (Sec. 4, after
// Salimans & Kingma 2016, without the learnable gain): each output unit's weight row w_i is
// replaced by w_i / ||w_i||, the weight seen as an out x (in*kh*kw) matrix. Fully
// differentiable (twice: the gradient penalties differentiate through it) and stateless, so it
// adds nothing to checkpoints.
#pragma once

#include "core/nn/layers.h"

namespace sngan {

class WeightNorm : public WeightTransform {
 public:
  // eps guards a zero row: w_i / sqrt(||w_i||^2 + eps).
  explicit WeightNorm(WeightLayout layout, double eps = 1e-12);

  Var apply(const Var& weight, bool training) override;
  std::vector<std::pair<std::string, Tensor>> state() const override { return {}; }

  static std::shared_ptr<WeightNorm> attach(WeightedLayer& layer);

 private:
  double eps_;
};

}  // namespace sngan
