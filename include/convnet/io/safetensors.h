#pragma once
#pragma GCC visibility push(default)
/// \file
/// Reading and writing safetensors files (SafeTensors): 8-byte little-endian header length,
/// a JSON header
/// \verbatim
///   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
///    "__metadata__": {"key": "value"}}
/// \endverbatim
/// then the raw little-endian data. See docs/formats.md.
#include <map>
#include <string>

#include "convnet/core/tensor.h"

namespace convnet::io {

/// The contents of a safetensors file.
struct SafeTensors {
  std::map<std::string, Tensor> tensors;        ///< the tensors by name
  std::map<std::string, std::string> metadata;  ///< the `__metadata__` entries (non-string values as JSON text)
  std::map<std::string, std::string> dtypes;    ///< the stored dtype of each tensor ("F32", "I64", ...)
};

/// Reads a safetensors file (as safetensors.torch.load_file).
/// Reads F32, F64, BF16, F16, I64, I32, I8, U8 and BOOL tensors. By default every tensor
/// becomes float32 (what weights, inputs and checkpoints are used as); with keep_dtypes,
/// F32/BF16/F16/I64/I32/U8/BOOL keep their dtype (F64 and I8 still become float32).
/// `dtypes` records what was stored either way.
/// \pre  `path` is a readable safetensors file: a header length that fits the file, a JSON
///       object header whose entries have a supported dtype, a shape of non-negative integers
///       and data_offsets inside the data section that match the shape and dtype and do not
///       overlap those of another tensor.
/// \post one tensor, and one dtype, per header entry; the metadata.
/// \throws convnet::Error naming the file and what is wrong (naming the tensor where one is
///         at fault): cannot be opened, too short, truncated, not JSON, a malformed entry,
///         an unsupported dtype, offsets outside the data or not matching the shape, or
///         overlapping tensors.
SafeTensors load_safetensors(const std::string& path, bool keep_dtypes = false);
/// Writes `tensors` and `metadata` to a safetensors file (as safetensors.torch.save_file).
/// Each tensor is written in its own dtype (F32, BF16, F16, I64, I32, U8, BOOL), atomically:
/// to "<path>.tmp", flushed to disk, then renamed over `path`.
/// \pre  every tensor is on the CPU; the directory of `path` is writable.
/// \post `path` holds the complete file (header padded so the data is 8-byte aligned); on
///       failure `path` is as before (a failed write also removes the .tmp file).
/// \throws convnet::Error when a tensor is not on the CPU (naming it), or naming the file
///         that cannot be written or renamed.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace convnet::io
#pragma GCC visibility pop
