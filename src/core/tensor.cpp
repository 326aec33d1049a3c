#include "convnet/core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "core/cuda_backend.h"

namespace convnet {

namespace {
std::shared_ptr<TensorImpl> make_impl(const Shape& shape, DType dtype = DType::float32,
                                      const Device& device = Device::cpu(), const Layout* layout = nullptr) {
  for (int64_t d : shape) CONVNET_CHECK(d >= 0, "Tensor: negative dimension in shape ", shape_str(shape));
  CONVNET_CHECK(!layout || layout->fits(shape), "Tensor: shape ", shape_str(shape), " cannot be stored in layout ",
                layout ? layout->name() : "");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->device = device;
  impl->layout.store(layout, std::memory_order_relaxed);
  int64_t bytes = 0;
  CONVNET_CHECK(!__builtin_mul_overflow(shape_numel(shape), dtype_size(dtype), &bytes), "Tensor: shape ",
                shape_str(shape), " of ", dtype_name(dtype), " needs more than 2^63 bytes");
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(bytes), device);
  return impl;
}
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& p) {
  CONVNET_CHECK(p != nullptr, "Tensor: use of an undefined tensor");
  return *p;
}
// Guards a tensor's (storage, layout) pair while it is rewritten row-major.
std::mutex& layout_mutex() {
  static std::mutex m;
  return m;
}
// Rewrites a tensor stored in a backend layout row-major, in place: the impl gets a plain
// copy; handles made before with detach() keep the old storage and its layout.
void make_plain(TensorImpl& impl) {
  if (!impl.layout.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(layout_mutex());
  const Layout* l = impl.layout.load(std::memory_order_relaxed);
  if (!l) return;
  const size_t esz = static_cast<size_t>(dtype_size(impl.dtype));
  auto plain = std::make_shared<Storage>(static_cast<size_t>(shape_numel(impl.shape)) * esz, impl.device);
  l->to_plain(impl.shape, impl.dtype, static_cast<const char*>(impl.storage->raw()) + impl.offset * esz, plain->raw());
  impl.storage = std::move(plain);
  impl.offset = 0;
  impl.layout.store(nullptr, std::memory_order_release);
}
}  // namespace

Tensor Tensor::empty(const Shape& shape) { return Tensor(make_impl(shape)); }
Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, const Layout* layout) {
  return Tensor(make_impl(shape, dtype, device, layout));
}
Tensor Tensor::empty_like(const Tensor& t) {
  return empty_like(t, t.shape());
}
Tensor Tensor::empty_like(const Tensor& t, const Shape& shape) {
  return Tensor(make_impl(shape, t.dtype(), t.device(), t.layout()));
}
Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.f); }
Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t(make_impl(shape));
  t.fill_(value);
  return t;
}
Tensor Tensor::from_vector(const Shape& shape, std::vector<float> values) {
  CONVNET_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "Tensor::from_vector: ",
                values.size(), " values do not fill shape ", shape_str(shape));
  Tensor t(make_impl(shape));
  std::copy(values.begin(), values.end(), t.data());
  return t;
}
Tensor Tensor::randn(const Shape& shape, Generator& gen, float mean, float std) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = gen.normal(mean, std);
  return t;
}
Tensor Tensor::rand(const Shape& shape, Generator& gen, float lo, float hi) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = gen.uniform(lo, hi);
  return t;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
int64_t Tensor::size(int64_t d) const {
  const Shape& s = checked(impl_).shape;
  const auto n = static_cast<int64_t>(s.size());
  if (d >= 0 && d < n) [[likely]]
    return s[static_cast<size_t>(d)];
  const int64_t dd = d < 0 ? d + n : d;
  CONVNET_CHECK(dd >= 0 && dd < n, "Tensor::size: dimension ", d, " out of range for shape ", shape_str(s));
  return s[static_cast<size_t>(dd)];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).device; }

void Tensor::expect_cpu_float(const char* what) const {
  const auto& impl = checked(impl_);
  CONVNET_CHECK(impl.dtype == DType::float32 && impl.device.is_cpu(), what,
                ": expected a float32 tensor on the cpu, got ", dtype_name(impl.dtype), " on ",
                device_name(impl.device), impl.device.is_cpu() ? " (convert it with .to(DType::float32))"
                                                               : " (its elements are readable on the host only after "
                                                                 ".to(Device::cpu()))");
}

