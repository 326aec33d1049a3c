#pragma once
// Layout: how a backend arranges a tensor's elements in its storage, when not row-major.
//
// A backend may keep activations in a private layout of its own (oneDNN's channel-blocked
// nChw16c, channels-last for AMX convolutions): one that its kernels compute in, so that a
// network's activations go from one kernel to the next without a reorder each time. Core
// does not know what such a layout is. A tensor only carries a pointer to the backend's
// Layout object (null = plain row-major), and when host code reads the elements (data(),
// data_as<T>(), raw_ptr(), reshape) core asks that object to rewrite them row-major.
//
// Contract of a Layout:
//   - it is a permutation: the storage holds exactly numel() elements of the tensor's dtype;
//     so an elementwise kernel may run on the stored elements of operands that share one
//     layout, whatever it is, and its output has that layout too;
//   - the object lives for the whole program (backends intern them), so layouts compare by
//     pointer and a tensor can hold a plain pointer.
#include <string>

#include "convnet/core/dtype.h"
#include "convnet/core/shape.h"

namespace convnet {

class Layout {
 public:
  virtual ~Layout() = default;
  // For messages and the profiler: "nChw16c", "nhwc".
  virtual std::string name() const = 0;
  // Whether a tensor of this shape can be stored so (e.g. 4-D with whole channel blocks).
  virtual bool fits(const Shape& shape) const = 0;
  // dst (row-major) <- src (this layout): the numel(shape) elements of `dtype`.
  virtual void to_plain(const Shape& shape, DType dtype, const void* src, void* dst) const = 0;
  // dst (this layout) <- src (row-major).
  virtual void from_plain(const Shape& shape, DType dtype, const void* src, void* dst) const = 0;
};

}  // namespace convnet
