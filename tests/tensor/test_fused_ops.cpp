// Fused ops against the op sequences they replace, in float: the same bits, forward and
// backward (conv2d + leaky relu, batch norm + relu, transposed conv + bias).
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "core/tensor/ops.h"
#include "core/tensor/rng.h"

namespace sngan {
namespace {

Tensor rnd(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  Tensor t = Tensor::empty(s);
  rng.fill_uniform(t, -1, 1);
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(Scalar)) == 0;
}

using Fn = std::function<Var(const std::vector<Var>&)>;

// Output and every input gradient (for loss <f(x), R>) of fused and composed agree bit for bit.
void expect_same(const Fn& fused, const Fn& composed, const std::vector<Tensor>& inputs) {
  auto run = [&](const Fn& f, Tensor* out) {
    std::vector<Var> vs;
    for (const Tensor& t : inputs) vs.emplace_back(t.clone(), true);
    Var y = f(vs);
    *out = y.value().clone();
    backward(y, Var(rnd(y.shape(), 99)));
    std::vector<Tensor> grads;
    for (Var& v : vs) grads.push_back(v.grad());
    return grads;
  };
  Tensor y1, y2;
  const std::vector<Tensor> g1 = run(fused, &y1), g2 = run(composed, &y2);
  EXPECT_TRUE(same_bits(y1, y2)) << "outputs differ";
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_TRUE(same_bits(g1[i], g2[i])) << "gradient " << i;
}

TEST(FusedOps, Conv2dLeakyReluEqualsConvThenLeakyRelu) {
  for (Scalar slope : {0.1f, 0.2f, 0.0f}) {
    for (Conv2dOptions o : {Conv2dOptions{1, 1}, Conv2dOptions{2, 1}}) {
      SCOPED_TRACE(slope);
      expect_same([o, slope](auto& v) { return conv2d_leaky_relu(v[0], v[1], v[2], o, slope); },
                  [o, slope](auto& v) { return leaky_relu(conv2d(v[0], v[1], v[2], o), slope); },
                  {rnd(Shape{4, 8, 12, 12}, 1), rnd(Shape{16, 8, 4, 4}, 2), rnd(Shape{16}, 3)});
    }
  }
}

TEST(FusedOps, BatchNormReluEqualsBatchNormThenRelu) {
  for (bool training : {true, false}) {
    Tensor rm1 = rnd(Shape{6}, 4), rv1 = Tensor::full(Shape{6}, 1.5f);
    Tensor rm2 = rm1.clone(), rv2 = rv1.clone();
    BatchNormState s1{&rm1, &rv1, 0.1f, 1e-5f}, s2{&rm2, &rv2, 0.1f, 1e-5f};
    expect_same([&](auto& v) { return batch_norm_relu(v[0], v[1], v[2], training, s1); },
                [&](auto& v) { return relu(batch_norm(v[0], v[1], v[2], training, s2)); },
                {rnd(Shape{8, 6, 5, 5}, 5), rnd(Shape{6}, 6), rnd(Shape{6}, 7)});
    EXPECT_TRUE(same_bits(rm1, rm2) && same_bits(rv1, rv2)) << "running statistics";
  }
}

TEST(FusedOps, TransposedConvBiasEqualsAddingTheBias) {
  ConvTranspose2dOptions o{2, 1, 0};
  expect_same([o](auto& v) { return conv_transpose2d(v[0], v[1], v[2], o); },
              [o](auto& v) {
                return add(conv_transpose2d(v[0], v[1], Var(), o), reshape(v[2], Shape{1, 5, 1, 1}));
              },
              {rnd(Shape{3, 4, 6, 6}, 8), rnd(Shape{4, 5, 4, 4}, 9), rnd(Shape{5}, 10)});
}

}  // namespace
}  // namespace sngan
