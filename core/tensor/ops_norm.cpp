// Batch norm (fused kernel in training mode) and layer norm (composed of differentiable ops).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/tensor/ops.h"

namespace sngan {

namespace {

Shape channel_shape(const Shape& xs) {  // (1, C) or (1, C, 1, 1)
  return xs.ndim() == 2 ? Shape{1, xs[1]} : Shape{1, xs[1], 1, 1};
}

// Batch statistics, normalisation and (with relu) the activation in one pass per channel.
// The backward recomputes x-hat = (x - mean) * invstd from x, bit for bit as the forward did,
// so no normalised copy is kept; with relu it reads the mask from the output.
Var batch_norm_train(const Var& x, const Var& gamma, const Var& beta, const BatchNormState& st,
                     bool relu) {
  const Shape& xs = x.shape();
  const int64_t N = xs[0], C = xs[1], inner = xs.ndim() == 4 ? xs[2] * xs[3] : 1;
  const int64_t M = N * inner;
  SNGAN_CHECK(M > 1, "batch_norm: training needs more than one value per channel, got shape ",
              xs.str());
  Tensor y = Tensor::empty(xs);
  std::vector<double> mean(static_cast<size_t>(C)), invstd(static_cast<size_t>(C));
  const Scalar* px = x.value().data();
  const Scalar* pg = gamma.defined() ? gamma.value().data() : nullptr;
  const Scalar* pb = beta.defined() ? beta.value().data() : nullptr;
  const Scalar floor = relu ? Scalar(0) : -std::numeric_limits<Scalar>::infinity();
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
    mean[static_cast<size_t>(c)] = mu;
    invstd[static_cast<size_t>(c)] = is;
    const Scalar scale = pg ? pg[c] : Scalar(1), shift = pb ? pb[c] : Scalar(0);
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const Scalar h = static_cast<Scalar>((px[base + i] - mu) * is);
        y[base + i] = std::max(h * scale + shift, floor);
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
  const Tensor out = relu ? y : Tensor();  // the relu mask
  return Var::make_op(std::move(y), relu ? "batch_norm_relu" : "batch_norm", std::move(inputs),
                      [x, out, mean, invstd, gamma, beta, N, C, inner, M](const Var& gv) {
    // Fused backward; its outputs cannot be differentiated again.
    const Scalar* px = x.value().data();
    const Scalar* mask = out.defined() ? out.data() : nullptr;
    const Scalar* pg = gamma.defined() ? gamma.value().data() : nullptr;
    // The incoming gradient, zeroed where the relu was off.
    Tensor masked;
    const Scalar* g = gv.value().data();
    if (mask) {
      masked = Tensor::empty(gv.shape());
      Scalar* m = masked.data();
      const int64_t n = masked.numel();
#pragma omp parallel for schedule(static) if (n > 32768)
      for (int64_t i = 0; i < n; ++i) m[i] = mask[i] > 0 ? g[i] : Scalar(0);
      g = m;
    }
    Tensor dx = Tensor::empty(x.shape());
    Tensor dgamma = Tensor::empty(Shape{C}), dbeta = Tensor::empty(Shape{C});
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) {
      const double mu = mean[static_cast<size_t>(c)], is = invstd[static_cast<size_t>(c)];
      double sg = 0, sgh = 0;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t base = (n * C + c) * inner;
        for (int64_t i = base; i < base + inner; ++i) {
          const Scalar xhat = static_cast<Scalar>((px[i] - mu) * is);
          sg += g[i];
          sgh += g[i] * xhat;
        }
      }
      dbeta[c] = static_cast<Scalar>(sg);
      dgamma[c] = static_cast<Scalar>(sgh);
      const double scale = pg ? pg[c] : 1.0;
      const double k = scale * static_cast<Scalar>(is) / static_cast<double>(M);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t base = (n * C + c) * inner;
        for (int64_t i = base; i < base + inner; ++i) {
          const Scalar xhat = static_cast<Scalar>((px[i] - mu) * is);
          dx[i] = static_cast<Scalar>(k * (M * g[i] - sg - xhat * sgh));
        }
      }
    }
    const char* name = mask ? "batch_norm_relu_backward" : "batch_norm_backward";
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
