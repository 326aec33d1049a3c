#pragma once
#pragma GCC visibility push(default)
/// \file
/// Reading PyTorch state-dict files (`.pth`, `.pt`, `.bin`) without Python: the zip format of
/// `torch.save` (PyTorch 1.6 and later: `<name>/data.pkl` plus one stored entry per storage,
/// `<name>/data/<key>`) and the legacy format before it (a sequence of pickles followed by the
/// raw storages). The pickle is read by a restricted unpickler that, like
/// `torch.load(weights_only=True)`, accepts only what a state dict needs and never executes
/// anything. See docs/formats.md.
#include <string>

#include "convnet/io/safetensors.h"

namespace convnet::io {

/// Reads the tensors of a PyTorch file written by `torch.save(state_dict, path)`.
///
/// - The pickle may use only dicts, lists, tuples, strings, numbers, booleans and None, and the
///   globals `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
///   `torch._utils._rebuild_parameter` and the typed storages (`torch.FloatStorage`,
///   `HalfStorage`, `BFloat16Storage`, `DoubleStorage`, `LongStorage`, `IntStorage`,
///   `ShortStorage`, `CharStorage`, `ByteStorage`, `BoolStorage`). Any other global is
///   refused by name before anything else happens.
/// - Non-contiguous tensors (any non-negative strides) are gathered; tensors that share a
///   storage each get their own copy.
/// - The state dict is the top-level dict when it holds tensors; otherwise the first of its
///   entries `state_dict`, `model_state_dict`, `model`, `net`, `module` or `ema` that is a
///   dict of tensors (training checkpoints that wrap the weights). A `module.` prefix on
///   every name (torch.nn.DataParallel) is removed. Scalars and strings beside the tensors
///   (an epoch, an accuracy) become metadata entries, as text.
/// - As load_safetensors(): every tensor becomes float32 unless keep_dtypes, which keeps
///   F32/BF16/F16/I64/I32/U8/BOOL storages in their dtype; `dtypes` says what was stored
///   (F64 for DoubleStorage, I16 is read as float32, and so on).
/// \pre  `path` is a regular file written by torch.save (zip or legacy format) holding a dict.
/// \post one tensor and one dtype per state-dict entry; the metadata.
/// \throws convnet::Error naming the file and what is wrong: not a PyTorch file, a zip entry
///         that is compressed, encrypted, outside the file or failing its CRC, a pickle opcode
///         or global that a state dict does not use, a malformed tensor (a storage too small
///         for its size and strides), a TorchScript archive, a duplicate name, or no tensors.
SafeTensors load_pth(const std::string& path, bool keep_dtypes = false);

/// True when the file starts as a PyTorch file does (a zip archive, or the pickle magic of
/// the legacy format). Reads at most 16 bytes; false for a file that cannot be read.
bool is_pth_file(const std::string& path);

/// Reads a weights file of either format, told apart by its first bytes: load_pth() for a
/// PyTorch file, load_safetensors() otherwise.
/// \pre  as load_pth() or load_safetensors().
/// \post as load_pth() or load_safetensors().
/// \throws convnet::Error as load_pth() or load_safetensors().
SafeTensors load_tensor_file(const std::string& path, bool keep_dtypes = false);

}  // namespace convnet::io
#pragma GCC visibility pop
