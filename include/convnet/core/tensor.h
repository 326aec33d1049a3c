#pragma once
// Tensor: a contiguous, row-major (NCHW for images) array of one DType on one Device that
// can take part in define-by-run autograd. A Tensor is a cheap handle: copies share the
// same data, as in PyTorch. reshape()/view()/detach() share storage; clone() copies.
// The default is float32 on the CPU; to(DType) and to(Device) convert (core/dtype.h).
// Elements are reachable only on their device and as their own type: data() is the
// float32 elements of a CPU tensor, and anything else is an error that says what the
// tensor is, never a silent conversion or copy.
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "convnet/core/dtype.h"
#include "convnet/core/layout.h"
#include "convnet/core/shape.h"
#include "convnet/core/storage.h"

namespace convnet {

class Generator;
class Tensor;
struct Node;

using GradHook = std::function<Tensor(const Tensor& grad)>;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements; views of a storage start here
  Shape shape;
  DType dtype = DType::float32;
  Device device;
  // A backend's arrangement of `storage` (core/layout.h); null = plain row-major. Atomic
  // because reading the elements of a const tensor may convert it in place.
  std::atomic<const Layout*> layout{nullptr};
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor (non-leaf)
  std::vector<GradHook> hooks;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction -------------------------------------------------------------
  static Tensor empty(const Shape& shape);  // uninitialized float32 on the CPU (as torch.empty)
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu(), const Layout* layout = nullptr);
  // Uninitialized, with t's dtype, device and layout (the output of an elementwise kernel).
  static Tensor empty_like(const Tensor& t);
  static Tensor empty_like(const Tensor& t, const Shape& shape);  // another shape, same layout
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const Shape& shape, std::vector<float> values);
  static Tensor scalar(float value) { return full({}, value); }
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.f, float std = 1.f);
  static Tensor rand(const Shape& shape, Generator& gen, float lo = 0.f, float hi = 1.f);

  // ---- shape and data -----------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  // The float32 elements of a CPU tensor, row-major (rewritten from a backend layout first,
  // see layout()); throws for another dtype or device, naming both.
  float* data();
  const float* data() const;
  // The elements as T, which must be the tensor's element type (float, bf16_t, f16_t,
  // int64_t, int32_t, uint8_t; bool tensors as uint8_t), on the CPU, row-major.
  template <class T>
  T* data_as();
  template <class T>
  const T* data_as() const;
  // The bytes, row-major, on whatever device: for kernels of that device only.
  void* raw_ptr();
  const void* raw_ptr() const;
  // Element access for tests and small tools: t.at({n, c, h, w}).
  float& at(std::initializer_list<int64_t> idx);
  float at(std::initializer_list<int64_t> idx) const;
  float item() const;  // the value of a one-element tensor
  std::vector<float> to_vector() const;
  void fill_(float v);
  void copy_(const Tensor& src);  // same numel; no autograd

  // reshape/view share storage and are recorded by autograd; one dim may be -1.
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor flatten(int64_t start_dim = 1) const;
  Tensor clone() const;   // a copy of the data, not attached to the graph
  Tensor detach() const;  // same data, not attached to the graph
  // A copy in another dtype (rounded to nearest even for bf16/fp16, truncated toward 0
  // for the integer types, x != 0 for bool), recorded by autograd between floating types
  // (the gradient is converted back); this tensor itself when the dtype is already `dtype`.
  Tensor to(DType dtype) const;
  // This tensor on another device; this tensor itself on its own device. Throws, naming
  // the devices, where this build or machine has no such device.
  Tensor to(const Device& device) const;
  // Makes this tensor's data that of `src` (shape, dtype, device and storage), keeping its
  // identity: every handle to it sees the change, as `param.data = src` in PyTorch
  // (Module::to uses it). Not recorded by autograd.
  void set_data_(const Tensor& src);

  // ---- autograd -----------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward pass reached this tensor
  void set_grad(const Tensor& g);
  void zero_grad();  // drops the gradient (as set_to_none=True)
  // Backward from a one-element tensor (seed 1), or from any tensor with a given seed.
  void backward() const;
  void backward(const Tensor& grad_output) const;
  // hook(grad) runs when this tensor's gradient is computed; its result, if defined,
  // replaces the gradient passed on (as torch.Tensor.register_hook).
  void register_hook(GradHook hook);
  const std::shared_ptr<Node>& grad_fn() const;

  // The storage's identity and contents version (core/storage.h): a backend that keeps a
  // derived copy of a tensor (a prepacked weight) knows it is still valid while both are the
  // same. Every non-const element accessor (data(), data_as, raw_ptr, stored_as) bumps the
  // version, as the caller may write.
  uint64_t storage_id() const;
  uint64_t version() const;

  // ---- physical layout (core/layout.h) ---------------------------------------------
  // The backend layout the elements are stored in; null = plain row-major, what data(),
  // data_as<T>() and raw_ptr() always give: they first rewrite a tensor stored otherwise
  // in place (every handle sees it), so code that is not a backend's never sees a layout.
  const Layout* layout() const;
  // The elements as they are stored, in whatever layout: for kernels only (checks the dtype
  // and that the tensor is on the CPU).
  template <class T>
  T* stored_as();
  template <class T>
  const T* stored_as() const;
  void* stored_ptr();  // the bytes as stored, on whatever device
  const void* stored_ptr() const;
  float* raw_data() { return stored_as<float>(); }
  const float* raw_data() const { return stored_as<float>(); }
  // This tensor if it is stored in `layout` already, else a copy stored so (not recorded by
  // autograd: for ops that need two operands in one layout, and backward functions).
  Tensor in_layout(const Layout* layout) const;

  TensorImpl* impl() const { return impl_.get(); }
  // The float32-on-CPU check of data(), raw_data() and the element accessors, for ops
  // that want their own name in the message: "<what>: expected a float32 tensor on the
  // cpu, got bfloat16 on cpu".
  void expect_cpu_float(const char* what) const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace convnet
