#include "convnet/io/weights.h"

#include "convnet/core/error.h"
#include "convnet/io/pth.h"

namespace convnet::io {

namespace {
// Integer counters (BatchNorm's num_batches_tracked) are int64 in PyTorch files.
bool dtype_ok(const std::string& name, const std::string& dt) {
  const bool counter = name.size() >= 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0;
  return dt == "F32" || (counter && (dt == "I64" || dt == "I32"));
}
}  // namespace

std::string LoadReport::describe() const {
  std::string s;
  for (const auto& n : missing) s += "  missing in file: " + n + "\n";
  for (const auto& n : unexpected) s += "  unexpected in file: " + n + "\n";
  for (const auto& n : mismatched) s += "  mismatch: " + n + "\n";
  return s;
}

LoadReport load_state_dict(nn::Module& m, const SafeTensors& st, bool strict, const std::string& source) {
  LoadReport r;
  auto own = m.state_dict();
  for (const auto& [name, t] : own) {
    auto it = st.tensors.find(name);
    if (it == st.tensors.end()) {
      r.missing.push_back(name);
      continue;
    }
    auto dt = st.dtypes.find(name);
    const std::string dtype = dt == st.dtypes.end() ? "F32" : dt->second;
    if (it->second.shape() != t.shape()) {
      r.mismatched.push_back(name + ": shape " + shape_str(it->second.shape()) + " in file, " + shape_str(t.shape()) +
                             " in model");
    } else if (!dtype_ok(name, dtype)) {
      r.mismatched.push_back(name + ": dtype " + dtype + " in file, F32 in model");
    }
  }
  for (const auto& [name, t] : st.tensors)
    if (!own.count(name)) r.unexpected.push_back(name);
  const std::string where = source.empty() ? "" : " from '" + source + "'";
  if (strict && !r.complete())
    throw Error("loading weights" + where + " into " + m.type_name() + " failed (" + std::to_string(r.missing.size()) +
                " missing, " + std::to_string(r.unexpected.size()) + " unexpected, " +
                std::to_string(r.mismatched.size()) + " mismatched; nothing was loaded):\n" + r.describe() +
                "use --strict false to load the entries that match");
  for (auto& [name, t] : own) {
    auto it = st.tensors.find(name);
    if (it == st.tensors.end() || it->second.shape() != t.shape()) continue;
    auto dt = st.dtypes.find(name);
    if (!dtype_ok(name, dt == st.dtypes.end() ? "F32" : dt->second)) continue;
    Tensor dst = t;
    dst.copy_(it->second);
    r.loaded.push_back(name);
  }
  return r;
}

LoadReport load_weights(nn::Module& m, const std::string& path, bool strict) {
  return load_state_dict(m, load_tensor_file(path), strict, path);
}

void save_weights(const nn::Module& m, const std::string& path, const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, m.state_dict(), metadata);
}

}  // namespace convnet::io
