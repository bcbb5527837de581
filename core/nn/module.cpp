#include "core/nn/module.h"

namespace sngan {

std::vector<std::pair<std::string, Var>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Var>> out = params_;
  for (const auto& [name, child] : children_)
    for (auto& [sub, p] : child->named_parameters()) out.emplace_back(name + "." + sub, p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out = buffers_;
  for (const auto& [name, child] : children_)
    for (auto& [sub, b] : child->named_buffers()) out.emplace_back(name + "." + sub, b);
  return out;
}

std::vector<Var> Module::parameters() const {
  std::vector<Var> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_) child->train(on);
}

void Module::visit(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [name, child] : children_) child->visit(fn);
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

void Module::set_requires_grad(bool on) {
  for (auto& [name, p] : named_parameters()) p.set_requires_grad(on);
}

Var Module::register_parameter(const std::string& name, Tensor value) {
  Var v(std::move(value), true);
  params_.emplace_back(name, v);
  return v;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, value);
  return value;
}

std::shared_ptr<UnaryModule> Sequential::add(std::shared_ptr<UnaryModule> m) {
  register_module(std::to_string(layers_.size()), m);
  layers_.push_back(m);
  return m;
}

Var Sequential::forward(const Var& x) {
  Var h = x;
  for (auto& layer : layers_) h = layer->forward(h);
  return h;
}

}  // namespace sngan
