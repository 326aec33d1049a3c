#pragma once
// Module: a layer or a network. Holds named parameters (trainable tensors), named
// buffers (state such as BatchNorm running statistics) and named child modules;
// names join with '.' like PyTorch's state_dict keys ("features.0.weight").
// A module never contains backward code: forward() composes ops.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::nn {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  // Call modules through operator() (never forward() directly) so that forward hooks
  // run: they are how summaries, feature-map pictures and profiles see every layer.
  Tensor operator()(const Tensor& x);
  using ForwardHook = std::function<void(Module& m, const Tensor& input, const Tensor& output)>;
  // Returns an id for remove_forward_hook().
  int register_forward_hook(ForwardHook hook);
  void remove_forward_hook(int id);
  // "Conv2d", "Sequential", ...; extra_repr() is the argument list for printing.
  virtual std::string type_name() const = 0;
  virtual std::string extra_repr() const { return ""; }

  // Parameters, buffers and modules, with dotted names, in registration order.
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<Tensor> trainable_parameters() const;  // those with requires_grad
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // All modules below (and including, with name "") this one, depth first.
  std::vector<std::pair<std::string, Module*>> named_modules();
  // Parameters and buffers by name (torchvision-compatible keys).
  std::map<std::string, Tensor> state_dict() const;

  // Converts every floating parameter and buffer (integer buffers keep their dtype) to
  // `dtype`, or moves every parameter and buffer to `device`, in place: the handles held by
  // the layers see the change, as torch.nn.Module.to. Gradients are dropped. Returns *this.
  Module& to(DType dtype);
  Module& to(const Device& device);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Freezing: requires_grad(false) on every parameter below this module.
  void requires_grad_(bool on);
  void zero_grad();
  int64_t num_parameters(bool trainable_only = false) const;

  // The dotted path of this module inside the network it was registered in ("" at the
  // top); error messages use label(): "features.3 (Conv2d)".
  const std::string& path() const { return path_; }
  std::string label() const;
  // Multi-line, indented, PyTorch-like description.
  std::string repr(int indent = 0) const;

 protected:
  // Return the handle (it shares data with the registered tensor).
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor t);
  // Replace a registered parameter (e.g. a new classifier head); same name.
  void set_parameter(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void replace_child(const std::string& name, std::shared_ptr<Module> m);

  bool training_ = true;

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

using ModulePtr = std::shared_ptr<Module>;

}  // namespace convnet::nn
