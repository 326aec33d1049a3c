#pragma once
#pragma GCC visibility push(default)
/// \file
/// Sequential: a module that runs its children one after the other, as torch.nn.Sequential.
#include <memory>
#include <vector>

#include "convnet/nn/module.h"

namespace convnet::nn {

/// Runs its children in order; children are named "0", "1", ... like torch.nn.Sequential,
/// or by the name given to add().
class Sequential : public Module {
 public:
  /// An empty Sequential; forward() returns its input.
  Sequential() = default;
  /// A Sequential of `layers`, named "0", "1", ... in order.
  /// \pre  no element of `layers` is null.
  /// \throws convnet::Error when an element is null.
  explicit Sequential(std::vector<ModulePtr> layers);
  /// Appends `m`, named by its index ("0", "1", ...). Returns *this, for chaining.
  /// \pre  `m` not null; no child has that name yet (one given to the other add()).
  /// \throws convnet::Error naming the name when `m` is null or the name is taken.
  Sequential& add(ModulePtr m);
  /// Appends `m` named `name`. Returns *this, for chaining.
  /// \pre  `m` not null; no child is called `name` yet.
  /// \throws convnet::Error naming `name` when `m` is null or the name is taken.
  Sequential& add(const std::string& name, ModulePtr m);
  /// Feeds `x` through every child in order, each called through its operator() (hooks run).
  /// \pre  what the first child accepts, and each child accepts the output of the one before.
  /// \post the last child's output; x itself when there is no child.
  /// \throws convnet::Error from the first child that refuses its input.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  /// The number of children.
  size_t size() const { return layers_.size(); }
  /// Child `i` (in order).
  /// \throws std::out_of_range when `i >= size()`.
  ModulePtr operator[](size_t i) const { return layers_.at(i); }
  /// Replaces layer i (for example a new classifier head) keeping its name.
  /// \pre  `i < size()`; `m` not null.
  /// \post `m` has the old layer's name, path and this Sequential's training mode.
  /// \throws convnet::Error when `i` is out of range (naming `i` and the size) or `m` is null.
  void replace(size_t i, ModulePtr m);

 private:
  std::vector<ModulePtr> layers_;
};

}  // namespace convnet::nn
#pragma GCC visibility pop
