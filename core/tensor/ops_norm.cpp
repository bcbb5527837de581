// Batch norm (fused kernel in training mode) and layer norm (composed of differentiable ops).
#include <cmath>
#include <memory>
#include <vector>

#include "core/tensor/kernels/batch_norm_ops.h"
#include "core/tensor/ops.h"
#include "core/tensor/process_group.h"

namespace sngan {

namespace {

Shape channel_shape(const Shape& xs) {  // (1, C) or (1, C, 1, 1)
  return xs.ndim() == 2 ? Shape{1, xs[1]} : Shape{1, xs[1], 1, 1};
}

// Training mode: the fused kernels (kernels/batch_norm_ops.h) wrapped as one autograd op.
// With relu the op keeps only its output, from which the backward reads the relu mask.
// Under a BatchGroupScope of several ranks the statistics run over all ranks' rows (the
// sharded kernels); the op keeps the group, so its backward reduces over it too.
Var batch_norm_train(const Var& x, const Var& gamma, const Var& beta, const BatchNormState& st,
                     bool relu) {
  const Shape& xs = x.shape();
  const kernels::BatchNormDims d{xs[0], xs[1], xs.ndim() == 4 ? xs[2] * xs[3] : 1};
  ProcessGroup* group = batch_group();
  int64_t total = d.count();  // values per channel over every rank
  if (group) {
    double n = static_cast<double>(total);
    group->sum(&n, 1);
    total = static_cast<int64_t>(n);
  }
  SNGAN_CHECK(total > 1,
              "batch_norm: training needs more than one value per channel, got shape ", xs.str());
  kernels::StatsReducer reduce;
  if (group) reduce = [group](double* v, int64_t n) { group->sum(v, n); };
  Tensor y = Tensor::empty(xs);
  auto mean = std::make_shared<std::vector<double>>(static_cast<size_t>(d.C));  // (C)
  auto invstd = std::make_shared<std::vector<double>>(static_cast<size_t>(d.C));  // (C)
  const Scalar* pg = gamma.defined() ? gamma.value().data() : nullptr;
  const Scalar* pb = beta.defined() ? beta.value().data() : nullptr;
  kernels::BatchNormRunning running;
  if (st.running_mean) running = {st.running_mean->data(), st.running_var->data(), st.momentum};
  if (group)
    kernels::batch_norm_forward_sharded(y.data(), mean->data(), invstd->data(), x.value().data(), pg, pb,
                                        d, total, reduce, st.eps, relu, running);
  else
    kernels::batch_norm_forward(y.data(), mean->data(), invstd->data(), x.value().data(), pg, pb, d,
                                st.eps, relu, running);
  std::vector<Var> inputs{x};
  if (gamma.defined()) inputs.push_back(gamma);
  if (beta.defined()) inputs.push_back(beta);
  const Tensor out = relu ? y : Tensor();  // the relu mask
  return Var::make_op(std::move(y), relu ? "batch_norm_relu" : "batch_norm", std::move(inputs),
                      [x, out, mean, invstd, gamma, beta, d, total, reduce](const Var& gv) {
    // Fused backward; its outputs cannot be differentiated again.
    Tensor dx = Tensor::empty(x.shape());
    Tensor dgamma = Tensor::empty(Shape{d.C}), dbeta = Tensor::empty(Shape{d.C});
    const Scalar* pgamma = gamma.defined() ? gamma.value().data() : nullptr;
    const Scalar* mask = out.defined() ? out.data() : nullptr;
    if (reduce)
      kernels::batch_norm_backward_sharded(dx.data(), dgamma.data(), dbeta.data(), gv.value().data(),
                                           x.value().data(), mean->data(), invstd->data(), pgamma, mask, d,
                                           total, reduce);
    else
      kernels::batch_norm_backward(dx.data(), dgamma.data(), dbeta.data(), gv.value().data(),
                                   x.value().data(), mean->data(), invstd->data(), pgamma, mask, d);
    const char* name = out.defined() ? "batch_norm_relu_backward" : "batch_norm_backward";
    std::vector<Var> grads{Var::make_op(std::move(dx), name, {gv}, nullptr)};
    if (gamma.defined()) grads.push_back(Var::make_op(std::move(dgamma), name, {gv}, nullptr));
    if (beta.defined()) grads.push_back(Var::make_op(std::move(dbeta), name, {gv}, nullptr));
    return grads;
  });
}

}  // namespace

namespace {
Var batch_norm_impl(const Var& x, const Var& gamma, const Var& beta, bool training,
                    const BatchNormState& st, bool relu) {
  const Shape& xs = x.shape();
  SNGAN_CHECK(xs.ndim() == 2 || xs.ndim() == 4,
              "batch_norm: expected input (N, C) or (N, C, H, W), got ", xs.str());
  const int64_t C = xs[1];
  if (gamma.defined())
    SNGAN_CHECK(gamma.shape() == Shape{C}, "batch_norm: expected gamma of shape (", C, "), got ",
                gamma.shape().str());
  if (beta.defined())
    SNGAN_CHECK(beta.shape() == Shape{C}, "batch_norm: expected beta of shape (", C, "), got ",
                beta.shape().str());
  SNGAN_CHECK((st.running_mean == nullptr) == (st.running_var == nullptr),
              "batch_norm: running mean and variance come together");
  if (st.running_mean)
    SNGAN_CHECK(st.running_mean->numel() == C && st.running_var->numel() == C,
                "batch_norm: expected running statistics of size ", C);
  if (training) return batch_norm_train(x, gamma, beta, st, relu);

  SNGAN_CHECK(st.running_mean != nullptr, "batch_norm: eval mode needs running statistics");
  const Shape cs = channel_shape(xs);
  Tensor inv = Tensor::empty(cs), shift = Tensor::empty(cs);
  for (int64_t c = 0; c < C; ++c) {
    inv[c] = Scalar(1) / std::sqrt((*st.running_var)[c] + st.eps);
    shift[c] = -(*st.running_mean)[c] * inv[c];
  }
  Var y = add(mul(x, Var(inv)), Var(shift));  // (x - mean) / sqrt(var + eps)
  if (gamma.defined()) y = mul(y, reshape(gamma, cs));
  if (beta.defined()) y = add(y, reshape(beta, cs));
  return relu ? sngan::relu(y) : y;
}
}  // namespace

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, bool training,
               const BatchNormState& st) {
  return batch_norm_impl(x, gamma, beta, training, st, false);
}

