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
//
// Memory: a node's value lives as long as a Var handle to it does. The graph's own edges
// (Node::inputs) do not keep values, only the structure: an op's backward keeps what it needs
// by capturing Vars (or Tensors) in its closure. So an intermediate that no backward needs
// (the output of an add, of a conv followed by an add, ...) is freed as soon as the caller
// drops its Var, and the rest when backward() has used them.
#pragma once

#include <atomic>
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
  Tensor value;  // dropped when the last Var handle goes (see above)
  Shape shape;   // the value's shape, kept for the graph after the value is dropped
  Tensor grad;   // leaves only: accumulated by backward(); undefined until the first backward
  bool requires_grad = false;
  std::vector<std::shared_ptr<Node>> inputs;  // graph edges
  BackwardFn backward;  // empty for leaves and for ops without a backward
  const char* op = "leaf";
  // Set once a backward pass without create_graph has run through this node and dropped its
  // inputs and closure (freeing the activations they held); a second pass is an error.
  bool released = false;
  std::atomic<int> handles{0};  // Var handles to this node
};

class Var {
 public:
  Var() = default;
  // A leaf. Parameters pass requires_grad = true.
  explicit Var(Tensor value, bool requires_grad = false);
  Var(const Var& o) noexcept : node_(o.node_) { retain(); }
  Var(Var&& o) noexcept : node_(std::move(o.node_)) {}
  Var& operator=(const Var& o) noexcept {
    if (node_ != o.node_) {
      Var keep(o);
      release();
      node_ = std::move(keep.node_);
    }
    return *this;
  }
  Var& operator=(Var&& o) noexcept {
    if (this != &o) {
      release();
      node_ = std::move(o.node_);
    }
    return *this;
  }
  ~Var() { release(); }

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& value() { return node_->value; }
  const Shape& shape() const { return node_->shape; }
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
  const std::shared_ptr<Node>& node_ptr() const { return node_; }  // internal: the graph node

  // Internal: the result of an op.
  static Var make_op(Tensor value, const char* op, std::vector<Var> inputs, BackwardFn backward);

 private:
  void retain() {
    if (node_) node_->handles.fetch_add(1, std::memory_order_relaxed);
  }
  // Drops this handle; the last one also drops the node's value (the graph keeps the node).
  void release() {
    if (node_ && node_->handles.fetch_sub(1, std::memory_order_acq_rel) == 1) node_->value = Tensor();
    node_.reset();
  }

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