namespace {
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::float32;
  if constexpr (std::is_same_v<T, bf16_t>) return DType::bfloat16;
  if constexpr (std::is_same_v<T, f16_t>) return DType::float16;
  if constexpr (std::is_same_v<T, int64_t>) return DType::int64;
  if constexpr (std::is_same_v<T, int32_t>) return DType::int32;
  if constexpr (std::is_same_v<T, uint8_t>) return DType::uint8;
}
}  // namespace

// The const accessors do the work; the mutable ones also bump the storage's version (a
// backend's derived copy of the bytes, such as a prepacked weight, is then stale).
template <class T>
const T* Tensor::data_as() const {
  if constexpr (std::is_same_v<T, float>) {
    return data();
  } else {
    auto& impl = const_cast<TensorImpl&>(checked(impl_));
    const bool ok = impl.dtype == dtype_of<T>() || (std::is_same_v<T, uint8_t> && impl.dtype == DType::bool_);
    CONVNET_CHECK(ok && impl.device.is_cpu(), "Tensor::data_as<", dtype_name(dtype_of<T>()), ">: the tensor is ",
                  dtype_name(impl.dtype), " on ", device_name(impl.device));
    make_plain(impl);
    return static_cast<const T*>(impl.storage->raw()) + impl.offset;
  }
}
template <class T>
T* Tensor::data_as() {
  const T* p = static_cast<const Tensor&>(*this).data_as<T>();
  impl_->storage->bump_version();
  return const_cast<T*>(p);
}
template float* Tensor::data_as<float>();
template bf16_t* Tensor::data_as<bf16_t>();
template f16_t* Tensor::data_as<f16_t>();
template int64_t* Tensor::data_as<int64_t>();
template int32_t* Tensor::data_as<int32_t>();
template uint8_t* Tensor::data_as<uint8_t>();
template const float* Tensor::data_as<float>() const;
template const bf16_t* Tensor::data_as<bf16_t>() const;
template const f16_t* Tensor::data_as<f16_t>() const;
template const int64_t* Tensor::data_as<int64_t>() const;
template const int32_t* Tensor::data_as<int32_t>() const;
template const uint8_t* Tensor::data_as<uint8_t>() const;

const void* Tensor::raw_ptr() const {
  auto& impl = const_cast<TensorImpl&>(checked(impl_));
  make_plain(impl);
  return static_cast<const char*>(impl.storage->raw()) + impl.offset * dtype_size(impl.dtype);
}
void* Tensor::raw_ptr() {
  const void* p = static_cast<const Tensor&>(*this).raw_ptr();
  impl_->storage->bump_version();
  return const_cast<void*>(p);
}

// ---- layouts ------------------------------------------------------------------------

const Layout* Tensor::layout() const {
  return checked(impl_).layout.load(std::memory_order_acquire);
}

template <class T>
const T* Tensor::stored_as() const {
  const auto& impl = checked(impl_);
  const bool ok = impl.dtype == dtype_of<T>() || (std::is_same_v<T, uint8_t> && impl.dtype == DType::bool_);
  CONVNET_CHECK(ok, "Tensor::stored_as<", dtype_name(dtype_of<T>()), ">: the tensor is ", dtype_name(impl.dtype),
                " on ", device_name(impl.device));
  return static_cast<const T*>(impl.storage->raw()) + impl.offset;
}
template <class T>
T* Tensor::stored_as() {
  const T* p = static_cast<const Tensor&>(*this).stored_as<T>();
  impl_->storage->bump_version();
  return const_cast<T*>(p);
}
const void* Tensor::stored_ptr() const {
  const auto& impl = checked(impl_);
  return static_cast<const char*>(impl.storage->raw()) + impl.offset * dtype_size(impl.dtype);
}
void* Tensor::stored_ptr() {
  const void* p = static_cast<const Tensor&>(*this).stored_ptr();
  impl_->storage->bump_version();
  return const_cast<void*>(p);
}
template float* Tensor::stored_as<float>();
template bf16_t* Tensor::stored_as<bf16_t>();
template f16_t* Tensor::stored_as<f16_t>();
template int64_t* Tensor::stored_as<int64_t>();
template const float* Tensor::stored_as<float>() const;
template const bf16_t* Tensor::stored_as<bf16_t>() const;
template const f16_t* Tensor::stored_as<f16_t>() const;
template const int64_t* Tensor::stored_as<int64_t>() const;

