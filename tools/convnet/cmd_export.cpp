// convnet export
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "convnet/core/error.h"
#include "convnet/io/onnx_export.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "convnet/train/checkpoint.h"

namespace convnet::cli {

namespace {
struct ExportOptions {
  std::string checkpoint, model, weights, onnx;
  int64_t num_classes = 0, in_channels = 0, input_size = 0, batch = 1;  // 0: the model's default
  bool static_batch = false, strict = true, external = false;
};

// Not given: the rows of the last parameter of the model that the weights file has (the
// classifier's bias or weight), as `convnet infer` does.
int64_t classes_from_weights(const std::string& model, models::ModelArgs a, const io::SafeTensors& w) {
  a.num_classes = 10;
  nn::init::SkipInitGuard skip;  // the names and shapes are all this needs
  auto params = models::create(model, a)->named_parameters();
  for (auto it = params.rbegin(); it != params.rend(); ++it)
    if (w.tensors.count(it->first)) return w.tensors.at(it->first).size(0);
  return 10;
}

int run_export(const ExportOptions& o) {
  nn::ModulePtr net;
  models::ModelArgs a;
  std::string model_name;
  io::OnnxExportOptions eo;
  eo.dynamic_batch = !o.static_batch;
  if (o.external) eo.external_data = std::filesystem::path(o.onnx).filename().string() + ".data";
  if (!o.checkpoint.empty()) {
    const train::Checkpoint ck = train::load_checkpoint(o.checkpoint);
    net = train::model_from_checkpoint(ck);
    a = ck.model_args;
    model_name = ck.config.model.model;
    eo.metadata["class_names"] = nlohmann::json(ck.class_names).dump();
    eo.metadata["normalize_mean"] = nlohmann::json(ck.mean).dump();
    eo.metadata["normalize_std"] = nlohmann::json(ck.std).dump();
  } else {
    if (o.model.empty())
      throw Error("export needs --checkpoint CKPT, or --model NAME (with optional --weights W.safetensors)");
    model_name = o.model;
    const auto& info = models::info(o.model);
    // The input the model is made for (LeNet: 1x28x28), unless given.
    a.in_channels = o.in_channels > 0 ? o.in_channels : info.default_in_channels;
    a.input_size = o.input_size > 0 ? o.input_size : info.default_input_size;
    if (o.weights.empty()) {
      a.num_classes = o.num_classes ? o.num_classes : 10;
      net = models::create(o.model, a);
      std::fprintf(stderr, "convnet: no --weights: exporting %s with freshly initialized weights\n", o.model.c_str());
    } else {
      auto w = io::load_tensor_file(o.weights);
      a.num_classes = o.num_classes ? o.num_classes : classes_from_weights(o.model, a, w);
      {
        std::optional<nn::init::SkipInitGuard> skip;  // a strict load overwrites every tensor
        if (o.strict) skip.emplace();
        net = models::create(o.model, a);
      }
      auto report = io::load_state_dict(*net, w, o.strict, o.weights);
      if (!report.complete())
        std::fprintf(stderr, "loaded %zu of %zu tensors from '%s'; not loaded:\n%s", report.loaded.size(),
                     net->state_dict().size(), o.weights.c_str(), report.describe().c_str());
    }
  }
  if (o.input_size) a.input_size = o.input_size;
  CONVNET_CHECK(a.input_size > 0, "export: the input size is unknown; give --input-size");
  eo.metadata["model"] = model_name;
  eo.graph_name = model_name;
  const Shape shape{o.batch, a.in_channels, a.input_size, a.input_size};
  io::export_onnx(*net, shape, o.onnx, eo);
  std::printf("wrote %s: %s, input 'input' %s%s, output 'logits', opset %lld\n", o.onnx.c_str(), model_name.c_str(),
              shape_str(shape).c_str(), o.static_batch ? "" : " (batch dynamic)", static_cast<long long>(eo.opset));
  return 0;
}
}  // namespace

Command add_export(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* ex = app.add_subcommand("export", "Write a model as ONNX (opset 13, eval mode, dynamic batch)");
  auto* ckpt = ex->add_option("-c,--checkpoint", o->checkpoint, "Training checkpoint, or a run directory");
  auto* model =
      ex->add_option("model,-m,--model", o->model, "Zoo model name (instead of --checkpoint)")->excludes(ckpt);
  ex->add_option("--weights", o->weights,
                 "Weights for --model (safetensors or a PyTorch .pth state dict; default: fresh initialization)")
      ->needs(model)
      ->check(CLI::ExistingFile);
  ex->add_option("--num-classes", o->num_classes, "Classes of --model (default: from --weights, else 10)")
      ->needs(model)
      ->check(positive());
  ex->add_option("--in-channels", o->in_channels,
                 "Input channels of --model (default: the model's, 1 for LeNet, else 3)")
      ->needs(model)
      ->check(positive());
  ex->add_option("--input-size", o->input_size,
                 "Input height = width (default: the checkpoint's, or the model's default size)")
      ->check(positive());
  ex->add_option("--onnx", o->onnx, "Output file (.onnx)")->required();
  ex->add_option("--batch", o->batch, "Batch size of the traced input (the graph's batch stays dynamic)")
      ->check(positive())
      ->capture_default_str();
  ex->add_flag("--static-batch", o->static_batch, "Declare the traced batch size instead of a dynamic one");
  ex->add_flag("--external-data", o->external,
               "Write the weights to OUT.onnx.data beside the model (ONNX external data; needed over 2 GiB)");
  ex->add_option("--strict", o->strict, "Require every weight in --weights to match the model")->capture_default_str();
  return {ex, [o] { return run_export(*o); }};
}

}  // namespace convnet::cli
