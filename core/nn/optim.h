// Optimizers. Both read each parameter's accumulated grad() and update its value in place;
// parameters with no gradient (undefined grad) are skipped. Neither clears the gradients:
// call zero_grad() before the next backward.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor/autograd.h"

namespace sngan {

using NamedParams = std::vector<std::pair<std::string, Var>>;

struct AdamConfig {
  double lr = 2e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// Adam with bias correction:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t += 1
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
class Adam {
 public:
  Adam(NamedParams params, AdamConfig config);
  void step();
  void zero_grad();
  double lr() const { return config_.lr; }
  void set_lr(double lr) { config_.lr = lr; }
  const AdamConfig& config() const { return config_; }

  // Checkpoint state: "m.<param>" and "v.<param>" tensors (handles; restore with copy_from)
  // and the step count t.
  std::vector<std::pair<std::string, Tensor>> state() const;
  int64_t step_count() const { return t_; }
  void set_step_count(int64_t t) { t_ = t; }

  // What the last step() left with an Inf or NaN, checked in the update's own pass (so a
  // divergence guard need not read parameters and moments again): the first parameter
  // ("<param>", in_state false) or moment ("m.<param>", "v.<param>" as in state(), in_state
  // true) of the parameters it updated; an empty name if none.
  struct NonFinite {
    std::string name;
    bool in_state = false;
  };
  const NonFinite& non_finite() const { return non_finite_; }

 private:
  NamedParams params_;
  AdamConfig config_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
  NonFinite non_finite_;
};

// Plain SGD, optionally with (heavy-ball) momentum: buf = mu buf + g; p -= lr buf.
class Sgd {
 public:
  Sgd(NamedParams params, double lr, double momentum = 0.0);
  void step();
  void zero_grad();

 private:
  NamedParams params_;
  double lr_, momentum_;
  std::vector<Tensor> buf_;
};

}  // namespace sngan
