#pragma once
#pragma GCC visibility push(default)
/// \file
/// Loading and saving a module's parameters and buffers by name (torchvision state_dict
/// keys) in safetensors files (and, for loading, PyTorch .pth files). Loading checks every name, shape and dtype and
/// reports all problems at once (LoadReport).
#include <map>
#include <string>
#include <vector>

#include "convnet/io/safetensors.h"
#include "convnet/nn/module.h"

namespace convnet::io {

/// What load_state_dict() did (as the result of torch.nn.Module.load_state_dict, with loaded and mismatched entries too).
struct LoadReport {
  std::vector<std::string> loaded;      ///< the entries copied into the module
  std::vector<std::string> missing;     ///< in the module, not in the file
  std::vector<std::string> unexpected;  ///< in the file, not in the module
  std::vector<std::string> mismatched;  ///< "name: shape (a) in file, (b) in model" or dtype problems
  /// True when nothing is missing, unexpected or mismatched.
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe() const;  ///< one line per problem ("  missing in file: name", ...)
};

/// Copies the tensors of `st` into the module's parameters and buffers of the same names
/// (as torch.nn.Module.load_state_dict).
/// An entry matches when the names and shapes agree and the stored dtype is F32 (I64 or I32
/// also for a `num_batches_tracked` counter). `source` names the origin in the error.
/// \pre  strict: every state_dict entry of `m` is in `st` and matches, and `st` has no other
///       entries.
/// \post strict: every entry loaded. Non-strict: the matching entries loaded, the rest
///       reported. The report lists what was loaded and every problem.
/// \throws convnet::Error (strict only) listing all missing, unexpected and mismatched
///         entries, naming `source` and the module type; then nothing is modified.
LoadReport load_state_dict(nn::Module& m, const SafeTensors& st, bool strict = true, const std::string& source = "");
/// Reads the weights file at `path` into `m`: load_state_dict(m, load_tensor_file(path), strict, path),
/// so a safetensors file or a PyTorch `.pth` state dict (see load_pth()).
/// \pre  as load_tensor_file() and load_state_dict().
/// \post as load_state_dict().
/// \throws convnet::Error as load_tensor_file() and load_state_dict(), naming `path`.
LoadReport load_weights(nn::Module& m, const std::string& path, bool strict = true);
/// Writes the module's state_dict (parameters and buffers by name) with `metadata` to `path`:
/// save_safetensors(path, m.state_dict(), metadata).
/// \pre  as save_safetensors().
/// \post as save_safetensors().
/// \throws convnet::Error as save_safetensors().
void save_weights(const nn::Module& m, const std::string& path, const std::map<std::string, std::string>& metadata = {});

}  // namespace convnet::io
#pragma GCC visibility pop
