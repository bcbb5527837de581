#include "core/nn/spectral_norm.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sngan {

namespace {

// Index of matrix element (r, c) of the output-first view in the stored weight.
struct MatrixView {
  WeightLayout layout;
  int64_t rows, cols, in, kk;  // for kInFirst: weight (in, rows, kk), cols = in * kk
  int64_t at(int64_t r, int64_t c) const {
    if (layout == WeightLayout::kOutFirst) return r * cols + c;
    const int64_t i = c / kk, k = c % kk;
    return (i * rows + r) * kk + k;
  }
};

MatrixView view_of(const Shape& s, WeightLayout layout) {
  SNGAN_CHECK(s.ndim() >= 2, "spectral norm: expected a weight with at least 2 dimensions, got ",
              s.str());
  int64_t kk = 1;
  for (int d = 2; d < s.ndim(); ++d) kk *= s[d];
  if (layout == WeightLayout::kOutFirst) return {layout, s[0], s[1] * kk, s[1], kk};
  return {layout, s[1], s[0] * kk, s[0], kk};
}

}  // namespace

double& spectral_norm_seconds() {
  thread_local double seconds = 0;
  return seconds;
}

namespace {
thread_local bool freeze_active = false;
}

SpectralNormFreeze::SpectralNormFreeze() : previous_(freeze_active) { freeze_active = true; }
SpectralNormFreeze::~SpectralNormFreeze() { freeze_active = previous_; }
bool SpectralNormFreeze::active() { return freeze_active; }

SpectralNorm::SpectralNorm(const Tensor& weight, WeightLayout layout, SpectralNormConfig config,
                           Rng& rng)
    : layout_(layout), config_(config) {
  SNGAN_CHECK(config.power_iterations >= 0, "spectral norm: expected power_iterations >= 0, got ",
              config.power_iterations);
  MatrixView m = view_of(weight.shape(), layout);
  rows_ = m.rows;
  cols_ = m.cols;
  u_ = Tensor::empty(Shape{rows_});
  rng.fill_normal(u_);
  normalize(u_);
  v_ = Tensor::zeros(Shape{cols_});
  const Scalar* w = weight.data();
  for (int64_t r = 0; r < rows_; ++r)
    for (int64_t c = 0; c < cols_; ++c) v_[c] += w[m.at(r, c)] * u_[r];
  normalize(v_);
  sigma_ = current_sigma(weight);
}

void SpectralNorm::normalize(Tensor& x) const {
  double ss = 0;
  for (int64_t i = 0; i < x.numel(); ++i) ss += static_cast<double>(x[i]) * x[i];
  const double norm = std::sqrt(ss);
  const double denom = config_.eps_style == SnEpsStyle::kChainer ? norm + config_.eps
                                                                  : std::max(norm, config_.eps);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<Scalar>(x[i] / denom);
}

void SpectralNorm::power_step(const Tensor& weight) {
  const MatrixView m = view_of(weight.shape(), layout_);
  const Scalar* w = weight.data();
  if (layout_ == WeightLayout::kOutFirst) {
    ConstMatrixMap W(w, rows_, cols_);
    Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, 1>> u(u_.data(), rows_), v(v_.data(), cols_);
    v.noalias() = W.transpose() * u;
    normalize(v_);
    u.noalias() = W * v;
    normalize(u_);
    return;
  }
  v_.zero();
  for (int64_t r = 0; r < rows_; ++r)
    for (int64_t c = 0; c < cols_; ++c) v_[c] += w[m.at(r, c)] * u_[r];
  normalize(v_);
  for (int64_t r = 0; r < rows_; ++r) {
    double s = 0;
    for (int64_t c = 0; c < cols_; ++c) s += w[m.at(r, c)] * v_[c];
    u_[r] = static_cast<Scalar>(s);
  }
  normalize(u_);
}

Scalar SpectralNorm::current_sigma(const Tensor& weight) const {
  const MatrixView m = view_of(weight.shape(), layout_);
  double s = 0;
  for (int64_t r = 0; r < rows_; ++r) {
    double row = 0;
    for (int64_t c = 0; c < cols_; ++c) row += weight[m.at(r, c)] * v_[c];
    s += u_[r] * row;
  }
  return static_cast<Scalar>(s);
}

Var SpectralNorm::apply(const Var& weight, bool training) {
  const MatrixView m = view_of(weight.shape(), layout_);
  SNGAN_CHECK(m.rows == rows_ && m.cols == cols_, "spectral norm: weight shape ",
              weight.shape().str(), " does not match the stored u, v");
  const auto start = std::chrono::steady_clock::now();
  if (training && !SpectralNormFreeze::active()) {
    NoGradGuard no_grad;
    for (int i = 0; i < config_.power_iterations; ++i) power_step(weight.value());
  }
  // sigma = <W, u v^T> (u v^T laid out like W), differentiable in W only.
  Tensor uv = Tensor::empty(weight.shape());
  for (int64_t r = 0; r < rows_; ++r)
    for (int64_t c = 0; c < cols_; ++c) uv[m.at(r, c)] = u_[r] * v_[c];
  Var sigma = sum(mul(weight, Var(uv)));
  sigma_ = sigma.item();
  Var normalized = div(weight, sigma);
  spectral_norm_seconds() +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return normalized;
}

std::vector<std::pair<std::string, Tensor>> SpectralNorm::state() const {
  return {{"u", u_}, {"v", v_}};
}

std::shared_ptr<SpectralNorm> SpectralNorm::attach(WeightedLayer& layer, SpectralNormConfig config,
                                                   Rng& rng) {
  auto sn = std::make_shared<SpectralNorm>(layer.weight().value(), layer.layout(), config, rng);
  layer.set_weight_transform(sn);
  return sn;
}

}  // namespace sngan
