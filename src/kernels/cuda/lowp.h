#pragma once
// What the reduced-precision CUDA kernels (T = bf16_t, f16_t) share: the libraries' names of
// T, and the float32 master weights rounded to T for one call (as torch.autocast casts them).
#include <cudnn.h>
#include <library_types.h>

#include <cstdint>

#include "convnet/core/dtype.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/runtime.h"

namespace convnet::kernels::cuda {

template <class T>
struct Lowp;
template <>
struct Lowp<bf16_t> {
  static constexpr cudnnDataType_t cudnn = CUDNN_DATA_BFLOAT16;
  static constexpr cudaDataType cuda = CUDA_R_16BF;
  static constexpr DType dtype = DType::bfloat16;
};
template <>
struct Lowp<f16_t> {
  static constexpr cudnnDataType_t cudnn = CUDNN_DATA_HALF;
  static constexpr cudaDataType cuda = CUDA_R_16F;
  static constexpr DType dtype = DType::float16;
};

// n float32 values rounded to T, in a scratch buffer on c's device (queued on its stream).
template <class T>
class Rounded {
 public:
  Rounded(const Ctx& c, int64_t n, const float* w) : buf_(c, static_cast<size_t>(n) * sizeof(T)) {
    launch::convert(n, DType::float32, w, Lowp<T>::dtype, buf_.get(), c.stream);
  }
  const T* get() const { return static_cast<const T*>(buf_.get()); }

 private:
  Scratch buf_;
};

}  // namespace convnet::kernels::cuda
