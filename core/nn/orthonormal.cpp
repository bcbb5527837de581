#include "core/nn/orthonormal.h"

namespace sngan {

Var orthonormal_penalty(const Var& weight) {
  const Shape& s = weight.shape();
  SNGAN_CHECK(s.ndim() >= 2, "orthonormal penalty: expected a weight with at least 2 dimensions, "
              "got ", s.str());
  const int64_t rows = s[0], cols = weight.numel() / rows;
  Var w = reshape(weight, Shape{rows, cols});  // (out, in*kh*kw)
  const bool wide = rows < cols;
  const int64_t n = wide ? rows : cols;
  Var gram = wide ? matmul(w, w, false, true) : matmul(w, w, true, false);  // (n, n)
  Tensor eye = Tensor::zeros(Shape{n, n});
  for (int64_t i = 0; i < n; ++i) eye[i * n + i] = 1;
  return sum(square(sub(gram, Var(eye))));
}

Var orthonormal_penalty(const std::vector<Var>& weights) {
  SNGAN_CHECK(!weights.empty(), "orthonormal penalty: expected at least one weight");
  Var total;
  for (const Var& w : weights) {
    Var p = orthonormal_penalty(w);
    total = total.defined() ? add(total, p) : p;
  }
  return total;
}

}  // namespace sngan
