#pragma once
// Loading and saving a module's parameters and buffers by name (torchvision state_dict
// keys). Loading checks every name, shape and dtype and reports all problems at once.
#include <map>
#include <string>
#include <vector>

#include "convnet/io/safetensors.h"
#include "convnet/nn/module.h"

namespace convnet::io {

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // in the module, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the module
  std::vector<std::string> mismatched;  // "name: shape (a) in file, (b) in model" or dtype problems
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe() const;  // one line per problem
};

// strict: nothing is modified unless every name, shape and dtype matches; otherwise a
// convnet::Error lists all missing, unexpected and mismatched entries. Non-strict: loads
// the entries that match and reports the rest.
LoadReport load_state_dict(nn::Module& m, const SafeTensors& st, bool strict = true, const std::string& source = "");
LoadReport load_weights(nn::Module& m, const std::string& path, bool strict = true);
void save_weights(const nn::Module& m, const std::string& path, const std::map<std::string, std::string>& metadata = {});

}  // namespace convnet::io
