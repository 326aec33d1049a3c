#include "convnet/inference/session.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/core/error.h"
#include "convnet/io/onnx.h"
#include "convnet/io/onnx_export.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/registry.h"
#include "convnet/nn/init.h"
#include "convnet/ops/autocast.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/inputs.h"
#include "inference/thread_tuner.h"
#include "io/step_control.h"
#include "kernels/cpu/parallel.h"

namespace convnet {

InferenceSession::~InferenceSession() = default;

int InferenceSession::tuned_threads(int64_t batch) const {
  return tuner_ ? tuner_->choice(batch) : -1;
}

std::shared_ptr<InferenceSession> InferenceSession::from_graph(std::shared_ptr<io::OnnxModel> graph, Shape input_shape,
                                                               const SessionOptions& options) {
  CONVNET_CHECK(options.precision == DType::float32 || options.precision == DType::bfloat16,
                "InferenceSession: precision must be float32 or bfloat16, got ", dtype_name(options.precision));
  CONVNET_CHECK(input_shape.size() == 4 && input_shape[1] > 0 && input_shape[2] > 0 && input_shape[3] > 0,
                "InferenceSession: ONNX model '", graph->source(),
                "': the input must be (N, C, H, W) with known C, H, W (give the symbolic ones), got ",
                shape_str(input_shape));
  input_shape[0] = 1;
  auto s = std::shared_ptr<InferenceSession>(new InferenceSession());
  graph->eval();
  s->optimization_ = options.optimize ? graph->optimize_for_inference(input_shape).describe() : "not optimized";
  s->graph_ = std::move(graph);
  s->input_shape_ = std::move(input_shape);
  s->options_ = options;
  if (options.tune_threads) s->tuner_ = std::make_shared<inference_impl::ThreadTuner>();
  return s;
}

std::shared_ptr<InferenceSession> InferenceSession::from_module(nn::Module& model, const Shape& input_shape,
                                                                const SessionOptions& options) {
  CONVNET_CHECK(input_shape.size() == 4, "InferenceSession: the input shape must be (N, C, H, W), got ",
                shape_str(input_shape));
  Shape one = input_shape;
  one[0] = 1;
  const std::string bytes = io::export_onnx_bytes(model, one);
  return from_graph(io::OnnxModel::load_from_bytes(bytes, model.type_name()), one, options);
}

std::shared_ptr<InferenceSession> InferenceSession::from_onnx(const std::string& path, const SessionOptions& options,
                                                              const Shape& input_shape) {
  auto graph = io::load_onnx(path);
  CONVNET_CHECK(graph->inputs().size() == 1, "InferenceSession: ONNX model '", path, "' has ", graph->inputs().size(),
                " inputs; a session runs graphs with one image input");
  const io::OnnxTensorInfo& in = graph->inputs()[0];
  CONVNET_CHECK(in.known_rank && in.dims.size() == 4, "InferenceSession: ONNX model '", path, "': input '", in.name,
                "' must be declared (N, C, H, W), got ", in.known_rank ? shape_str(in.dims) : "no shape");
  CONVNET_CHECK(input_shape.empty() || input_shape.size() == 4,
                "InferenceSession: the input shape must be (N, C, H, W), got ", shape_str(input_shape));
  // The declared shape, its symbolic dimensions from input_shape; a given dimension must match a declared one.
  Shape shape = in.dims;
  for (size_t d = 1; d < 4 && !input_shape.empty(); ++d) {
    if (input_shape[d] <= 0) continue;
    CONVNET_CHECK(shape[d] <= 0 || shape[d] == input_shape[d], "InferenceSession: ONNX model '", path, "': input '",
                  in.name, "' is declared ", shape_str(in.dims), ": its ", "NCHW"[d], " is ", shape[d], ", not ",
                  input_shape[d]);
    shape[d] = input_shape[d];
  }
  return from_graph(std::move(graph), shape, options);
}

std::shared_ptr<InferenceSession> InferenceSession::from_zoo(const std::string& model, const std::string& weights,
                                                             int64_t num_classes, const Shape& input_shape,
                                                             const SessionOptions& options) {
  CONVNET_CHECK(input_shape.size() == 4, "InferenceSession: the input shape must be (N, C, H, W), got ",
                shape_str(input_shape));
  models::ModelArgs a;
  a.in_channels = input_shape[1];
  a.input_size = input_shape[2];
  a.num_classes = num_classes;
  nn::ModulePtr net;
  if (weights.empty()) {
    net = models::create(model, a);
  } else {
    const io::SafeTensors w = io::load_tensor_file(weights);
    {
      nn::init::SkipInitGuard skip;  // a strict load overwrites every tensor
      net = models::create(model, a);
    }
    io::load_state_dict(*net, w, true, weights);
  }
  return from_module(*net, input_shape, options);
}

std::shared_ptr<InferenceSession> InferenceSession::from_checkpoint(const std::string& path,
                                                                    const SessionOptions& options) {
  auto ck = std::make_shared<train::Checkpoint>(train::load_checkpoint(path));
  auto net = train::model_from_checkpoint(*ck);
  const Shape in{1, ck->model_args.in_channels, ck->model_args.input_size, ck->model_args.input_size};
  auto s = from_module(*net, in, options);
  ck->weights.clear(), ck->optimizer.clear(), ck->train_weights.clear();  // kept for the preprocessing only
  s->class_names_ = ck->class_names;
  s->checkpoint_ = std::move(ck);
  return s;
}

Tensor InferenceSession::run(const Tensor& batch) const {
  CONVNET_CHECK(batch.defined() && batch.dim() == 4, "InferenceSession::run: expected a batch (N, C, H, W) like ",
                shape_str(input_shape_), ", got ", batch.defined() ? shape_str(batch.shape()) : "an undefined tensor");
  for (int d = 1; d < 4; ++d)
    CONVNET_CHECK(batch.size(d) == input_shape_[d], "InferenceSession::run: expected a batch (N, ", input_shape_[1],
                  ", ", input_shape_[2], ", ", input_shape_[3], "), got ", shape_str(batch.shape()));
  NoGradGuard no_grad;
  autocast guard(options_.precision);
  const int all = omp_get_max_threads();
  if (!tuner_ || all <= 1) return graph_->forward(batch).to(DType::float32);
  const int64_t n = batch.size(0);
  const inference_impl::ThreadTuner::Next next = tuner_->next(n);
  const kernels::cpu::ThreadLimit limit(
      next.mode == inference_impl::ThreadTuner::kOne ? 1 : all);  // this call, on this thread only
  std::vector<double> step_seconds;
  io::StepControl control{next.mode == inference_impl::ThreadTuner::kSteps ? next.plan : nullptr,
                          next.time_steps ? &step_seconds : nullptr};
  struct Control {  // the executor's control, for this call on this thread
    io::StepControl* before;
    ~Control() { io::step_control() = before; }
  } control_guard{std::exchange(io::step_control(), control.threads || control.seconds ? &control : nullptr)};
  const auto t0 = std::chrono::steady_clock::now();
  Tensor y = graph_->forward(batch).to(DType::float32);
  if (next.call >= 0)
    tuner_->record(n, next, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), step_seconds);
  return y;
}

Tensor InferenceSession::run_image(const std::string& path) const {
  CONVNET_CHECK(checkpoint_ != nullptr,
                "InferenceSession::run_image: the session has no preprocessing (it was not made from a checkpoint); "
                "decode, resize and normalize the image, and call run()");
  return run(train::load_input_image(*checkpoint_, path).input);
}

Tensor InferenceSession::run_image_bytes(const std::string& bytes) const {
  CONVNET_CHECK(checkpoint_ != nullptr,
                "InferenceSession::run_image_bytes: the session has no preprocessing (it was not made from a "
                "checkpoint); decode, resize and normalize the image, and call run()");
  return run(train::load_input_image_bytes(*checkpoint_, bytes).input);
}

}  // namespace convnet
