#include "core/tensor/autograd.h"

#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/tensor/ops.h"

namespace sngan {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { g_grad_enabled = previous_; }

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->shape = value.shape();
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
  node_->handles = 1;
}

void Var::set_requires_grad(bool on) {
  SNGAN_CHECK(is_leaf(), "set_requires_grad: expected a leaf, got the output of op '", op(), "'");
  node_->requires_grad = on;
}

Var Var::make_op(Tensor value, const char* op, std::vector<Var> inputs, BackwardFn backward) {
  Var out(std::move(value), false);
  out.node_->op = op;
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Var& in : inputs) any = any || in.requires_grad();
  if (!any) return out;
  out.node_->requires_grad = true;
  out.node_->inputs.reserve(inputs.size());
  for (const Var& in : inputs) out.node_->inputs.push_back(in.node_);
  out.node_->backward = std::move(backward);
  return out;
}

namespace {

// Nodes reachable from root through inputs that require a gradient, in topological order
// (every node after all of its inputs). The graph's edges, not Var handles: holding them keeps
// the structure, not the values. Iterative, so deep graphs do not overflow the stack.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  visited.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const std::shared_ptr<Node>& child = node->inputs[next++];
      if (child && child->requires_grad && visited.insert(child.get()).second)
        stack.emplace_back(child, 0);
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  return order;
}

// Runs the backward pass from root. Returns the gradient reached at each node in `wanted`
// (and, when accumulate_leaves, adds leaf gradients into Node::grad).
std::unordered_map<Node*, Var> run_backward(const Var& root, const Var& grad_output,
                                            bool create_graph, bool accumulate_leaves,
                                            const std::unordered_set<Node*>& wanted) {
  SNGAN_CHECK(root.defined(), "backward: expected a defined output");
  SNGAN_CHECK(root.requires_grad(), "backward: the output (op '", root.op(),
              "') does not require a gradient: no input requires one, or it was computed "
              "under NoGradGuard");
  Var seed = grad_output;
  if (!seed.defined()) {
    SNGAN_CHECK(root.numel() == 1, "backward: expected a one-element output or an explicit "
                "grad_output, got output shape ", root.shape().str());
    seed = Var(Tensor::full(root.shape(), Scalar(1)));
  }
  SNGAN_CHECK(seed.shape() == root.shape(), "backward: expected grad_output of shape ",
              root.shape().str(), ", got ", seed.shape().str());

  std::optional<NoGradGuard> no_grad;
  if (!create_graph) no_grad.emplace();

  // `order` holds every node until its turn and drops it after; without create_graph each
  // processed op also drops its closure (below), and with it the values it kept.
  std::vector<std::shared_ptr<Node>> order = topological_order(root.node_ptr());
  std::unordered_map<Node*, Var> grads;
  grads[root.node()] = seed;
  std::unordered_map<Node*, Var> found;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::shared_ptr<Node> self = std::move(*it);
    Node* node = self.get();
    auto g = grads.find(node);
    if (g == grads.end()) continue;
    Var gout = std::move(g->second);
    grads.erase(g);
    if (wanted.count(node)) found[node] = gout;
    SNGAN_CHECK(!node->released, "backward: op '", node->op, "' was already differentiated by a "
                "backward pass that freed its saved values (pass create_graph to differentiate twice)");
    if (node->inputs.empty()) {
      if (accumulate_leaves) {
        if (!node->grad.defined()) {
          node->grad = gout.value().clone();
        } else {
          Scalar* dst = node->grad.data();
          const Scalar* src = gout.value().data();
          for (int64_t i = 0; i < node->grad.numel(); ++i) dst[i] += src[i];
        }
      }
      continue;
    }
    SNGAN_CHECK(static_cast<bool>(node->backward), "op '", node->op,
                "' has no backward: it cannot be differentiated (again)");
    std::vector<Var> in_grads = node->backward(gout);
    SNGAN_CHECK(in_grads.size() == node->inputs.size(), "internal: op '", node->op, "' returned ",
                in_grads.size(), " gradients for ", node->inputs.size(), " inputs");
    const std::vector<std::shared_ptr<Node>> inputs = node->inputs;
    if (!create_graph) {  // free what this op saved for its backward
      node->backward = nullptr;
      node->inputs.clear();
      node->released = true;
    }
    for (size_t i = 0; i < in_grads.size(); ++i) {
      Node* in = inputs[i].get();
      if (!in->requires_grad || !in_grads[i].defined()) continue;
      SNGAN_CHECK(in_grads[i].shape() == in->shape, "internal: op '", node->op,
                  "' gave input ", i, " a gradient of shape ", in_grads[i].shape().str(),
                  ", expected ", in->shape.str());
      auto slot = grads.find(in);
      if (slot == grads.end())
        grads.emplace(in, in_grads[i]);
      else
        slot->second = add(slot->second, in_grads[i]);
    }
  }
  return found;
}

}  // namespace

void backward(const Var& root, const Var& grad_output, bool create_graph) {
  run_backward(root, grad_output, create_graph, /*accumulate_leaves=*/true, {});
}

std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs, bool create_graph,
                      const Var& grad_output) {
  std::unordered_set<Node*> wanted;
  for (const Var& v : inputs) {
    SNGAN_CHECK(v.requires_grad(), "grad: expected every input to require a gradient");
    wanted.insert(v.node());
  }
  auto found = run_backward(output, grad_output, create_graph, /*accumulate_leaves=*/false, wanted);
  std::vector<Var> result;
  for (const Var& v : inputs) {
    auto it = found.find(v.node());
    result.push_back(it != found.end() ? it->second : Var(Tensor::zeros(v.shape())));
  }
  return result;
}

}  // namespace sngan
