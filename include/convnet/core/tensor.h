#pragma once
#pragma GCC visibility push(default)
/// \file
/// Tensor: a contiguous, row-major (NCHW for images) array of one DType on one Device that
/// can take part in define-by-run autograd (torch.Tensor). A Tensor is a cheap handle:
/// copies share the same data, as in PyTorch. reshape()/view()/detach() share storage;
/// clone() copies. The default is float32 on the CPU; to(DType) and to(Device) convert
/// (core/dtype.h). Elements are reachable only on their device and as their own type:
/// data() is the float32 elements of a CPU tensor, and anything else is an error that says
/// what the tensor is, never a silent conversion or copy.
///
/// Undefined tensors: the members that read a tensor's properties or elements throw
/// convnet::Error on an undefined (default-constructed) tensor ("Tensor: use of an
/// undefined tensor"); defined(), requires_grad(), is_leaf(), grad(), zero_grad(), impl()
/// and impl_ptr() accept one; set_grad() requires a defined tensor (unchecked).
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

/// A gradient hook (Tensor::register_hook): receives a tensor's gradient during backward and
/// returns a replacement, or an undefined Tensor to keep the gradient as it is.
using GradHook = std::function<Tensor(const Tensor& grad)>;
/// A hook run after a leaf's gradient is accumulated (Tensor::register_post_accumulate_grad_hook):
/// receives the leaf, whose grad() is final for this backward.
using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

/// The shared state behind Tensor handles: the storage and its interpretation, and the
/// autograd bookkeeping. Library code and backends use it; users go through Tensor.
struct TensorImpl {
  std::shared_ptr<Storage> storage;  ///< The bytes; shared by views.
  int64_t offset = 0;  ///< in elements; views of a storage start here
  Shape shape;  ///< The sizes of the dimensions.
  DType dtype = DType::float32;  ///< The element type.
  Device device;  ///< Where the storage is.
  /// A backend's arrangement of `storage` (core/layout.h); null = plain row-major. Atomic
  /// because reading the elements of a const tensor may convert it in place.
  std::atomic<const Layout*> layout{nullptr};
  bool requires_grad = false;  ///< Whether autograd computes a gradient for this tensor.
  std::shared_ptr<TensorImpl> grad;  ///< accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     ///< the op that produced this tensor (non-leaf)
  std::vector<GradHook> hooks;  ///< Run on the gradient during backward, in order.
  /// Run on a leaf after its gradient is accumulated, in order.
  std::vector<std::pair<int64_t, PostAccumulateGradHook>> post_accumulate_hooks;
};

