#include "core/gan/penalties.h"

#include <algorithm>

#include "core/nn/spectral_norm.h"

namespace sngan {

namespace {

// Per-sample squared norms of g (N, ...) -> (N, 1).
Var per_sample_squared_norm(const Var& g) { return sum(square(flatten(g)), {1}, true); }

}  // namespace

Tensor interpolate(const Tensor& real, const Tensor& fake, Rng& rng, const Shard& shard) {
  SNGAN_CHECK(real.shape() == fake.shape(), "gradient penalty: real batch ", real.shape().str(),
              " and fake batch ", fake.shape().str(), " differ in shape");
  const int64_t n = real.dim(0), per = real.numel() / n;
  const bool sharded = shard.total > 0;
  SNGAN_CHECK(!sharded || shard.size() == n, "gradient penalty: expected the shard's ", shard.size(),
              " rows, got ", n);
  Tensor e = Tensor::empty(Shape{sharded ? shard.total : n});  // (whole batch)
  rng.fill_uniform(e, 0.0, 1.0);
  const int64_t first = sharded ? shard.begin : 0;
  Tensor out = Tensor::empty(real.shape());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < per; ++k) {
      const int64_t j = i * per + k;
      out[j] = e[first + i] * real[j] + (1 - e[first + i]) * fake[j];
    }
  return out;
}

Var gradient_penalty_at(const DForward& d, const Tensor& x, double lambda) {
  SNGAN_CHECK(lambda >= 0, "train.gradient_penalty: expected >= 0, got ", lambda);
  Var xv(x, true);
  Var out;
  {
    SpectralNormFreeze freeze;
    out = d(xv);
  }
  Var g = grad(sum(out), {xv}, true)[0];  // (N, ...)
  Var norm = sqrt(add_scalar(per_sample_squared_norm(g), static_cast<Scalar>(1e-12)));  // (N, 1)
  return mul_scalar(mean(square(add_scalar(norm, -1))), static_cast<Scalar>(lambda));
}

Var gradient_penalty(const DForward& d, const Tensor& real, const Tensor& fake, double lambda,
                     Rng& rng, const Shard& shard) {
  return gradient_penalty_at(d, interpolate(real, fake, rng, shard), lambda);
}

Var r1_penalty(const Var& x, const Var& d_x, double gamma) {
  SNGAN_CHECK(gamma >= 0, "train.r1_penalty: expected >= 0, got ", gamma);
  SNGAN_CHECK(x.requires_grad(), "r1 penalty: expected D's input to require a gradient");
  Var g = grad(sum(d_x), {x}, true)[0];  // (N, ...)
  return mul_scalar(mean(per_sample_squared_norm(g)), static_cast<Scalar>(gamma / 2));
}

void clip_parameters(Module& m, double c) {
  SNGAN_CHECK(c > 0, "model.discriminator.clip_value: expected > 0, got ", c);
  const Scalar lo = static_cast<Scalar>(-c), hi = static_cast<Scalar>(c);
  for (auto& [name, p] : m.named_parameters()) {
    Scalar* v = p.value().data();
    for (int64_t i = 0; i < p.numel(); ++i) v[i] = std::clamp(v[i], lo, hi);
  }
}

}  // namespace sngan
