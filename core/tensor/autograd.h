// Reverse-mode automatic differentiation.
//
// A Var is a shared handle to a Node in the graph: the value, the accumulated gradient of a
// leaf, the inputs and a backward closure. Backward closures are written with the same
// differentiable ops as the forward pass, so a gradient computed with create_graph = true is
// itself a Var in the graph and can be differentiated again (gradient penalties need
// d/dtheta ||grad_x D(x)||).
//
// Ops record a node only when gradient mode is on (no NoGradGuard alive on this thread) and at
// least one input requires a gradient; otherwise they only compute the value.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace sngan {

class Var;
// Given the gradient of the loss w.r.t. a node's value, returns one gradient per input
// (an undefined Var where an input gets no gradient).
using BackwardFn = std::function<std::vector<Var>(const Var& grad_output)>;

struct Node {
  Tensor value;
  Tensor grad;  // leaves only: accumulated by backward(); undefined until the first backward
  bool requires_grad = false;
  std::vector<Var> inputs;
  BackwardFn backward;  // empty for leaves and for ops without a backward
  const char* op = "leaf";
  // Set once a backward pass without create_graph has run through this node and dropped its
  // inputs and closure (freeing the activations they held); a second pass is an error.
  bool released = false;
};

class Var {
 public:
  Var() = default;
  // A leaf. Parameters pass requires_grad = true.
  explicit Var(Tensor value, bool requires_grad = false);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  int64_t dim(int i) const { return node_->value.dim(i); }
  int64_t numel() const { return node_->value.numel(); }
  Scalar item() const { return node_->value.item(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  bool is_leaf() const { return node_ && node_->inputs.empty(); }
  const char* op() const { return node_->op; }

  // The accumulated gradient of a leaf (undefined before the first backward or after zero_grad).
  Tensor& grad() { return node_->grad; }
  const Tensor& grad() const { return node_->grad; }
  void zero_grad() { node_->grad = Tensor(); }
  // Leaves only: whether backward computes a gradient for this Var (e.g. off for D's weights
  // during the generator step).
  void set_requires_grad(bool on);

  // A new leaf sharing this value, cut from the graph.
  Var detach() const { return Var(node_->value, false); }

  Node* node() const { return node_.get(); }

  // Internal: the result of an op.
  static Var make_op(Tensor value, const char* op, std::vector<Var> inputs, BackwardFn backward);

 private:
  std::shared_ptr<Node> node_;
};

// Is gradient recording on for this thread?
bool grad_enabled();

// While alive, ops on this thread record no graph (sampling, evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// While alive, ops on this thread record the graph again (inside a NoGradGuard).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Accumulates d root / d leaf into leaf.grad() for every leaf that requires a gradient.
// root must hold one element unless grad_output (same shape as root) is given.
// With create_graph the backward pass is recorded, so gradients of leaves' gradients can be
// taken later through grad(); leaf.grad() still receives a plain Tensor.
// Without create_graph the pass frees the graph behind it as it goes (each op's saved inputs,
// as PyTorch does without retain_graph): peak memory stays near that of the forward pass, and
// a second backward through the same ops throws. backward() and grad() alike.
void backward(const Var& root, const Var& grad_output = Var(), bool create_graph = false);

// Returns d output / d input for each input (zeros where output does not depend on it),
// without touching any leaf's grad(). With create_graph the returned Vars are differentiable.
std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs,
                      bool create_graph = false, const Var& grad_output = Var());

}  // namespace sngan
