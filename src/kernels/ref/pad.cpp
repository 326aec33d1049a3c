// Reference padding: for every output element, the input element it comes from (if any),
// by an odometer over the output index; constant padding, and the copying modes
// (reflect, replicate, circular).
#include "kernels/pad.h"

#include <vector>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

namespace {
// Calls f(o, i) for every output index o (row-major), with i the flat index of its source
// element in x, or -1 when it falls into the padding; src(k, o_k) is the source position in
// dimension k of output position o_k (or -1).
template <class Src, class F>
void for_each_source(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, Src&& src, F&& f) {
  int64_t n = 1;
  for (int64_t k = 0; k < rank; ++k) n *= out_shape[k];
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  for (int64_t o = 0; o < n; ++o) {
    int64_t i = 0;
    for (int64_t k = 0; k < rank && i >= 0; ++k) {
      const int64_t s = src(k, idx[k]);
      i = s < 0 ? -1 : i * in_shape[k] + s;
    }
    f(o, i);
    for (int64_t k = rank - 1; k >= 0; --k) {
      if (++idx[k] < out_shape[k]) break;
      idx[k] = 0;
    }
  }
}
// Constant padding's source: inside x, or -1.
auto constant_source(const int64_t* in_shape, const int64_t* begin) {
  return [=](int64_t k, int64_t o) {
    const int64_t s = o - begin[k];
    return s < 0 || s >= in_shape[k] ? int64_t{-1} : s;
  };
}
}  // namespace

template <class T>
void constant_pad_fwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin, T value,
                      const T* x, T* y) {
  for_each_source(rank, in_shape, out_shape, constant_source(in_shape, begin),
                  [&](int64_t o, int64_t i) { y[o] = i < 0 ? value : x[i]; });
}

template <class T>
void constant_pad_bwd(int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                      const T* gy, T* gx) {
  int64_t n = 1;
  for (int64_t k = 0; k < rank; ++k) n *= in_shape[k];
  for (int64_t i = 0; i < n; ++i) gx[i] = T(0);
  for_each_source(rank, in_shape, out_shape, constant_source(in_shape, begin), [&](int64_t o, int64_t i) {
    if (i >= 0) gx[i] = gy[o];
  });
}

// Reflect / replicate / circular: the source composed dimension by dimension with
// pad_source() (never in the padding).
namespace {
auto index_source(PadMode m, const int64_t* in_shape, const int64_t* begin) {
  return [=](int64_t k, int64_t o) { return pad_source(m, o, begin[k], in_shape[k]); };
}
}  // namespace

template <class T>
void index_pad_fwd(PadMode m, int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                   const T* x, T* y) {
  for_each_source(rank, in_shape, out_shape, index_source(m, in_shape, begin),
                  [&](int64_t o, int64_t i) { y[o] = x[i]; });
}

template <class T>
void index_pad_bwd(PadMode m, int64_t rank, const int64_t* in_shape, const int64_t* out_shape, const int64_t* begin,
                   const T* gy, T* gx) {
  int64_t n = 1;
  for (int64_t k = 0; k < rank; ++k) n *= in_shape[k];
  for (int64_t i = 0; i < n; ++i) gx[i] = T(0);
  for_each_source(rank, in_shape, out_shape, index_source(m, in_shape, begin),
                  [&](int64_t o, int64_t i) { gx[i] += gy[o]; });
}

#define INSTANTIATE(T)                                                                                         \
  template void index_pad_fwd<T>(PadMode, int64_t, const int64_t*, const int64_t*, const int64_t*, const T*, T*); \
  template void index_pad_bwd<T>(PadMode, int64_t, const int64_t*, const int64_t*, const int64_t*, const T*, T*); \
  template void constant_pad_fwd<T>(int64_t, const int64_t*, const int64_t*, const int64_t*, T, const T*, T*); \
  template void constant_pad_bwd<T>(int64_t, const int64_t*, const int64_t*, const int64_t*, const T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_pad() {
  keys::constant_pad_fwd.add("ref", 0, &ref::constant_pad_fwd<float>);
  keys::constant_pad_bwd.add("ref", 0, &ref::constant_pad_bwd<float>);
  keys::index_pad_fwd.add("ref", 0, &ref::index_pad_fwd<float>);
  keys::index_pad_bwd.add("ref", 0, &ref::index_pad_bwd<float>);
}
}  // namespace convnet::kernels
