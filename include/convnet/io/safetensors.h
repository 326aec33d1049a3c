#pragma once
// safetensors files: 8-byte little-endian header length, a JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// then the raw little-endian data. See docs/formats.md.
#include <map>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::io {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::string> dtypes;  // the stored dtype of each tensor ("F32", "I64", ...)
};

// Reads F32, F64, BF16, F16, I64, I32, I8, U8 and BOOL tensors. By default every tensor
// becomes float32 (what weights, inputs and checkpoints are used as); with keep_dtypes,
// F32/BF16/F16/I64/I32/U8/BOOL keep their dtype (F64 and I8 still become float32).
// `dtypes` records what was stored either way. Errors name the file and what is wrong.
SafeTensors load_safetensors(const std::string& path, bool keep_dtypes = false);
// Writes each tensor in its own dtype (F32, BF16, F16, I64, I32, U8, BOOL) atomically: to
// "<path>.tmp", then rename over <path>.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace convnet::io
