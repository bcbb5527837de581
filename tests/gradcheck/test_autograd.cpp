// Autograd semantics: accumulation, no-grad scope, errors, and second-order gradients of a
// gradient-penalty-shaped objective.
#include "tests/gradcheck/gradcheck.h"

namespace sngan::testing {
namespace {

TEST(Autograd, ValueUsedTwiceAccumulates) {
  Var x(Tensor::from_vector(Shape{3}, {1.0, -2.0, 0.5}), true);
  Var y = sum(add(mul(x, x), x));  // dy/dx = 2x + 1
  backward(y);
  EXPECT_DOUBLE_EQ(x.grad()[0], 3.0);
  EXPECT_DOUBLE_EQ(x.grad()[1], -3.0);
  EXPECT_DOUBLE_EQ(x.grad()[2], 2.0);
  backward(sum(x));  // a second backward adds 1 to each
  EXPECT_DOUBLE_EQ(x.grad()[0], 4.0);
}

TEST(Autograd, NoGradRecordsNothing) {
  Var x(Tensor::full(Shape{2}, 1.0), true);
  Var y;
  {
    NoGradGuard guard;
    y = mul(x, x);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_THROW(backward(sum(y)), Error);
  Var z = mul(x, x);  // recording is back on after the scope
  EXPECT_TRUE(z.requires_grad());
}

TEST(Autograd, OpWithoutBackwardThrowsClearly) {
  Var x(Tensor::from_vector(Shape{4, 2}, {1, 2, 3, 4, 5, 6, 7, 9}), true);
  Var y = sum(square(batch_norm(x, Var(), Var(), true, {})));
  auto g = grad(y, {x}, /*create_graph=*/true);
  try {
    backward(sum(g[0]));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch_norm_backward"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("has no backward"), std::string::npos) << e.what();
  }
}

TEST(Autograd, NonScalarRootNeedsGradOutput) {
  Var x(Tensor::full(Shape{2}, 1.0), true);
  EXPECT_THROW(backward(mul(x, x)), Error);
}

TEST(Autograd, BackwardFreesTheGraphAndASecondPassThrows) {
  Var x(Tensor::full(Shape{1000}, 2.0), true);
  release_cached_memory();
  Var loss = sum(square(mul(x, x)));  // x^4: the two intermediates live only in the graph
  const size_t cached = cached_memory_bytes();
  backward(loss);
  EXPECT_DOUBLE_EQ(x.grad()[0], 32.0);  // 4 x^3
  // Both 1000-element intermediates went back to the pool during the pass.
  EXPECT_GE(cached_memory_bytes(), cached + 2 * 1000 * sizeof(Scalar));
  try {
    backward(loss);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already differentiated"), std::string::npos) << e.what();
  }
  EXPECT_DOUBLE_EQ(x.grad()[0], 32.0) << "the refused pass must not accumulate";
  // With create_graph the graph stays usable.
  Var kept = sum(square(mul(x, x)));
  backward(kept, Var(), /*create_graph=*/true);
  backward(kept, Var(), /*create_graph=*/true);
  EXPECT_DOUBLE_EQ(x.grad()[0], 96.0);
}

TEST(Autograd, AValueNoBackwardNeedsIsFreedWithItsLastVar) {
  Var x(Tensor::full(Shape{1000}, 2.0), true);
  Var b;
  release_cached_memory();
  size_t cached = 0;
  {
    Var a = add(x, x);  // add's backward needs no values: only the graph keeps `a`
    b = mul(add(a, x), x);
    cached = cached_memory_bytes();
  }
  EXPECT_GE(cached_memory_bytes(), cached + 1000 * sizeof(Scalar)) << "a's value was not freed";
  backward(sum(b));  // d/dx 3x^2 = 6x: the graph still works without the value
  EXPECT_DOUBLE_EQ(x.grad()[0], 12.0);
}

TEST(Autograd, GradDoesNotTouchLeafGrads) {
  Var x(Tensor::full(Shape{2}, 3.0), true);
  auto g = grad(sum(square(x)), {x});
  EXPECT_DOUBLE_EQ(g[0].value()[0], 6.0);
  EXPECT_FALSE(x.grad().defined());
}

// The gradient-penalty path: P(theta) = ||grad_x f(x; theta)||^2 for
// f = linear(leaky_relu(conv(x))), differentiated w.r.t. theta through create_graph, against
// central differences of P computed with first-order gradients.
TEST(Autograd, SecondOrderGradientPenaltyMatchesFiniteDifferences) {
  Rng rng(5);
  Tensor x = random_tensor(rng, Shape{2, 2, 5, 5});
  Tensor cw = random_tensor(rng, Shape{3, 2, 3, 3}), cb = random_tensor(rng, Shape{3});
  Tensor lw = random_tensor(rng, Shape{1, 3 * 3 * 3}), lb = random_tensor(rng, Shape{1});
  auto f = [](const Var& xv, const std::vector<Var>& p) {
    Var h = leaky_relu(conv2d(xv, p[0], p[1], {2, 1}), 0.1);
    return sum(linear(flatten(h), p[2], p[3]));
  };
  auto penalty = [&](const std::vector<Var>& p, bool create_graph) {
    Var xv(x.clone(), true);
    Var gx = grad(f(xv, p), {xv}, create_graph)[0];
    return sum(square(gx));
  };
  gradcheck([&](const std::vector<Var>& p) {
    if (!p[0].requires_grad()) {  // finite-difference probe
      EnableGradGuard enable;
      std::vector<Var> leaves;
      for (auto& v : p) leaves.emplace_back(v.value(), true);
      return penalty(leaves, false).detach();
    }
    return penalty(p, true);
  }, {cw, cb, lw, lb}, 3, {true, false, true, false});
}

}  // namespace
}  // namespace sngan::testing
