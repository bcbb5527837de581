// Weight initialisers. Fan-in/fan-out follow PyTorch's convention for a weight of shape
// (d0, d1, k...): fan_in = d1 * prod(k), fan_out = d0 * prod(k).
#pragma once

#include "core/tensor/rng.h"

namespace sngan::init {

void normal(Tensor& w, Rng& rng, double std, double mean = 0.0);
void uniform(Tensor& w, Rng& rng, double lo, double hi);
// U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
void glorot_uniform(Tensor& w, Rng& rng, double gain = 1.0);
// Rows (d0) x cols (rest) made orthonormal (the smaller side), times gain.
void orthogonal(Tensor& w, Rng& rng, double gain = 1.0);
void constant(Tensor& w, double value);

}  // namespace sngan::init
