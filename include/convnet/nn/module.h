#pragma once
#pragma GCC visibility push(default)
/// \file
/// Module: a layer or a network (torch.nn.Module). Holds named parameters (trainable
/// tensors), named buffers (state such as BatchNorm running statistics) and named child
/// modules; names join with '.' like PyTorch's state_dict keys ("features.0.weight").
/// A module never contains backward code: forward() composes ops.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::nn {

/// The base of every layer and network, as torch.nn.Module: forward() computes the output,
/// and the module owns its parameters, buffers and child modules under dotted names.
/// Subclasses register what they own in their constructor (register_parameter,
/// register_buffer, register_module) and implement forward() and type_name().
class Module {
 public:
  virtual ~Module() = default;
  /// The computation of this module on input `x` (torch.nn.Module.forward). Call the module
  /// through operator() instead, so that forward hooks run.
  /// \pre  what the layer accepts (its own documentation says: shape, dtype, device).
  /// \post the output; recorded by autograd as the ops it composes are.
  /// \throws convnet::Error from the ops, naming this module's label().
  virtual Tensor forward(const Tensor& x) = 0;
  /// Runs forward(x), then the forward hooks in registration order. Call modules through
  /// operator() (never forward() directly) so that forward hooks run: they are how
  /// summaries, feature-map pictures and profiles see every layer.
  /// \pre  as forward().
  /// \post forward(x)'s result; each hook has been called with (*this, x, result). While an
  ///       ONNX trace is active its ops are recorded under this module's path().
  /// \throws convnet::Error as forward(), or whatever a hook throws.
  Tensor operator()(const Tensor& x);
  /// A forward hook: called with the module, its input and its output after each forward
  /// pass (as torch.nn.Module.register_forward_hook, without changing the output).
  using ForwardHook = std::function<void(Module& m, const Tensor& input, const Tensor& output)>;
  /// Adds `hook`, run after every later call of operator().
  /// \post returns an id for remove_forward_hook(); ids are not reused on this module.
  int register_forward_hook(ForwardHook hook);
  /// Removes the hook with id `id`; an unknown id is ignored. A hook may remove itself.
  void remove_forward_hook(int id);
  /// The class name as PyTorch prints it: "Conv2d", "Sequential", ...
  virtual std::string type_name() const = 0;
  /// The argument list for printing ("3, 64, kernel_size=(3, 3), ..."); empty by default.
  virtual std::string extra_repr() const { return ""; }

  /// The defined parameters with dotted names, in registration order: this module's own,
  /// then each child's, depth first (as torch.nn.Module.named_parameters).
  /// \post with `recurse` false, this module's own parameters only. The tensors are handles:
  ///       they share data with the module's.
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  /// The tensors of named_parameters(recurse), in the same order.
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// The parameters below this module that require a gradient (not frozen), in order.
  std::vector<Tensor> trainable_parameters() const;  // those with requires_grad
  /// The defined buffers with dotted names, in registration order, as named_parameters().
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  /// The direct children with their names, in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  /// All modules below (and including, with name "") this one, depth first, each before its
  /// children (as torch.nn.Module.named_modules).
  /// \post the pointers are valid while the modules live.
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// Parameters and buffers by dotted name (torchvision-compatible keys), as
  /// torch.nn.Module.state_dict; a std::map, so the keys are sorted.
  /// \post the tensors are handles that share data with the module's (no copies).
  std::map<std::string, Tensor> state_dict() const;

  /// Converts every floating parameter and buffer (integer buffers keep their dtype) to
  /// `dtype` in place: the handles held by the layers see the change, as torch.nn.Module.to.
  /// \pre  `dtype` is a floating dtype (float32, bfloat16, float16).
  /// \post every floating parameter and buffer below this module has dtype `dtype`; those
  ///       converted have lost their gradient and kept requires_grad (tensors already in
  ///       `dtype` are untouched). Returns *this.
  /// \throws convnet::Error naming type_name() and the dtype when it is not floating.
  Module& to(DType dtype);
  /// Moves every parameter and buffer to `device` in place, as torch.nn.Module.to.
  /// \pre  `device` is usable in this build and on this machine.
  /// \post every parameter and buffer below this module is on `device`; those moved have
  ///       lost their gradient (tensors already there are untouched). Returns *this.
  /// \throws convnet::Error naming the devices when a tensor cannot be moved there.
  Module& to(const Device& device);

