// convnet convert
#include <cstdio>
#include <map>
#include <memory>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"

namespace convnet::cli {

namespace {
struct ConvertOptions {
  std::string in, out;
  bool to_float32 = false;
};

int run_convert(const ConvertOptions& o) {
  const bool pth = io::is_pth_file(o.in);
  io::SafeTensors st = io::load_tensor_file(o.in, /*keep_dtypes=*/!o.to_float32);
  auto meta = st.metadata;
  meta["converted_from"] = o.in;
  io::save_safetensors(o.out, st.tensors, meta);
  std::map<std::string, int> per_dtype;
  for (const auto& [name, t] : st.tensors) ++per_dtype[dtype_name(t.dtype())];
  std::string dtypes;
  for (const auto& [d, n] : per_dtype) dtypes += (dtypes.empty() ? "" : ", ") + std::to_string(n) + " " + d;
  std::printf("wrote %s: %zu tensors (%s) from %s%s\n", o.out.c_str(), st.tensors.size(), dtypes.c_str(),
              pth ? "the PyTorch file " : "", o.in.c_str());
  if (auto k = st.metadata.find("pth_state_dict_key"); k != st.metadata.end())
    std::printf("  the weights are the file's '%s' entry (a training checkpoint)\n", k->second.c_str());
  return 0;
}
}  // namespace

Command add_convert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  auto* c = app.add_subcommand(
      "convert",
      "Convert a weights file to safetensors: a PyTorch state dict (.pth/.pt/.bin, as torch.save writes it; read "
      "without Python and without running its pickle) or a safetensors file");
  c->add_option("input", o->in, "The weights file to read (.pth or .safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("output", o->out, "The safetensors file to write")->required();
  c->add_flag("--float32", o->to_float32,
              "Write every tensor as float32 (default: keep float16, bfloat16 and integer tensors as they are; "
              "float64 and int8/int16 become float32)");
  return {c, [o] { return run_convert(*o); }};
}

}  // namespace convnet::cli
