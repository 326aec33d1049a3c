#pragma once
#pragma GCC visibility push(default)
/// \file
/// Layout: how a backend arranges a tensor's elements in its storage, when not row-major.
///
/// A backend may keep activations in a private layout of its own (oneDNN's channel-blocked
/// nChw16c, channels-last for AMX convolutions): one that its kernels compute in, so that a
/// network's activations go from one kernel to the next without a reorder each time. Core
/// does not know what such a layout is. A tensor only carries a pointer to the backend's
/// Layout object (null = plain row-major), and when host code reads the elements
/// (Tensor::data(), `Tensor::data_as<T>()`, Tensor::raw_ptr(), Tensor::reshape) core asks
/// that object to rewrite them row-major.
///
/// Contract of a Layout:
///   - it is a permutation: the storage holds exactly numel() elements of the tensor's dtype;
///     so an elementwise kernel may run on the stored elements of operands that share one
///     layout, whatever it is, and its output has that layout too;
///   - the object lives for the whole program (backends intern them), so layouts compare by
///     pointer and a tensor can hold a plain pointer.
#include <string>

#include "convnet/core/dtype.h"
#include "convnet/core/shape.h"

namespace convnet {

/// A backend's physical arrangement of a tensor's elements (see the file comment): an
/// interface that backends implement; users only pass the pointers on.
class Layout {
 public:
  virtual ~Layout() = default;
  /// The layout's name, for messages and the profiler: "nChw16c", "nhwc".
  virtual std::string name() const = 0;
  /// Whether a tensor of this shape can be stored so (e.g. 4-D with whole channel blocks).
  /// Tensor::empty refuses a layout for a shape where this is false.
  virtual bool fits(const Shape& shape) const = 0;
  /// Rewrites the `numel(shape)` elements of `dtype` at `src`, stored in this layout, into
  /// `dst` row-major.
  /// \pre  fits(shape); `src` and `dst` each hold `shape_numel(shape) * dtype_size(dtype)`
  ///       bytes, do not overlap, and are on a device this layout's backend can access.
  /// \post `dst` holds the same elements, row-major; `src` is unchanged.
  virtual void to_plain(const Shape& shape, DType dtype, const void* src, void* dst) const = 0;
  /// The inverse of to_plain: rewrites row-major `src` into `dst` in this layout.
  /// \pre  as for to_plain.
  /// \post `dst` holds the elements of `src` in this layout; `src` is unchanged.
  virtual void from_plain(const Shape& shape, DType dtype, const void* src, void* dst) const = 0;
};

}  // namespace convnet
#pragma GCC visibility pop
