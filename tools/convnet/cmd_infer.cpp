// convnet infer
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "commands.h"
#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/io/onnx.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "convnet/ops/autocast.h"

namespace convnet::cli {

namespace {
struct InferOptions {
  std::string model, weights, onnx, input, output, key;
  int64_t num_classes = 0;
  bool strict = true;
  std::string precision = "fp32";
  std::string device = "cpu";
};

Tensor pick_input(const io::SafeTensors& f, const InferOptions& o) {
  if (!o.key.empty()) {
    auto it = f.tensors.find(o.key);
    if (it == f.tensors.end()) throw Error("'" + o.input + "' has no tensor named '" + o.key + "'");
    return it->second;
  }
  if (f.tensors.size() == 1) return f.tensors.begin()->second;
  if (f.tensors.count("input")) return f.tensors.at("input");
  throw Error("'" + o.input + "' holds " + std::to_string(f.tensors.size()) +
              " tensors; name the input with --input-key");
}

// A graph input from the input file: the one tensor (or --input-key's) for a graph of one
// input, else the tensor named as the input. Integer tensors become integer data.
io::OnnxValue onnx_input(const io::SafeTensors& f, const InferOptions& o, const io::OnnxModel& net, size_t i) {
  Tensor t;
  if (net.inputs().size() == 1) {
    t = pick_input(f, o);
  } else {
    const std::string& name = net.inputs()[i].name;
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) {
      std::string names;
      for (const auto& in : net.inputs()) names += (names.empty() ? "'" : ", '") + in.name + "'";
      throw Error("'" + o.onnx + "' has " + std::to_string(net.inputs().size()) + " inputs (" + names + "), and '" +
                  o.input + "' has no tensor named '" + name + "': name each tensor as its graph input");
    }
    t = it->second;
  }
  if (t.dtype() != DType::int64 && t.dtype() != DType::int32 && t.dtype() != DType::uint8 && t.dtype() != DType::bool_)
    return io::OnnxValue::of(t.to(DType::float32));
  const Tensor i64 = t.to(DType::int64);
  return io::OnnxValue::of_ints(i64.shape(),
                                std::vector<int64_t>(i64.data_as<int64_t>(), i64.data_as<int64_t>() + i64.numel()));
}

// An ONNX graph carries its own weights; its inputs are whatever the graph declares. Every
// output is written under its ONNX name (integer outputs as int64), and the first one also as
// "logits" unless an output already has that name (the name the zoo path writes).
int run_onnx(const InferOptions& o) {
  auto net = io::load_onnx(o.onnx);
  const io::SafeTensors f = io::load_safetensors(o.input, /*keep_dtypes=*/true);  // integer inputs stay integers
  std::vector<io::OnnxValue> inputs;
  for (size_t i = 0; i < net->inputs().size(); ++i) inputs.push_back(onnx_input(f, o, *net, i));
  net->eval();
  NoGradGuard g;
  std::vector<io::OnnxValue> outs;
  {
    autocast guard(parse_precision(o.precision));
    outs = net->run(inputs);
  }
  std::map<std::string, Tensor> written;
  std::string what;
  for (size_t i = 0; i < outs.size(); ++i) {
    const io::OnnxValue& v = outs[i];
    Tensor t;
    if (v.is_int) {
      t = Tensor::empty(v.int_shape, DType::int64);
      std::copy(v.ints.begin(), v.ints.end(), t.data_as<int64_t>());
    } else {
      t = v.tensor.to(DType::float32);  // written as float32 whatever the compute
    }
    const std::string& name = net->outputs()[i].name;
    written[name] = t;
    what += (what.empty() ? "" : ", ") + name + " " + shape_str(t.shape());
  }
  if (!outs.empty() && !written.count("logits")) written["logits"] = written.at(net->outputs()[0].name);
  io::save_safetensors(o.output, written, {{"onnx", o.onnx}, {"precision", o.precision}});
  std::printf("wrote %s to %s\n", what.c_str(), o.output.c_str());
  return 0;
}

int run_infer(const InferOptions& o) {
  const Device dev = parse_device(o.device);  // before any file: names the devices that exist
  if (!o.onnx.empty()) {
    CONVNET_CHECK(dev.is_cpu(),
                  "infer --onnx runs on the cpu only so far (the imported graph's constants stay on "
                  "the host); run a zoo model with --model/--weights on ",
                  o.device);
    return run_onnx(o);
  }
  if (o.model.empty() || o.weights.empty())
    throw Error(
        "infer needs --model and --weights (a zoo model and its weights: safetensors or a PyTorch .pth state dict), or "
        "--onnx MODEL.onnx");
  auto weights = io::load_tensor_file(o.weights);
  // A training checkpoint is a weights file plus its training state, which is not the model's.
  if (auto f = weights.metadata.find("format"); f != weights.metadata.end() && f->second == "convnet-checkpoint")
    std::erase_if(weights.tensors, [](const auto& kv) { return kv.first.rfind("train_state/", 0) == 0; });
  Tensor x = pick_input(io::load_safetensors(o.input), o);
  if (x.dim() != 4) throw Error("the input in '" + o.input + "' must be (N, C, H, W), got " + shape_str(x.shape()));
  models::ModelArgs a;
  a.in_channels = x.size(1);
  a.input_size = x.size(2);
  a.num_classes = o.num_classes;
  {
    // The weights say what the model expects: its first convolution's input channels, and
    // (unless given) the classes from the size of the last parameter the file has (the
    // classifier's bias or weight rows). An input that does not fit is the input's fault.
    models::ModelArgs pa = a;
    pa.num_classes = 10;
    nn::init::SkipInitGuard skip;  // the names and shapes are all this needs
    auto probe = models::create(o.model, pa);
    auto params = probe->named_parameters();
    for (const auto& [name, p] : params)
      if (p.dim() == 4 && weights.tensors.count(name)) {
        const Tensor& w = weights.tensors.at(name);
        if (w.dim() == 4 && w.size(1) != p.size(1) && w.size(1) != x.size(1))
          throw Error("the input in '" + o.input + "' has " + std::to_string(x.size(1)) + " channels " +
                      shape_str(x.shape()) + ", but the weights in '" + o.weights + "' are for " +
                      std::to_string(w.size(1)) + " (their first convolution '" + name + "' is " +
                      shape_str(w.shape()) + "); give an input of shape (N, " + std::to_string(w.size(1)) + ", H, W)");
        break;
      }
    if (a.num_classes == 0) {
      a.num_classes = 10;
      for (auto it = params.rbegin(); it != params.rend(); ++it)
        if (weights.tensors.count(it->first)) {
          a.num_classes = weights.tensors.at(it->first).size(0);
          break;
        }
    }
  }
  nn::ModulePtr net;
  {
    std::optional<nn::init::SkipInitGuard> skip;  // a strict load overwrites every tensor
    if (o.strict) skip.emplace();
    net = models::create(o.model, a);
  }
  auto report = io::load_state_dict(*net, weights, o.strict, o.weights);
  if (!report.complete())
    std::fprintf(stderr, "loaded %zu of %zu tensors from '%s'; not loaded:\n%s", report.loaded.size(),
                 net->state_dict().size(), o.weights.c_str(), report.describe().c_str());
  net->eval();
  if (!dev.is_cpu()) net->to(dev), x = x.to(dev);  // the model and the batch on the GPU, the logits back
  NoGradGuard g;
  Tensor y;
  {
    autocast guard(parse_precision(o.precision));
    y = (*net)(x).to(DType::float32).to(Device::cpu());  // logits are written as float32 whatever the compute
  }
  io::save_safetensors(o.output, {{"logits", y}}, {{"model", o.model}, {"precision", o.precision}});
  std::printf("wrote logits %s to %s\n", shape_str(y.shape()).c_str(), o.output.c_str());
  return 0;
}
}  // namespace