Var batch_norm_relu(const Var& x, const Var& gamma, const Var& beta, bool training,
                    const BatchNormState& st) {
  return batch_norm_impl(x, gamma, beta, training, st, true);
}

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Scalar eps) {
  const Shape& xs = x.shape();
  SNGAN_CHECK(xs.ndim() >= 2, "layer_norm: expected (N, ...), got ", xs.str());
  std::vector<int> axes;
  std::vector<int64_t> sample;
  for (int d = 1; d < xs.ndim(); ++d) {
    axes.push_back(d);
    sample.push_back(xs[d]);
  }
  if (gamma.defined())
    SNGAN_CHECK(gamma.shape() == Shape(sample), "layer_norm: expected gamma of shape ",
                Shape(sample).str(), ", got ", gamma.shape().str());
  if (beta.defined())
    SNGAN_CHECK(beta.shape() == Shape(sample), "layer_norm: expected beta of shape ",
                Shape(sample).str(), ", got ", beta.shape().str());
  Var centered = sub(x, mean(x, axes, true));
  Var var = mean(square(centered), axes, true);
  Var y = div(centered, sqrt(add_scalar(var, eps)));
  if (gamma.defined()) y = mul(y, gamma);
  if (beta.defined()) y = add(y, beta);
  return y;
}

}  // namespace sngan
