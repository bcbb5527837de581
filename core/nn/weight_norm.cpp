#include "core/nn/weight_norm.h"

namespace sngan {

WeightNorm::WeightNorm(WeightLayout layout, double eps) : eps_(eps) {
  SNGAN_CHECK(layout == WeightLayout::kOutFirst,
              "weight norm: expected a Linear or Conv2d weight (output channels first); the "
              "discriminators have no transposed convolutions");
}

Var WeightNorm::apply(const Var& weight, bool /*training*/) {
  const Shape& s = weight.shape();
  SNGAN_CHECK(s.ndim() >= 2, "weight norm: expected a weight with at least 2 dimensions, got ",
              s.str());
  const int64_t rows = s[0], cols = weight.numel() / rows;
  Var w = reshape(weight, Shape{rows, cols});                                   // (out, in*kh*kw)
  Var norm = sqrt(add_scalar(sum(square(w), {1}, true), static_cast<Scalar>(eps_)));  // (out, 1)
  return reshape(div(w, norm), s);
}

std::shared_ptr<WeightNorm> WeightNorm::attach(WeightedLayer& layer) {
  auto wn = std::make_shared<WeightNorm>(layer.layout());
  layer.set_weight_transform(wn);
  return wn;
}

}  // namespace sngan