Tensor Tensor::in_layout(const Layout* l) const {
  if (layout() == l) return *this;
  Tensor plain = detach();
  make_plain(*plain.impl_);  // rewrites the detached handle's storage, not this tensor's
  if (!l) return plain;
  Tensor t(make_impl(shape(), dtype(), device(), l));
  l->from_plain(shape(), dtype(), plain.impl_->storage->raw(), t.impl_->storage->raw());
  return t;
}

const float* Tensor::data() const {
  expect_cpu_float("Tensor::data");
  auto& impl = const_cast<TensorImpl&>(checked(impl_));
  make_plain(impl);
  return impl.storage->data() + impl.offset;
}
float* Tensor::data() {
  const float* p = static_cast<const Tensor&>(*this).data();
  impl_->storage->bump_version();
  return const_cast<float*>(p);
}

uint64_t Tensor::storage_id() const {
  return checked(impl_).storage->id();
}
uint64_t Tensor::version() const {
  return checked(impl_).storage->version();
}

namespace {
int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> idx) {
  CONVNET_CHECK(idx.size() == shape.size(), "Tensor::at: ", idx.size(), " indices for shape ", shape_str(shape));
  int64_t flat = 0, k = 0;
  for (int64_t i : idx) {
    CONVNET_CHECK(i >= 0 && i < shape[k], "Tensor::at: index ", i, " out of range for dimension ", k,
                  " of shape ", shape_str(shape));
    flat = flat * shape[k] + i;
    ++k;
  }
  return flat;
}
}  // namespace

float& Tensor::at(std::initializer_list<int64_t> idx) { return data()[flat_index(shape(), idx)]; }
float Tensor::at(std::initializer_list<int64_t> idx) const { return data()[flat_index(shape(), idx)]; }
float Tensor::item() const {
  CONVNET_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape_str(shape()), " has ", numel(),
                " elements, not 1");
  if (!device().is_cpu()) return to(Device::cpu()).item();  // the host waits for the value
  return data()[0];
}
std::vector<float> Tensor::to_vector() const {
  if (!device().is_cpu()) return to(Device::cpu()).to_vector();
  return std::vector<float>(data(), data() + numel());
}
void Tensor::fill_(float v) { std::fill(data(), data() + numel(), v); }
void Tensor::copy_(const Tensor& src) {
  CONVNET_CHECK(src.numel() == numel(), "Tensor::copy_: source of shape ", shape_str(src.shape()),
                " does not fit destination of shape ", shape_str(shape()));
#ifdef CONVNET_WITH_CUDA
  if (!src.device().is_cpu() || !device().is_cpu()) {
    // Any pair of devices, one dtype: the bytes, row-major (a GPU tensor has no layout).
    CONVNET_CHECK(src.dtype() == dtype(), "Tensor::copy_: source is ", dtype_name(src.dtype()), " on ",
                  device_name(src.device()), ", destination is ", dtype_name(dtype()), " on ", device_name(device()),
                  "; convert the dtype on the cpu first");
    cuda_backend::copy(raw_ptr(), device(), src.raw_ptr(), src.device(),
                       static_cast<size_t>(numel() * dtype_size(dtype())));
    return;
  }
#endif
  CONVNET_CHECK(src.device() == device() && device().is_cpu(), "Tensor::copy_: source on ", device_name(src.device()),
                ", destination on ", device_name(device()), "; copy between devices with .to(device)");
  if (dtype() == DType::float32 && src.dtype() == DType::float32) {
    std::memcpy(data(), src.data(), sizeof(float) * numel());
  } else if (dtype() == src.dtype()) {
    std::memcpy(raw_ptr(), src.raw_ptr(), static_cast<size_t>(numel() * dtype_size(dtype())));
  } else {
    const Tensor c = src.to(dtype());
    std::memcpy(raw_ptr(), c.raw_ptr(), static_cast<size_t>(numel() * dtype_size(dtype())));
  }
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      CONVNET_CHECK(infer < 0, "reshape: only one dimension can be -1, got ", shape_str(new_shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    CONVNET_CHECK(known > 0 && numel() % known == 0, "reshape: cannot view shape ", shape_str(shape()), " as ",
                  shape_str(new_shape));
    s[infer] = numel() / known;
  }
  CONVNET_CHECK(shape_numel(s) == numel(), "reshape: shape ", shape_str(new_shape), " is invalid for input of shape ",
                shape_str(shape()), " (", numel(), " elements)");
  make_plain(const_cast<TensorImpl&>(checked(impl_)));  // a view shares the storage: row-major first
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = s;
  impl->dtype = impl_->dtype;
  impl->device = impl_->device;
  Tensor out(impl);
  const Shape in_shape = shape();
  autograd::record(out, "reshape", {*this}, [in_shape](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(in_shape)};
  });
  if (trace::active()) trace::record("reshape", {*this}, out);
  return out;
}

