#include "core/nn/spectral_norm.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/tensor/ordered_sum.h"

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
  if (layout_ == WeightLayout::kOutFirst) {  // u^T (W v), W v as one matrix-vector product
    const Eigen::Matrix<Scalar, Eigen::Dynamic, 1> wv =
        ConstMatrixMap(weight.data(), rows_, cols_) *
        Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>>(v_.data(), cols_);
    for (int64_t r = 0; r < rows_; ++r) s += static_cast<double>(u_[r]) * wv[r];
    return static_cast<Scalar>(s);
  }
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
  sigma_ = current_sigma(weight.value());
  Var normalized = divided_by_sigma(weight, sigma_);
  spectral_norm_seconds() +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return normalized;
}

// W / sigma with sigma = <W, u v^T> (u, v constants), differentiable in W. The backward,
//   dW = g / sigma - (<g, W> / sigma^2) u v^T,
// runs as two passes over the weight; when the backward is itself recorded (a gradient
// penalty's double backward) it runs as the same expression in differentiable ops.
Var SpectralNorm::divided_by_sigma(const Var& weight, Scalar sigma) const {
  const Tensor& w = weight.value();
  const int64_t n = w.numel();
  Tensor out = Tensor::empty(w.shape());
  const Scalar* pw = w.data();
  Scalar* po = out.data();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) po[i] = pw[i] / sigma;
  const Tensor u = u_.clone(), v = v_.clone();
  const MatrixView m = view_of(w.shape(), layout_);
  auto backward = [weight, sigma, u, v, m](const Var& g) {
    if (grad_enabled()) {  // recorded: the composite expression, differentiable in W and g
      Tensor uv = Tensor::empty(weight.shape());
      for (int64_t r = 0; r < m.rows; ++r)
        for (int64_t c = 0; c < m.cols; ++c) uv[m.at(r, c)] = u[r] * v[c];
      const Var uvv(uv);
      const Var s = sum(mul(weight, uvv));
      const Var gs = neg(div(sum(mul(g, weight)), square(s)));
      return std::vector<Var>{add(div(g, s), mul(gs, uvv))};
    }
    const Tensor& gt = g.value();
    const Tensor& wt = weight.value();
    const int64_t count = wt.numel();
    const Scalar* pg = gt.data();
    const Scalar* pw = wt.data();
    const double gw =
        blocked_sum(count, [pg, pw](int64_t i) { return static_cast<double>(pg[i]) * pw[i]; });
    const Scalar coef = static_cast<Scalar>(gw / (static_cast<double>(sigma) * sigma));
    Tensor dw = Tensor::empty(wt.shape());
    Scalar* pd = dw.data();
#pragma omp parallel for schedule(static) if (count > 65536)
    for (int64_t r = 0; r < m.rows; ++r) {
      const Scalar ur = coef * u[r];
      if (m.layout == WeightLayout::kOutFirst) {  // row r is contiguous: a loop that vectorises
        const Scalar* gr = pg + r * m.cols;
        Scalar* dr = pd + r * m.cols;
        for (int64_t c = 0; c < m.cols; ++c) dr[c] = gr[c] / sigma - ur * v[c];
        continue;
      }
      for (int64_t c = 0; c < m.cols; ++c) {
        const int64_t i = m.at(r, c);
        pd[i] = pg[i] / sigma - ur * v[c];
      }
    }
    return std::vector<Var>{Var(std::move(dw))};
  };
  return Var::make_op(std::move(out), "spectral_normalize", {weight}, std::move(backward));
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
