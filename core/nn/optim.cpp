#include "core/nn/optim.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace sngan {

namespace {
// x is neither Inf nor NaN; for float tested on the exponent bits, so the loops vectorize.
inline bool is_finite(Scalar x) {
  if constexpr (sizeof(Scalar) == 4) {
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return (u & 0x7f800000u) != 0x7f800000u;
  } else {
    return std::isfinite(x);
  }
}
}  // namespace

Adam::Adam(NamedParams params, AdamConfig config) : params_(std::move(params)), config_(config) {
  SNGAN_CHECK(config.lr > 0, "adam: expected lr > 0, got ", config.lr);
  SNGAN_CHECK(config.beta1 >= 0 && config.beta1 < 1, "adam: expected beta1 in [0, 1), got ",
              config.beta1);
  SNGAN_CHECK(config.beta2 >= 0 && config.beta2 < 1, "adam: expected beta2 in [0, 1), got ",
              config.beta2);
  for (auto& [name, p] : params_) {
    m_.push_back(Tensor::zeros(p.shape()));
    v_.push_back(Tensor::zeros(p.shape()));
  }
}

void Adam::step() {
  ++t_;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(t_));
  const double c2 = 1.0 - std::pow(b2, static_cast<double>(t_));
  const double step_size = config_.lr / c1, inv_sqrt_c2 = 1.0 / std::sqrt(c2);
  non_finite_ = NonFinite();
  for (size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i].second;
    if (!p.grad().defined()) continue;
    Scalar* __restrict w = p.value().data();
    const Scalar* __restrict g = p.grad().data();
    Scalar* __restrict m = m_[i].data();
    Scalar* __restrict v = v_[i].data();
    const int64_t n = p.numel();
    const double eps = config_.eps;
    int bad = 0;  // bit 0: w, 1: m, 2: v has an Inf or NaN
#pragma omp parallel for schedule(static) reduction(| : bad) if (n > 65536)
    for (int64_t k = 0; k < n; ++k) {
      m[k] = static_cast<Scalar>(b1 * m[k] + (1 - b1) * g[k]);
      v[k] = static_cast<Scalar>(b2 * v[k] + (1 - b2) * g[k] * g[k]);
      w[k] -= static_cast<Scalar>(step_size * m[k] / (std::sqrt(v[k]) * inv_sqrt_c2 + eps));
      bad |= int(!is_finite(w[k])) | int(!is_finite(m[k])) << 1 | int(!is_finite(v[k])) << 2;
    }
    if (bad != 0 && non_finite_.name.empty()) {
      const std::string& name = params_[i].first;
      if (bad & 1) non_finite_ = {name, false};
      else non_finite_ = {(bad & 2 ? "m." : "v.") + name, true};
    }
  }
}

void Adam::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("m." + params_[i].first, m_[i]);
    out.emplace_back("v." + params_[i].first, v_[i]);
  }
  return out;
}

Sgd::Sgd(NamedParams params, double lr, double momentum)
    : params_(std::move(params)), lr_(lr), momentum_(momentum) {
  SNGAN_CHECK(lr > 0, "sgd: expected lr > 0, got ", lr);
  for (auto& [name, p] : params_) buf_.push_back(Tensor::zeros(p.shape()));
}

void Sgd::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Var& p = params_[i].second;
    if (!p.grad().defined()) continue;
    Scalar* w = p.value().data();
    const Scalar* g = p.grad().data();
    Scalar* b = buf_[i].data();
    for (int64_t k = 0; k < p.numel(); ++k) {
      b[k] = static_cast<Scalar>(momentum_ * b[k] + g[k]);
      w[k] -= static_cast<Scalar>(lr_ * b[k]);
    }
  }
}

void Sgd::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

}  // namespace sngan