  /// Sets training mode (`on`) or evaluation mode on this module and every module below it
  /// (as torch.nn.Module.train). Dropout and BatchNorm behave differently in each.
  void train(bool on = true);
  /// Evaluation mode: train(false).
  void eval() { train(false); }
  /// Whether this module is in training mode (modules start in training mode).
  bool is_training() const { return training_; }
  /// Freezing: sets requires_grad to `on` on every parameter below this module
  /// (as torch.nn.Module.requires_grad_).
  void requires_grad_(bool on);
  /// Drops the gradient of every parameter below this module (as
  /// torch.nn.Module.zero_grad with set_to_none=True).
  void zero_grad();
  /// The number of parameter elements below this module; with `trainable_only`, of those
  /// that require a gradient.
  int64_t num_parameters(bool trainable_only = false) const;

  /// The dotted path of this module inside the network it was registered in ("" at the
  /// top); error messages use label(): "features.3 (Conv2d)".
  const std::string& path() const { return path_; }
  /// "path (Type)", or type_name() alone at the top: how error messages name this module.
  std::string label() const;
  /// Multi-line, indented, PyTorch-like description: `Type(extra_repr)` with one indented
  /// line per child; `indent` is the indentation of the closing parenthesis.
  std::string repr(int indent = 0) const;

 protected:
  /// Registers `t` as parameter `name` (torch.nn.Module.register_parameter) and returns the
  /// handle (it shares data with the registered tensor). An undefined `t` is kept as a
  /// placeholder that named_parameters() skips.
  /// \pre  no parameter of this module is called `name` yet.
  /// \post a defined `t` has requires_grad = `requires_grad`.
  /// \throws convnet::Error naming type_name() and `name` when the name is taken.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  /// Registers `t` as buffer `name` (torch.nn.Module.register_buffer) and returns the
  /// handle. An undefined `t` is kept as a placeholder that named_buffers() skips.
  Tensor register_buffer(const std::string& name, Tensor t);
  /// Replaces a registered parameter (for example a new classifier head), keeping its name
  /// and place in the order; `t`'s requires_grad is left as it is.
  /// \pre  a parameter called `name` is registered.
  /// \throws convnet::Error naming type_name() and `name` when there is none.
  void set_parameter(const std::string& name, Tensor t);
  /// Registers `m` as child `name` (torch.nn.Module.register_module) and returns it.
  /// \pre  `m` not null; no child of this module is called `name` yet.
  /// \post `m` and the modules below it have their path() under this module's.
  /// \throws convnet::Error naming type_name() and `name` when `m` is null or the name is taken.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  /// As register_module(), for a std::shared_ptr<Module>, without returning it.
  /// \pre  `m` not null; no child of this module is called `name` yet.
  /// \post `m` and the modules below it have their path() under this module's.
  /// \throws convnet::Error naming type_name() and `name` when `m` is null or the name is taken.
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  /// Replaces child `name` by `m`, keeping the name and the order.
  /// \pre  `m` not null; a child called `name` exists.
  /// \post `m` has the old child's path and this module's training mode.
  /// \throws convnet::Error naming type_name() and `name` when `m` is null or there is no such child.
  void replace_child(const std::string& name, std::shared_ptr<Module> m);

  bool training_ = true;  ///< Training mode (see train()); read by forward() implementations.

 private:
  void set_path(const std::string& path);
  // std::map would reorder; registration order is the order PyTorch prints and iterates.
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::string path_;
  std::vector<std::pair<int, ForwardHook>> forward_hooks_;
  int next_hook_id_ = 0;
};

/// A shared handle on a module, as models hold their layers.
using ModulePtr = std::shared_ptr<Module>;

}  // namespace convnet::nn
#pragma GCC visibility pop