Tensor Tensor::flatten(int64_t start_dim) const {
  const int64_t n = dim();
  const int64_t sd = start_dim < 0 ? start_dim + n : start_dim;
  CONVNET_CHECK(sd >= 0 && sd <= n, "flatten: start_dim ", start_dim, " out of range for shape ", shape_str(shape()));
  Shape s(shape().begin(), shape().begin() + sd);
  int64_t rest = 1;
  for (int64_t i = sd; i < n; ++i) rest *= shape()[i];
  s.push_back(rest);
  return reshape(s);
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  t.copy_(*this);
  return t;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  std::lock_guard<std::mutex> lock(layout_mutex());  // storage and layout as one pair
  impl->storage = checked(impl_).storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->dtype = impl_->dtype;
  impl->device = impl_->device;
  impl->layout.store(impl_->layout.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return Tensor(impl);
}

void Tensor::set_data_(const Tensor& src) {
  auto& impl = const_cast<TensorImpl&>(checked(impl_));
  const auto& from = checked(src.impl_ptr());
  std::lock_guard<std::mutex> lock(layout_mutex());
  impl.storage = from.storage;
  impl.offset = from.offset;
  impl.shape = from.shape;
  impl.dtype = from.dtype;
  impl.device = from.device;
  impl.layout.store(from.layout.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::requires_grad_(bool on) {
  CONVNET_CHECK(impl_ != nullptr, "requires_grad_: undefined tensor");
  CONVNET_CHECK(on || !impl_->grad_fn, "requires_grad_(false): only leaf tensors can stop requiring grad; use detach()");
  impl_->requires_grad = on;
  return *this;
}
bool Tensor::is_leaf() const { return !impl_ || !impl_->grad_fn; }
Tensor Tensor::grad() const { return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor(); }
void Tensor::set_grad(const Tensor& g) { impl_->grad = g.impl_ptr(); }
void Tensor::zero_grad() {
  if (impl_) impl_->grad.reset();
}
void Tensor::register_hook(GradHook hook) {
  CONVNET_CHECK(requires_grad(), "register_hook: tensor does not require grad");
  impl_->hooks.push_back(std::move(hook));
}
int64_t Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) {
  CONVNET_CHECK(requires_grad() && !impl_->grad_fn,
                "register_post_accumulate_grad_hook: the tensor must be a leaf that requires grad");
  static std::atomic<int64_t> next_id{1};
  const int64_t id = next_id++;
  impl_->post_accumulate_hooks.emplace_back(id, std::move(hook));
  return id;
}
void Tensor::remove_post_accumulate_grad_hook(int64_t id) {
  if (!impl_) return;
  auto& v = impl_->post_accumulate_hooks;
  std::erase_if(v, [&](const auto& h) { return h.first == id; });
}
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::backward() const {
  CONVNET_CHECK(numel() == 1, "backward: grad can be implicitly created only for a one-element tensor, got shape ",
                shape_str(shape()));
  backward(Tensor::ones(shape()).to(device()));
}

}  // namespace convnet