Command add_infer(CLI::App& app) {
  auto o = std::make_shared<InferOptions>();
  auto* inf = app.add_subcommand(
      "infer", "Run a model in eval mode on a batch stored in a safetensors file and write the logits");
  auto* model = inf->add_option("model,-m,--model", o->model, "Model name (required unless --onnx)");
  auto* classes =
      inf->add_option("--num-classes", o->num_classes, "Number of classes (default: taken from the weights file)")
          ->check(positive());
  auto* weights = inf->add_option(
      "--weights", o->weights,
      "Weights (safetensors or a PyTorch .pth state dict, parameter names as torchvision's; required unless --onnx)");
  inf->add_option("--onnx", o->onnx, "Run an ONNX model (weights included) instead of --model/--weights")
      ->check(CLI::ExistingFile)
      ->excludes(model)
      ->excludes(weights)
      ->excludes(classes);
  inf->add_option("--input", o->input,
                  "Input batch (safetensors with one (N, C, H, W) tensor, or one named by --input-key; for an ONNX "
                  "graph of several inputs, one tensor per input named as the input)")
      ->required();
  inf->add_option("--input-key", o->key, "Name of the input tensor when the file holds several");
  inf->add_option("--output", o->output,
                  "Where to write the logits (safetensors, tensor \"logits\"; with --onnx every graph output under its "
                  "ONNX name, the first also as \"logits\")")
      ->required();
  inf->add_option("--precision", o->precision,
                  "fp32, or bf16 / fp16 mixed precision (convolutions and linear layers in the reduced precision; "
                  "the logits are written as float32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  inf->add_option("--device", o->device, "cpu, cuda or cuda:N: run the zoo model on a GPU (not --onnx)")
      ->capture_default_str();
  inf->add_option("--strict", o->strict,
                  "Require every weight name and shape to match (false: load what matches, list the rest)")
      ->capture_default_str();
  return {inf, [o] { return run_infer(*o); }};
}

}  // namespace convnet::cli
