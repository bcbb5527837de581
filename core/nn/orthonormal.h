// Orthonormal regularization of the discriminator, the baseline of Miyato et al. 2018 (Sec. 4,
// after Brock et al. 2016): orthogonal initialisation (init::orthogonal, QR of a Gaussian) and
// the penalty ||W^T W - I||_F^2 added to D's loss, W the weight seen as an
// out x (in*kh*kw) matrix.
//
// Which Gram matrix: W^T W (cols x cols) has rank <= rows, so for a wide W (rows < cols, every
// conv here) it cannot equal I and the penalty would have a floor of cols - rows pulling all
// singular values towards 0 or 1 at random. For a wide W we therefore use W W^T (rows x rows),
// which asks for orthonormal rows; for a tall or square W, W^T W (orthonormal columns). Both
// say "every singular value is 1" for the side that can satisfy it.
#pragma once

#include <vector>

#include "core/tensor/ops.h"

namespace sngan {

// ||G - I||_F^2 for one weight (out, ...), G = W W^T when out < in*kh*kw, else W^T W.
// Differentiable in the weight; shape (1).
Var orthonormal_penalty(const Var& weight);

// The sum of orthonormal_penalty over `weights`, shape (1).
Var orthonormal_penalty(const std::vector<Var>& weights);

}  // namespace sngan
