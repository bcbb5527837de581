// GAN losses of Miyato et al. 2018 (standard, hinge, Wasserstein critic), batch means over D's
// logits (N, 1).
//   standard: L_D = softplus(-D(x)) + softplus(D(G(z)));  L_G = softplus(-D(G(z)))
//   hinge:    L_D = relu(1 - D(x)) + relu(1 + D(G(z)));  L_G = -D(G(z))
//   wasserstein: L_D = D(G(z)) - D(x);                   L_G = -D(G(z))
#pragma once

#include "core/gan/config.h"
#include "core/tensor/ops.h"

namespace sngan {

Var discriminator_loss(LossType type, const Var& d_real, const Var& d_fake);
Var generator_loss(LossType type, const Var& d_fake);

}  // namespace sngan
