// Discriminator regularizers that act on D's input gradient or on its weights after a step
// (Miyato et al. 2018, Sec. 4 baselines, and Mescheder et al. 2018):
//   gradient penalty (WGAN-GP / GAN-GP, Gulrajani et al. 2017):
//     lambda * mean_i (||grad_xhat D(xhat_i)|| - 1)^2,  xhat_i = e_i x_i + (1 - e_i) G(z_i),
//     e_i ~ U[0, 1] per sample;
//   R1 (Mescheder et al. 2018): gamma / 2 * mean_i ||grad_x D(x_i)||^2 on real data;
//   weight clipping (Arjovsky et al. 2017): every D parameter clamped to [-c, c] after each
//     D update.
// The penalties are built with create_graph = true, so backward() of a loss that contains them
// reaches D's weights through the second-order graph. They need D to treat samples
// independently (no batch norm in D in training mode).
#pragma once

#include <functional>

#include "core/nn/module.h"
#include "core/tensor/ops.h"
#include "core/tensor/process_group.h"
#include "core/tensor/rng.h"

namespace sngan {

using DForward = std::function<Var(const Var&)>;

// xhat = e x + (1 - e) fake with one e ~ U[0, 1] per sample drawn from rng (N draws, in order).
// real, fake (N, ...) of one shape. With a shard (data parallelism) real and fake hold the
// shard's rows of the batch: all shard.total weights are drawn and rows shard.begin.. used, so
// the stream and the weights are those of one process on the whole batch.
Tensor interpolate(const Tensor& real, const Tensor& fake, Rng& rng, const Shard& shard = {});

// lambda * mean_i (||grad_x D(x)_i|| - 1)^2 at x (a constant input), shape (1). The norm is
// sqrt(||g_i||^2 + 1e-12) so that its gradient stays finite at g_i = 0. D's extra forward runs
// under SpectralNormFreeze: spectral norm's u does not advance inside the penalty.
Var gradient_penalty_at(const DForward& d, const Tensor& x, double lambda);

// gradient_penalty_at(d, interpolate(real, fake, rng), lambda).
Var gradient_penalty(const DForward& d, const Tensor& real, const Tensor& fake, double lambda,
                     Rng& rng, const Shard& shard = {});

// gamma / 2 * mean_i ||grad_x d_x_i||^2 where d_x (N, 1) = D(x) was computed from the leaf x
// (which must require a gradient). Reuses the forward the loss already made: no extra forward,
// and spectral norm's u advances once for it as for any loss forward. Shape (1).
Var r1_penalty(const Var& x, const Var& d_x, double gamma);

// Clamps every parameter of `m` to [-c, c] in place (c > 0).
void clip_parameters(Module& m, double c);

}  // namespace sngan
