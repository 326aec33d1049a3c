// Internal: the safetensors dtype names ("F32", "BF16", "I64", ...) that the safetensors and
// PyTorch (.pth) readers share, and the conversion of stored bytes into a convnet Tensor.
#pragma once
#include <cstdint>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::io::detail {

// Bytes per element of a safetensors dtype name; 0 for a name it does not know.
int64_t dtype_size(const std::string& dt);
// The safetensors name of a tensor dtype.
const char* st_name(DType t);
// The dtype a stored one is kept as by keep_dtypes; false for F64 and I8 (become float32).
bool kept_as(const std::string& dt, DType& out);
// One stored element (little-endian) as a float.
float convert(const std::string& dt, const char* p);
// A contiguous tensor of `shape` from its little-endian bytes `p` in dtype `dt`: float32, or
// with keep_dtypes the stored dtype where kept_as() says so.
// \pre p holds numel(shape) * dtype_size(dt) bytes.
Tensor tensor_from_raw(const std::string& dt, const char* p, const Shape& shape, bool keep_dtypes);

}  // namespace convnet::io::detail
