#pragma once
// Kernel interface of constant padding (ops/pad.h): y has out_shape, and
//   y[o] = x[o - begin]   where 0 <= o_k - begin_k < in_shape_k for every k,
//   y[o] = value          elsewhere.
// begin_k < 0 crops the start of dimension k (and out_k < in_k + begin_k crops its end).
//   keys: constant_pad_fwd (PadFwdFn), constant_pad_bwd (PadBwdFn)
// And the padding modes that copy x's own elements (F.pad's "reflect", "replicate",
// "circular"; ONNX Pad's reflect, edge, wrap): every output element comes from the input
// element at pad_source() in each dimension (pads >= 0, checked by the op).
//   keys: index_pad_fwd (IndexPadFwdFn), index_pad_bwd (IndexPadBwdFn)
// Kernels trust the op: out_shape_k = in_shape_k + begin_k + end_k >= 0.
#include <cstdint>
#include "kernels/registry.h"

namespace convnet::kernels {

template <class T>
using PadFwdFn = void(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin, T value,
                      const T* x, T* y);
// The adjoint: gx[i] = gy[i + begin] (0 for elements of x cropped away).
template <class T>
using PadBwdFn = void(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                      const T* gy, T* gx);

enum class PadMode : int { reflect, replicate, circular };

// The input position (in [0, n)) that output position o of a dimension of size n, padded by
// `before` in front, copies: reflect mirrors without repeating the edge (needs pads < n),
// replicate repeats the edge, circular wraps around (needs pads <= n).
inline int64_t pad_source(PadMode m, int64_t o, int64_t before, int64_t n) {
  int64_t i = o - before;
  switch (m) {
    case PadMode::reflect:
      if (n == 1) return 0;
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
      return i;
    case PadMode::replicate:
      return i < 0 ? 0 : i >= n ? n - 1 : i;
    case PadMode::circular:
      return ((i % n) + n) % n;
  }
  return i;
}

template <class T>
using IndexPadFwdFn = void(PadMode mode, int64_t rank, const int64_t* in_shape, const int64_t* out_shape,
                           const int64_t* begin, const T* x, T* y);
// The adjoint: gx[i] = the sum of gy over the output elements that copy x[i] (gx overwritten).
template <class T>
using IndexPadBwdFn = void(PadMode mode, int64_t rank, const int64_t* in_shape, const int64_t* out_shape,
                           const int64_t* begin, const T* gy, T* gx);

namespace ref {
template <class T>
void index_pad_fwd(PadMode mode, int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                   const T* x, T* y);
template <class T>
void index_pad_bwd(PadMode mode, int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                   const T* gy, T* gx);
template <class T>
void constant_pad_fwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin, T value,
                      const T* x, T* y);
template <class T>
void constant_pad_bwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                      const T* gy, T* gx);
}  // namespace ref


// The keys (kernels/registry.h): one per kernel of this interface.
namespace keys {
inline Kernel<PadFwdFn<float>> constant_pad_fwd{"constant_pad_fwd"};
inline Kernel<PadBwdFn<float>> constant_pad_bwd{"constant_pad_bwd"};
inline Kernel<IndexPadFwdFn<float>> index_pad_fwd{"index_pad_fwd"};
inline Kernel<IndexPadBwdFn<float>> index_pad_bwd{"index_pad_bwd"};
}  // namespace keys

}  // namespace convnet::kernels
