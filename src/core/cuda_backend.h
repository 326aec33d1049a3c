#pragma once
// The CUDA backend's entry points that core and the ops call directly (defined in
// src/kernels/cuda/runtime.cpp). Only in builds configured with the CUDA toolkit found
// (CONVNET_WITH_CUDA); elsewhere nothing here exists and every CUDA device is refused.
#ifdef CONVNET_WITH_CUDA
#include <cstddef>
#include <string>

#include "convnet/core/dtype.h"

namespace convnet::cuda_backend {
// Registers the device allocators and the device-pointer probe of the kernel dispatch, once.
void ensure_installed();
// The GPUs the driver reports; 0 when it reports none or fails (no driver, no GPU).
int device_count();
// Why device_count() is 0, in the driver's words ("CUDA driver version is insufficient ...").
std::string no_device_reason();
// Copies `bytes` bytes between two devices (at least one of them a GPU); returns when `dst`
// holds them (the copy is ordered after the work already queued on the GPU's stream).
void copy(void* dst, const Device& dst_dev, const void* src, const Device& src_dev, size_t bytes);
}  // namespace convnet::cuda_backend
#endif
