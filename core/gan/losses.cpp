#include "core/gan/losses.h"

namespace sngan {

Var discriminator_loss(LossType type, const Var& d_real, const Var& d_fake) {
  switch (type) {
    case LossType::kStandard:
      return add(mean(softplus(neg(d_real))), mean(softplus(d_fake)));
    case LossType::kHinge:
      return add(mean(relu(rsub_scalar(1, d_real))), mean(relu(add_scalar(d_fake, 1))));
    case LossType::kWasserstein:
      return sub(mean(d_fake), mean(d_real));
  }
  throw Error("unknown loss type");
}

Var generator_loss(LossType type, const Var& d_fake) {
  switch (type) {
    case LossType::kStandard: return mean(softplus(neg(d_fake)));
    case LossType::kHinge:
    case LossType::kWasserstein: return neg(mean(d_fake));
  }
  throw Error("unknown loss type");
}

}  // namespace sngan