/// A handle to an n-dimensional array with autograd (torch.Tensor); see the file comment.
/// Copying a Tensor copies the handle, not the data.
class Tensor {
 public:
  /// An undefined tensor (defined() is false), as a missing optional argument or gradient.
  Tensor() = default;
  /// A handle to `impl` (shared, not copied); null gives an undefined tensor.
  /// \post impl() == `impl.get()`.
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction -------------------------------------------------------------
  /// An uninitialized float32 tensor on the CPU (as torch.empty).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU, row-major, requires_grad() false; the elements
  ///       are arbitrary (NaN with CONVNET_POISON_EMPTY set, see core/storage.h).
  /// \throws convnet::Error for a negative size, naming the shape; when out of memory.
  static Tensor empty(const Shape& shape);
  /// An uninitialized tensor of `dtype` on `device`, stored in `layout` (null = row-major),
  /// as torch.empty(shape, dtype=..., device=...).
  /// \pre  every size of `shape` is >= 0; `layout` is null or `layout->fits(shape)`.
  /// \post shape(), dtype(), device() and layout() are the arguments; requires_grad() false;
  ///       the elements are arbitrary.
  /// \throws convnet::Error for a negative size or a layout that does not fit, naming the
  ///        shape (and the layout); for a device without an allocator (a CUDA device in a
  ///        build without a CUDA backend); when out of memory.
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu(), const Layout* layout = nullptr);
  /// Uninitialized, with t's dtype, device and layout (the output of an elementwise kernel).
  /// As torch.empty_like, except that the layout is kept too.
  /// \pre  `t` is defined.
  /// \post the shape, dtype, device and layout of `t`; requires_grad() false.
  /// \throws convnet::Error for an undefined `t`; when out of memory.
  static Tensor empty_like(const Tensor& t);
  /// As above with another shape: `t`'s dtype, device and layout.
  /// \pre  `t` is defined; the sizes of `shape` are >= 0; `t`'s layout (if any) fits `shape`.
  /// \post shape() == `shape`, the dtype, device and layout of `t`.
  /// \throws convnet::Error for an undefined `t`, a negative size or a layout that does not
  ///        fit `shape` (naming both); when out of memory.
  static Tensor empty_like(const Tensor& t, const Shape& shape);
  /// A float32 CPU tensor of zeros (as torch.zeros).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU, row-major, every element 0.
  /// \throws convnet::Error for a negative size, naming the shape.
  static Tensor zeros(const Shape& shape);
  /// A float32 CPU tensor of ones (as torch.ones).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU, row-major, every element 1.
  /// \throws convnet::Error for a negative size, naming the shape.
  static Tensor ones(const Shape& shape);
  /// A float32 CPU tensor filled with `value` (as torch.full).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU, row-major, every element `value`.
  /// \throws convnet::Error for a negative size, naming the shape.
  static Tensor full(const Shape& shape, float value);
  /// A float32 CPU tensor holding `values` in row-major order (as
  /// torch.tensor(values).reshape(shape)).
  /// \pre  `values.size()` == `shape_numel(shape)`.
  /// \post shape() == `shape`, float32, CPU, row-major; to_vector() == `values`.
  /// \throws convnet::Error when the counts differ, naming the count and the shape.
  static Tensor from_vector(const Shape& shape, std::vector<float> values);
  /// A 0-dimensional float32 CPU tensor (shape ()) holding `value` (as torch.tensor(value)).
  /// \post shape() is (), numel() is 1, item() == `value`.
  static Tensor scalar(float value) { return full({}, value); }
  /// A float32 CPU tensor of normal draws with mean `mean` and standard deviation `std`,
  /// from `gen` in row-major order (as `torch.randn(shape, generator=gen) * std + mean`).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU; `gen` has advanced by the draws (Generator::normal).
  /// \throws convnet::Error for a negative size, naming the shape.
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.f, float std = 1.f);
  /// A float32 CPU tensor of uniform draws in [lo, hi), from `gen` in row-major order (as
  /// `torch.rand(shape, generator=gen) * (hi - lo) + lo`).
  /// \pre  every size of `shape` is >= 0.
  /// \post shape() == `shape`, float32, CPU; `gen` has advanced by numel() draws.
  /// \throws convnet::Error for a negative size, naming the shape.
  static Tensor rand(const Shape& shape, Generator& gen, float lo = 0.f, float hi = 1.f);

  // ---- shape and data -----------------------------------------------------------
  /// Whether this handle refers to a tensor (false for a default-constructed Tensor).
  bool defined() const { return impl_ != nullptr; }
  /// The sizes of the dimensions (as torch.Tensor.shape).
  /// \throws convnet::Error for an undefined tensor.
  const Shape& shape() const;
  /// The number of dimensions (as torch.Tensor.dim()).
  /// \throws convnet::Error for an undefined tensor.
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  /// The size of dimension `d` (as torch.Tensor.size(d)); negative d counts from the end.
  /// \pre  -dim() <= `d` < dim().
  /// \throws convnet::Error when `d` is out of range, naming `d` and the shape.
  int64_t size(int64_t d) const;
  /// The number of elements: the product of the sizes, 1 for shape () (as torch.numel).
  /// \throws convnet::Error for an undefined tensor.
  int64_t numel() const;
  /// The element type.
  /// \throws convnet::Error for an undefined tensor.
  DType dtype() const;
  /// The device the elements are on.
  /// \throws convnet::Error for an undefined tensor.
  Device device() const;
  /// The float32 elements of a CPU tensor, row-major (rewritten from a backend layout first,
  /// see layout()); throws for another dtype or device, naming both.
  /// \pre  dtype() is float32 and device() is the CPU.
  /// \post numel() elements, row-major; layout() is null afterwards (the rewrite happens in
  ///       place, every handle sees it); version() has changed (the caller may write).
  /// \throws convnet::Error for another dtype or device, naming both ("Tensor::data:
  ///        expected a float32 tensor on the cpu, got bfloat16 on cpu ...").
  float* data();
  /// As above, read-only; the version does not change.
  const float* data() const;
  /// The elements as T, which must be the tensor's element type (float, bf16_t, f16_t,
  /// int64_t, int32_t, uint8_t; bool tensors as uint8_t), on the CPU, row-major.
  /// \pre  T matches dtype(); device() is the CPU.
  /// \post numel() elements, row-major (rewritten from a backend layout first, as data());
  ///       version() has changed.
  /// \throws convnet::Error for another dtype or device, naming T's dtype and the tensor's
  ///        dtype and device.
  template <class T>
  T* data_as();
  /// As above, read-only; the version does not change.
  template <class T>
  const T* data_as() const;
  /// The bytes, row-major, on whatever device: for kernels of that device only.
  /// \post `numel() * dtype_size(dtype())` bytes, row-major (rewritten from a backend layout
  ///       first); version() has changed. Not dereferenceable on the host for a GPU tensor.
  /// \throws convnet::Error for an undefined tensor.
  void* raw_ptr();
  /// As above, read-only; the version does not change.
  const void* raw_ptr() const;
  /// Element access for tests and small tools: t.at({n, c, h, w}) (as t[n, c, h, w]).
  /// \pre  dtype() is float32 and device() is the CPU; one index per dimension, each
  ///       0 <= index < its size (no negative indices).
  /// \post a reference to the element (in the row-major storage); version() has changed.
  /// \throws convnet::Error for another dtype or device, for a wrong number of indices or an
  ///        index out of range (naming it, its dimension and the shape).
  float& at(std::initializer_list<int64_t> idx);
  /// As above, read-only: the value of the element.
  float at(std::initializer_list<int64_t> idx) const;
  /// The value of a one-element tensor (as torch.Tensor.item()); from a GPU, the host waits
  /// for the work queued before it.
  /// \pre  numel() == 1; float32.
  /// \throws convnet::Error when numel() != 1 (naming the shape), or for another dtype.
  float item() const;
  /// A copy of the elements, row-major (as torch.Tensor.tolist() of the flattened tensor),
  /// on the host (copied from a GPU).
  /// \pre  float32.
  /// \post numel() values.
  /// \throws convnet::Error for another dtype, naming it and the device.
  std::vector<float> to_vector() const;
  /// Sets every element to `v` (as torch.Tensor.fill_); not recorded by autograd.
  /// \pre  float32 on the CPU.
  /// \post every element is `v`; row-major; version() has changed.
  /// \throws convnet::Error for another dtype or device, naming both.
  void fill_(float v);
  /// Copies the elements of `src` into this tensor, in row-major order (as
  /// torch.Tensor.copy_, without broadcasting); converts the dtype as to(DType) when they
  /// differ. Not recorded by autograd.
  /// \pre  `src.numel()` == numel() (the shapes may differ); both on the CPU.
  /// \post this tensor holds the values of `src` in its own dtype, row-major; its shape,
  ///       dtype and identity are unchanged.
  /// \throws convnet::Error when the element counts differ (naming both shapes), or when
  ///        either tensor is not on the CPU (naming both devices).
  void copy_(const Tensor& src);

  /// The same elements in another shape, sharing storage (as torch.Tensor.reshape, which
  /// here always gives a view). One size may be -1: it is inferred from numel().
  /// A tensor stored in a backend layout is first rewritten row-major in place.
  /// \pre  at most one size is -1; the product of the sizes equals numel().
  /// \post a row-major tensor of the new shape, same dtype and device, sharing storage;
  ///       recorded by autograd (backward gives the gradient reshaped to this tensor's
  ///       shape) and by an active trace::Tracer.
  /// \throws convnet::Error for more than one -1 or a size that does not fit numel(),
  ///        naming the shapes.
  Tensor reshape(const Shape& shape) const;
  /// As reshape (as torch.Tensor.view).
  Tensor view(const Shape& shape) const { return reshape(shape); }
  /// The dimensions from `start_dim` to the last merged into one (as
  /// torch.flatten(x, start_dim); note the default 1, as torch.nn.Flatten, keeps the batch
  /// dimension). A reshape: shares storage and is recorded by autograd.
  /// \pre  -dim() <= `start_dim` <= dim() (negative counts from the end).
  /// \post shape (`size(0)`, ..., `size(start_dim - 1)`, product of the rest).
  /// \throws convnet::Error when `start_dim` is out of range, naming it and the shape.
  Tensor flatten(int64_t start_dim = 1) const;
  /// A copy of the data, not attached to the graph (unlike torch.Tensor.clone, which is
  /// differentiable: use it as `x.detach().clone()`).
  /// \pre  on the CPU.
  /// \post same shape and dtype, on the CPU, row-major, own storage; requires_grad() false.
  /// \throws convnet::Error for a tensor that is not on the CPU.
  Tensor clone() const;
  /// Same data, not attached to the graph (as torch.Tensor.detach): shares storage and
  /// layout.
  /// \post same shape, dtype, device, layout and storage; requires_grad() false, no
  ///       grad_fn(). Writes through either handle are seen by both (until one of them is
  ///       rewritten from a backend layout, see layout()).
  /// \throws convnet::Error for an undefined tensor.
  Tensor detach() const;
  /// A copy in another dtype (rounded to nearest even for bf16/fp16, truncated toward 0
  /// for the integer types, x != 0 for bool), recorded by autograd between floating types
  /// (the gradient is converted back); this tensor itself when the dtype is already `dtype`.
  /// As torch.Tensor.to(dtype).
  /// \pre  on the CPU (when a conversion is needed); any pair of dtypes.
  /// \post `dtype` elements of the same shape, device and layout; between floating types
  ///       backward gives the gradient converted back to this tensor's dtype; a conversion
  ///       from or to a non-floating type is not recorded.
  /// \throws convnet::Error for a tensor not on the CPU, naming the dtype and the device.
  Tensor to(DType dtype) const;
  /// This tensor on another device; this tensor itself on its own device. Throws, naming
  /// the devices, where this build or machine has no such device. As
  /// torch.Tensor.to(device).
  /// \post this tensor (the same handle) when `device` == device().
  /// \throws convnet::Error for any other device, naming it: "this build of convnet has no
  ///        CUDA support", or "no such device here" (this version has no CUDA backend, so
  ///        every move to another device throws).
  Tensor to(const Device& device) const;
  /// Makes this tensor's data that of `src` (shape, dtype, device and storage), keeping its
  /// identity: every handle to it sees the change, as `param.data = src` in PyTorch
  /// (Module::to uses it). Not recorded by autograd.
  /// \pre  both tensors are defined.
  /// \post shape, dtype, device, layout and storage are those of `src` (shared, not
  ///       copied); requires_grad, grad, grad_fn and hooks are unchanged.
  /// \throws convnet::Error when either tensor is undefined.
  void set_data_(const Tensor& src);

  // ---- autograd -----------------------------------------------------------------
  /// Whether autograd computes a gradient for this tensor (as torch.Tensor.requires_grad);
  /// false for an undefined tensor.
  bool requires_grad() const;
  /// Sets whether autograd computes a gradient for this leaf (as
  /// torch.Tensor.requires_grad_).
  /// \pre  defined; `on` is true or the tensor is a leaf.
  /// \post requires_grad() == `on`; returns `*this`.
  /// \throws convnet::Error for an undefined tensor, or for `on` false on a non-leaf
  ///        (use detach()).
  Tensor& requires_grad_(bool on = true);
  /// Whether this tensor was not produced by a recorded op (no grad_fn()), as
  /// torch.Tensor.is_leaf; true for an undefined tensor.
  bool is_leaf() const;
  /// The gradient accumulated by backward (as torch.Tensor.grad): a handle to it, not a
  /// copy.
  /// \post undefined until a backward pass reached this tensor (or after zero_grad()).
  Tensor grad() const;
  /// Sets the accumulated gradient to `g` (shared, not copied); an undefined `g` clears it.
  /// \pre  this tensor is defined (not checked); `g` has this tensor's shape (not checked).
  /// \post grad() refers to the same data as `g`.
  void set_grad(const Tensor& g);
  /// Drops the gradient (as zero_grad(set_to_none=True)); no-op for an undefined tensor.
  /// \post grad() is undefined.
  void zero_grad();
  /// Backward from a one-element tensor with seed 1 (as torch.Tensor.backward()): same as
  /// backward(Tensor::ones(shape())).
  /// \pre  numel() == 1; requires_grad().
  /// \post as backward(grad_output).
  /// \throws convnet::Error when numel() != 1 (naming the shape), and as
  ///        backward(grad_output).
  void backward() const;
  /// Backward from this tensor with seed `grad_output` (as
  /// torch.Tensor.backward(gradient)): walks the recorded nodes in reverse topological
  /// order, summing the gradients of tensors used more than once, with gradient recording
  /// off (no higher-order gradients).
  /// \pre  requires_grad(); `grad_output` has this tensor's shape.
  /// \post every tensor reached that requires a gradient and has no grad_fn() (a leaf) has
  ///       the gradient added to grad() (a copy when grad() was undefined, else added in
  ///       place in grad()'s dtype); hooks have run on each tensor's summed gradient before
  ///       it is used. Gradients of non-leaf tensors are not kept. The graph is kept, so
  ///       backward may run again (as retain_graph=True).
  /// \throws convnet::Error when this tensor does not require grad or the shapes differ
  ///        (naming the shapes); when a node's backward returns the wrong number of
  ///        gradients or a gradient of the wrong shape (naming the node); and whatever a
  ///        backward function throws.
  void backward(const Tensor& grad_output) const;
  /// hook(grad) runs when this tensor's gradient is computed; its result, if defined,
  /// replaces the gradient passed on (as torch.Tensor.register_hook).
  /// \pre  requires_grad().
  /// \post during every later backward reaching this tensor, the hooks run in the order
  ///       registered, each on the previous one's result, before the gradient is
  ///       accumulated (leaf) or passed to grad_fn().
  /// \throws convnet::Error when this tensor does not require grad.
  void register_hook(GradHook hook);
  /// hook(leaf) runs during backward once this leaf's gradient has been accumulated into
  /// grad(): no later node of the same backward adds to it (as PyTorch's
  /// register_post_accumulate_grad_hook). Data-parallel training starts a gradient's
  /// allreduce from it while backward goes on.
  /// \pre  requires_grad() and no grad_fn() (a leaf).
  /// \post during every later backward reaching this leaf, the hooks run in the order
  ///       registered, once per backward, after its grad() holds the sum of this backward's
  ///       contributions. Returns an id for remove_post_accumulate_grad_hook().
  /// \throws convnet::Error when this tensor does not require grad or is not a leaf.
  int64_t register_post_accumulate_grad_hook(PostAccumulateGradHook hook);
  /// Removes the hook with this id (from register_post_accumulate_grad_hook()).
  /// \post the hook no longer runs; an unknown id changes nothing.
  void remove_post_accumulate_grad_hook(int64_t id);
  /// The recorded op that produced this tensor (as torch.Tensor.grad_fn); null for a leaf.
  /// \throws convnet::Error for an undefined tensor.
  const std::shared_ptr<Node>& grad_fn() const;

  /// The storage's identity (core/storage.h): a backend that keeps a derived copy of a
  /// tensor (a prepacked weight) knows it is still valid while storage_id() and version()
  /// are the same. Rewriting a tensor row-major (see layout()) gives it a new storage.
  /// \throws convnet::Error for an undefined tensor.
  uint64_t storage_id() const;
  /// The storage's contents version (core/storage.h). Every non-const element accessor
  /// (data(), data_as, raw_ptr, stored_as, stored_ptr) bumps the version, as the caller may
  /// write.
  /// \throws convnet::Error for an undefined tensor.
  uint64_t version() const;

  // ---- physical layout (core/layout.h) ---------------------------------------------
  /// The backend layout the elements are stored in; null = plain row-major, what data(),
  /// `data_as<T>()` and raw_ptr() always give: they first rewrite a tensor stored otherwise
  /// in place (every handle sees it), so code that is not a backend's never sees a layout.
  /// \throws convnet::Error for an undefined tensor.
  const Layout* layout() const;
  /// The elements as they are stored, in whatever layout, on the tensor's device (a GPU
  /// address for a CUDA tensor): for kernels only (checks the dtype).
  /// \pre  T is float, bf16_t, f16_t or int64_t (the instantiated ones) and matches
  ///       dtype().
  /// \post numel() elements in layout() order, not rewritten; version() has changed.
  /// \throws convnet::Error for another dtype, naming T's dtype and the tensor's dtype and
  ///        device.
  template <class T>
  T* stored_as();
  /// As above, read-only; the version does not change.
  template <class T>
  const T* stored_as() const;
  /// The bytes as stored, on whatever device, any dtype (no check, no rewrite).
  /// \post version() has changed.
  /// \throws convnet::Error for an undefined tensor.
  void* stored_ptr();
  /// As above, read-only; the version does not change.
  const void* stored_ptr() const;
  /// `stored_as<float>()`: the float32 elements as stored, on the tensor's device (not
  /// rewritten row-major, unlike data()); bumps the version.
  /// \throws convnet::Error for another dtype.
  float* raw_data() { return stored_as<float>(); }
  /// As above, read-only; the version does not change.
  const float* raw_data() const { return stored_as<float>(); }
  /// This tensor if it is stored in `layout` already, else a copy stored so (not recorded by
  /// autograd: for ops that need two operands in one layout, and backward functions).
  /// \pre  `layout` is null or fits shape(); on a device whose kernels the layout is for.
  /// \post this tensor (same handle) when layout() == `layout`; else a new tensor of the same
  ///       shape, dtype and device in `layout`, own storage, requires_grad() false; this
  ///       tensor is unchanged.
  /// \throws convnet::Error when `layout` does not fit the shape (naming both); when out of
  ///        memory.
  Tensor in_layout(const Layout* layout) const;

  /// The shared state (null for an undefined tensor); for library code and backends.
  TensorImpl* impl() const { return impl_.get(); }
  /// The float32-on-CPU check of data() and the element accessors, for ops that want their
  /// own name in the message: "`what`: expected a float32 tensor on the cpu, got bfloat16
  /// on cpu" (with a hint: convert with .to(DType::float32), or .to(Device::cpu())).
  /// \pre  `what` is a null-terminated string.
  /// \post returns when the tensor is float32 on the CPU.
  /// \throws convnet::Error otherwise, or for an undefined tensor.
  void expect_cpu_float(const char* what) const;
  /// The shared state as a shared pointer (null for an undefined tensor).
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace convnet
#pragma GCC visibility pop
