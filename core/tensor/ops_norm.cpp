// Batch norm (fused kernel in training mode) and layer norm (composed of differentiable ops).
#include <cmath>
#include <vector>

#include "core/tensor/ops.h"

namespace sngan {

namespace {

Shape channel_shape(const Shape& xs) {  // (1, C) or (1, C, 1, 1)
  return xs.ndim() == 2 ? Shape{1, xs[1]} : Shape{1, xs[1], 1, 1};
}

Var batch_norm_train(const Var& x, const Var& gamma, const Var& beta, const BatchNormState& st) {
  const Shape& xs = x.shape();
  const int64_t N = xs[0], C = xs[1], inner = xs.ndim() == 4 ? xs[2] * xs[3] : 1;
  const int64_t M = N * inner;
  SNGAN_CHECK(M > 1, "batch_norm: training needs more than one value per channel, got shape ",
              xs.str());
  Tensor y = Tensor::empty(xs);
  Tensor xhat = Tensor::empty(xs);
  Tensor invstd = Tensor::empty(Shape{C});
  const Scalar* px = x.value().data();
  const Scalar* pg = gamma.defined() ? gamma.value().data() : nullptr;
  const Scalar* pb = beta.defined() ? beta.value().data() : nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n) {
      const Scalar* row = px + (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) s += row[i];
    }
    const double mu = s / static_cast<double>(M);
    for (int64_t n = 0; n < N; ++n) {
      const Scalar* row = px + (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) ss += (row[i] - mu) * (row[i] - mu);
    }
    const double var = ss / static_cast<double>(M);
    const double is = 1.0 / std::sqrt(var + st.eps);
    invstd[c] = static_cast<Scalar>(is);
    const Scalar scale = pg ? pg[c] : Scalar(1), shift = pb ? pb[c] : Scalar(0);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        Scalar h = static_cast<Scalar>((px[base + i] - mu) * is);
        xhat[base + i] = h;
        y[base + i] = h * scale + shift;
      }
    }
    if (st.running_mean) {
      Scalar& rm = (*st.running_mean)[c];
      Scalar& rv = (*st.running_var)[c];
      rm = static_cast<Scalar>((1 - st.momentum) * rm + st.momentum * mu);
      rv = static_cast<Scalar>((1 - st.momentum) * rv +
                               st.momentum * var * static_cast<double>(M) / (M - 1));
    }
  }
  std::vector<Var> inputs{x};
  if (gamma.defined()) inputs.push_back(gamma);
  if (beta.defined()) inputs.push_back(beta);
  return Var::make_op(std::move(y), "batch_norm", std::move(inputs),
                      [xhat, invstd, gamma, beta, N, C, inner, M](const Var& gv) {
    // Fused backward; its outputs cannot be differentiated again.
    const Scalar* g = gv.value().data();
    const Scalar* pg = gamma.defined() ? gamma.value().data() : nullptr;
    Tensor dx = Tensor::empty(xhat.shape());
    Tensor dgamma = Tensor::empty(Shape{C}), dbeta = Tensor::empty(Shape{C});
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      double sg = 0, sgh = 0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t base = (n * C + c) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          sg += g[base + i];
          sgh += g[base + i] * xhat[base + i];
        }
      }
      dbeta[c] = static_cast<Scalar>(sg);
      dgamma[c] = static_cast<Scalar>(sgh);
      const double scale = pg ? pg[c] : 1.0;
      const double k = scale * invstd[c] / static_cast<double>(M);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t base = (n * C + c) * inner;
        for (int64_t i = 0; i < inner; ++i)
          dx[base + i] = static_cast<Scalar>(k * (M * g[base + i] - sg - xhat[base + i] * sgh));
      }
    }
    std::vector<Var> grads{Var::make_op(std::move(dx), "batch_norm_backward", {gv}, nullptr)};
    if (gamma.defined())
      grads.push_back(Var::make_op(std::move(dgamma), "batch_norm_backward", {gv}, nullptr));
    if (beta.defined())
      grads.push_back(Var::make_op(std::move(dbeta), "batch_norm_backward", {gv}, nullptr));
    return grads;
  });
}

}  // namespace

Var batch_norm(const Var& x, const Var& gamma, const Var& beta, bool training,
               const BatchNormState& st) {
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
  if (training) return batch_norm_train(x, gamma, beta, st);

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
  return y;
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
