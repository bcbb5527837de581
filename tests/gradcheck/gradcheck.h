// Gradient checking for the double-precision build (sngan_tensor_f64).
//
// For an op f and inputs x_i, the scalar loss is L = <f(x), R> with a fixed random R (not
// sum(f(x)), which would let a backward that ignores its incoming gradient pass). The analytic
// gradient from backward() is compared with central differences
//   (L(x + h e_k) - L(x - h e_k)) / 2h,  h = 1e-6 * max(1, |x_k|).
// In double, the truncation error is O(h^2 |L'''|) ~ 1e-12 and the rounding error is about
// eps * |L| / h ~ 1e-16 * 10 / 1e-6 = 1e-9, so |analytic - numeric| <= 1e-6 * (1 + |numeric|)
// is loose enough never to fail a correct backward and tight enough to catch any wrong term
// (a missing factor or a dropped term changes gradients by O(1)).
//
// Leaf gradients are pre-filled with a sentinel value; backward must add to it.
//
// gradgradcheck applies the same check to the function x -> <grad_x L, R2>, whose gradient
// runs through the backward closures recorded with create_graph = true.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/tensor/ops.h"
#include "core/tensor/rng.h"

namespace sngan::testing {

static_assert(sizeof(Scalar) == 8, "gradient checks run in double");

using OpFn = std::function<Var(const std::vector<Var>&)>;

inline Tensor random_tensor(Rng& rng, const Shape& shape, double lo = -1.0, double hi = 1.0) {
  Tensor t = Tensor::empty(shape);
  rng.fill_uniform(t, lo, hi);
  return t;
}

inline double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += a[i] * b[i];
  return s;
}

constexpr double kSentinel = 0.375;

// Checks d<f(x), R>/dx_i for every input i whose `wrt` flag is set (all when wrt is empty).
inline void gradcheck(const OpFn& f, const std::vector<Tensor>& inputs, uint64_t seed = 7,
                      std::vector<bool> wrt = {}) {
  if (wrt.empty()) wrt.assign(inputs.size(), true);
  std::vector<Var> vars;
  for (size_t i = 0; i < inputs.size(); ++i) vars.emplace_back(inputs[i].clone(), wrt[i]);
  Var out = f(vars);
  Rng rng(seed);
  Tensor R = random_tensor(rng, out.shape());
  for (size_t i = 0; i < vars.size(); ++i)
    if (wrt[i]) vars[i].grad() = Tensor::full(vars[i].shape(), kSentinel);
  backward(out, Var(R));

  auto loss_at = [&](std::vector<Tensor> xs) {
    NoGradGuard no_grad;
    std::vector<Var> vs;
    for (auto& x : xs) vs.emplace_back(x, false);
    return dot(f(vs).value(), R);
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!wrt[i]) continue;
    const Tensor& analytic = vars[i].grad();
    ASSERT_TRUE(analytic.defined()) << "input " << i << " got no gradient";
    for (int64_t k = 0; k < inputs[i].numel(); ++k) {
      std::vector<Tensor> plus, minus;
      for (auto& t : inputs) {
        plus.push_back(t.clone());
        minus.push_back(t.clone());
      }
      const double h = 1e-6 * std::max(1.0, std::abs(inputs[i][k]));
      plus[i][k] += h;
      minus[i][k] -= h;
      const double numeric = (loss_at(plus) - loss_at(minus)) / (2 * h);
      const double got = analytic[k] - kSentinel;
      ASSERT_NEAR(got, numeric, 1e-6 * (1 + std::abs(numeric)))
          << "input " << i << " element " << k;
    }
  }
}

// Checks the gradient of x -> <grad_x <f(x), R>, R2> (second order through create_graph).
inline void gradgradcheck(const OpFn& f, const std::vector<Tensor>& inputs, uint64_t seed = 11) {
  Rng rng(seed);
  Tensor R;
  {
    NoGradGuard no_grad;
    std::vector<Var> vs;
    for (auto& x : inputs) vs.emplace_back(x, false);
    R = random_tensor(rng, f(vs).shape());
  }
  std::vector<Tensor> R2;
  for (auto& x : inputs) R2.push_back(random_tensor(rng, x.shape()));
  OpFn first_order = [&](const std::vector<Var>& xs) {
    bool recording = false;
    for (auto& x : xs) recording = recording || x.requires_grad();
    if (!recording) {  // a finite-difference probe: plain first-order gradients
      EnableGradGuard enable;
      std::vector<Var> leaves;
      for (auto& x : xs) leaves.emplace_back(x.value(), true);
      std::vector<Var> g = grad(f(leaves), leaves, false, Var(R));
      double s = 0;
      for (size_t i = 0; i < g.size(); ++i) s += dot(g[i].value(), R2[i]);
      return Var(Tensor::scalar(static_cast<Scalar>(s)));
    }
    std::vector<Var> g = grad(f(xs), xs, true, Var(R));
    Var total;
    for (size_t i = 0; i < g.size(); ++i) {
      Var term = sum(mul(g[i], Var(R2[i])));
      total = total.defined() ? add(total, term) : term;
    }
    return total;
  };
  gradcheck(first_order, inputs, seed + 1);
}

}  // namespace sngan::testing
