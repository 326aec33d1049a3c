#pragma once
#include <memory>
#include <vector>

#include "convnet/nn/module.h"

namespace convnet::nn {

// Runs its children in order; children are named "0", "1", ... like torch.nn.Sequential,
// or by the name given to add().
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> layers);
  Sequential& add(ModulePtr m);
  Sequential& add(const std::string& name, ModulePtr m);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return layers_.size(); }
  ModulePtr operator[](size_t i) const { return layers_.at(i); }
  // Replaces layer i (e.g. a new classifier head) keeping its name.
  void replace(size_t i, ModulePtr m);

 private:
  std::vector<ModulePtr> layers_;
};

}  // namespace convnet::nn
