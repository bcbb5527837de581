// Spectral normalization (Miyato et al. 2018): the layer computes with W / sigma(W), sigma the
// largest singular value of W seen as a matrix with output channels as rows:
//   Linear/Conv2d (out, in, kh, kw) -> out x (in*kh*kw); ConvTranspose2d (in, out, kh, kw) ->
//   out x (in*kh*kw).
// sigma is estimated by power iteration with a persistent u (and the matching v):
//   v = normalize(W^T u); u = normalize(W v); sigma = u^T W v.
// Each training-mode apply() runs `power_iterations` steps (default 1) and writes u, v; in
// evaluation mode nothing is written and sigma comes from the stored u, v. u and v are constants
// for autograd: the gradient flows to W through W / sigma and sigma = <W, u v^T>.
#pragma once

#include "core/nn/layers.h"

namespace sngan {

enum class SnEpsStyle {
  kChainer,  // x / (||x|| + eps), the official code
  kPyTorch,  // x / max(||x||, eps)
};

struct SpectralNormConfig {
  int power_iterations = 1;
  SnEpsStyle eps_style = SnEpsStyle::kChainer;
  double eps = 1e-12;
};

// Seconds this thread has spent in SpectralNorm::apply (power iteration and sigma), for
// profiling; callers may reset it to zero.
double& spectral_norm_seconds();

// While alive, training-mode apply() on this thread runs no power-iteration step and writes
// neither u nor v: sigma comes from the stored vectors, as in evaluation mode, while the rest
// of the network stays in training mode. The gradient penalties' extra forward of D on
// interpolates runs under it, so a penalty does not advance u (the two loss forwards do).
class SpectralNormFreeze {
 public:
  SpectralNormFreeze();
  ~SpectralNormFreeze();
  SpectralNormFreeze(const SpectralNormFreeze&) = delete;
  SpectralNormFreeze& operator=(const SpectralNormFreeze&) = delete;
  static bool active();

 private:
  bool previous_;
};

class SpectralNorm : public WeightTransform {
 public:
  // u starts as a normalised N(0, I) draw from rng; v = normalize(W^T u).
  SpectralNorm(const Tensor& weight, WeightLayout layout, SpectralNormConfig config, Rng& rng);

  Var apply(const Var& weight, bool training) override;
  std::vector<std::pair<std::string, Tensor>> state() const override;

  // sigma from the last apply() (or from the stored u, v before any).
  Scalar sigma() const { return sigma_; }
  const Tensor& u() const { return u_; }
  const Tensor& v() const { return v_; }

  // Convenience: wraps a layer's weight with spectral norm and returns the transform.
  static std::shared_ptr<SpectralNorm> attach(WeightedLayer& layer, SpectralNormConfig config,
                                              Rng& rng);

 private:
  void power_step(const Tensor& w);  // one v, u update on the stored vectors
  Scalar current_sigma(const Tensor& w) const;  // u^T W v
  Var divided_by_sigma(const Var& weight, Scalar sigma) const;
  void normalize(Tensor& x) const;

  WeightLayout layout_;
  SpectralNormConfig config_;
  int64_t rows_ = 0, cols_ = 0;  // matrix view: rows = output channels
  Tensor u_, v_;                 // (rows), (cols)
  Scalar sigma_ = 0;
};

}  // namespace sngan
