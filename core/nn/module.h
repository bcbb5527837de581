// Module: the base of every network piece. Holds named parameters (Vars that require
// gradients), named buffers (state that is saved but not trained: BN running statistics,
// spectral-norm u and v) and named children. Names follow the tree: "blocks.0.conv.weight".
//
// Parameters and buffers are shared handles: the optimizer and the checkpoint code update them
// in place (Tensor::copy_from), never by reassigning, so every holder sees the change.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor/autograd.h"

namespace sngan {

class Module {
 public:
  virtual ~Module() = default;

  std::vector<std::pair<std::string, Var>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Var> parameters() const;
  int64_t parameter_count() const;

  // Training mode (batch statistics, power-iteration steps) vs evaluation mode; recursive.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();
  void set_requires_grad(bool on);

  // Calls fn on this module, then on every descendant, depth first in registration order.
  void visit(const std::function<void(Module&)>& fn);

 protected:
  Var register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }
  virtual void on_train(bool) {}

 private:
  bool training_ = true;
  std::vector<std::pair<std::string, Var>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// A module mapping one Var to one Var (layers, activations, blocks).
class UnaryModule : public Module {
 public:
  virtual Var forward(const Var& x) = 0;
  Var operator()(const Var& x) { return forward(x); }
};

// Applies its children in order.
class Sequential : public UnaryModule {
 public:
  Sequential() = default;
  std::shared_ptr<UnaryModule> add(std::shared_ptr<UnaryModule> m);
  Var forward(const Var& x) override;
  size_t size() const { return layers_.size(); }

 private:
  std::vector<std::shared_ptr<UnaryModule>> layers_;
};

}  // namespace sngan
