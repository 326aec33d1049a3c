#pragma once
// The CUDA backend's runtime, for its kernels (src/kernels/cuda/): errors, the device a
// pointer lives on, and per device one stream, one cuBLAS and one cuDNN handle bound to it.
// Every kernel of the backend queues its work on the stream of the device its pointers are
// on and returns without waiting; the host waits only where it reads a result (a scalar
// output such as sum_squares, or a copy to the host).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

namespace convnet::kernels::cuda {

// Throws convnet::Error "CUDA error in <what>: <the runtime's message>" unless `e` is success.
void check(cudaError_t e, const char* what);
void check(cublasStatus_t e, const char* what);
void check(cudnnStatus_t e, const char* what);

// cuBLAS, opened at first use (dlopen of libcublas.so.<major>): linked, its 600 MB of
// libraries would be mapped into every process, about 0.1 s per start of the CLI and of each
// test program, GPU or not. The functions the backend calls, as their cublas_v2.h names.
struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasSgemm_v2) sgemm;
  // cublasGemmEx (cublas_api.h overloads the name for C++, so the type is spelled out).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                            const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                            cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
  decltype(&cublasGetStatusString) status_string;
};
// \throws convnet::Error naming the library when it cannot be opened or lacks a function.
const CublasApi& cublas_api();

// The GPU whose memory (from this backend's allocator) holds `p`; -1 for any other pointer.
int device_of(const void* p);

// What a kernel needs on the device of its data: the device made current on this thread,
// its stream, and the library handles bound to that stream (created on first use).
struct Ctx {
  int device;
  cudaStream_t stream;
  cublasHandle_t cublas() const;
  cudnnHandle_t cudnn() const;
};
// The context of the device that holds `p` (a pointer from this backend's allocator).
Ctx ctx(const void* p);
// The context of the current device of this thread (for kernels given host arrays).
Ctx current_ctx();

// A scratch buffer on ctx's device of at least `bytes` bytes, from the caching allocator
// (cuDNN workspaces, reduction partials), given back when the object dies. Freed memory is
// reused by later work on the same stream only, so no synchronization is needed.
class Scratch {
 public:
  Scratch(const Ctx& c, size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return p_; }
  size_t bytes() const { return bytes_; }

 private:
  int device_;
  void* p_ = nullptr;
  size_t bytes_;
};

// Copies `bytes` from the device to the host and waits for it (the kernels' scalar outputs).
void to_host(const Ctx& c, void* dst, const void* src, size_t bytes);

}  // namespace convnet::kernels::cuda
