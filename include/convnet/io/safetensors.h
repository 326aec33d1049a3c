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

// Reads F32 (and F64/F16-free integer types I64/I32/U8, converted to float32).
// Errors name the file and what is wrong with it.
SafeTensors load_safetensors(const std::string& path);
// Writes F32 tensors atomically: to "<path>.tmp", then rename over <path>.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace convnet::io
