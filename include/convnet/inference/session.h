#pragma once
#pragma GCC visibility push(default)
/// \file
/// InferenceSession: a trained network prepared once for deployment, then run many times.
///
/// \code
///   auto s = convnet::InferenceSession::from_onnx("resnet18.onnx");  // or from_checkpoint,
///   convnet::Tensor logits = s->run(batch);  // (N, C, H, W) float32  //    from_zoo, from_module
/// \endcode
///
/// What preparing does: the network becomes one ONNX graph (a module is exported with
/// io::export_onnx_bytes; an .onnx file is read as it is), which is optimized for inference
/// (io::OnnxModel::optimize_for_inference: BatchNorm folded into the convolutions, ReLU / ReLU6 /
/// Clip and residual adds fused into the convolution that produces them as oneDNN post-ops).
/// The convolution weights are packed into the kernels' layouts on the first run and kept
/// (kernels/cpu/onednn_common.h), so steady-state runs reorder no constant.
///
/// Threads: run() is const and may be called from several threads at once. Each call computes
/// on its own activations; the graph and weights are shared and never written after
/// construction. Every call uses the kernels' thread pool (set_num_threads), so concurrent
/// calls share the cores: for the lowest latency call from one thread, for throughput batch
/// the images, or call from a few threads with set_num_threads(1). At each batch size the
/// first calls time one thread against all, for the whole graph and for each step, and keep
/// the faster (SessionOptions::tune_threads; the logits do not depend on the choice beyond
/// float32 rounding).
///
/// Precision: float32, or bfloat16 (every run() under autocast: convolutions and linear layers
/// in bfloat16 with float32 accumulation); the logits are float32 either way.
///
/// Errors (convnet::Error) name the file or model and what is wrong: a missing or corrupt
/// file, an input of the wrong rank, channels or size.
#include <memory>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"
#include "convnet/nn/module.h"

namespace convnet::io {
class OnnxModel;
}
namespace convnet::inference_impl {
struct ThreadTuner;
}
namespace convnet::train {
struct Checkpoint;
}

namespace convnet {

/// How a session is prepared.
struct SessionOptions {
  DType precision = DType::float32;  ///< float32 or bfloat16
  bool optimize = true;              ///< false: run the graph as exported (for comparisons)
  /// At each batch size, time the first calls on one thread and on all of the caller's
  /// (get_num_threads()), the whole graph and each of its steps, and keep the faster: a small
  /// network at batch 1 can lose more to waking and synchronizing threads, and to moving its
  /// activations between cores' caches, than it gains (MobileNetV2 at 32x32 ran 30% slower
  /// on 2 threads than on 1 on one machine, and 20% faster on another), and within one
  /// network small layers may lose where large ones gain. Where the steps differ, their
  /// per-step choice is timed against the whole graph's and kept if faster. Calls that take
  /// over 5 ms on all threads keep them without timing. false: always all threads.
  bool tune_threads = true;
};

/// A network prepared for inference on the CPU (see the file comment).
class InferenceSession {
 public:
  /// A session running `model` as traced on an input of `input_shape` (N, C, H, W; any N).
  /// The model is exported in eval mode (its train/eval state is restored afterwards); it is
  /// not changed, and later changes to it do not reach the session.
  /// \pre  `input_shape` is 4-D with positive C, H, W that `model` accepts; every op of
  ///       `model` can be exported to ONNX; `options.precision` is float32 or bfloat16.
  /// \post input_shape() is `input_shape` with N = 1; optimization() describes what the
  ///       optimizer did ("not optimized" without `options.optimize`); class_names() is empty.
  /// \throws convnet::Error for an `input_shape` that is not 4-D, another precision, or as
  ///         the export (naming the layer that cannot be exported or refuses the input).
  static std::shared_ptr<InferenceSession> from_module(nn::Module& model, const Shape& input_shape,
                                                       const SessionOptions& options = {});
  /// A session running the ONNX file `path` (one float input); its declared input shape is
  /// the session's. `input_shape` (N, C, H, W) fills the symbolic dimensions (entries <= 0:
  /// as declared); a dimension it gives that the file declares otherwise is refused, naming
  /// both.
  /// \pre  `path` is a readable ONNX model with exactly one input, declared 4-D; `input_shape`
  ///       empty or 4-D; after filling, C, H and W are known and positive;
  ///       `options.precision` is float32 or bfloat16.
  /// \post input_shape() is the filled shape with N = 1; class_names() is empty.
  /// \throws convnet::Error naming `path`: a missing or corrupt file, not one input, an input
  ///         not declared (N, C, H, W), a given dimension that contradicts the declared one,
  ///         C, H or W still unknown; or another precision.
  static std::shared_ptr<InferenceSession> from_onnx(const std::string& path, const SessionOptions& options = {},
                                                     const Shape& input_shape = {});
  /// A zoo model (models/registry.h) with weights named as its state_dict (safetensors, or a PyTorch .pth state dict:
  /// io::load_tensor_file). The model is models::create(model, {num_classes, in_channels = C, input_size = H}), loaded
  /// strictly from `weights` ("" keeps the initial weights), then from_module(). \pre  `model` is a zoo name;
  /// `input_shape` is 4-D (N, C, H, W) with H at least the model's
  ///       smallest input; `weights` "" or a safetensors or .pth file whose names, shapes and dtypes
  ///       match the model's state_dict exactly.
  /// \post as from_module().
  /// \throws convnet::Error for an `input_shape` that is not 4-D; as models::create()
  ///         (unknown model, input too small); naming `weights` when it cannot be read or
  ///         does not match (listing every missing, unexpected or mismatched tensor); as
  ///         from_module().
  static std::shared_ptr<InferenceSession> from_zoo(const std::string& model, const std::string& weights,
                                                    int64_t num_classes, const Shape& input_shape,
                                                    const SessionOptions& options = {});
  /// A checkpoint of `convnet train` (a file or a run directory, then its last.safetensors):
  /// its model and weights, and its preprocessing for run_image(). The precision is the
  /// options' (default float32).
  /// \pre  `path` names a readable convnet checkpoint whose weights fit its model.
  /// \post input_shape() is (1, C, S, S) from the checkpoint's model arguments;
  ///       class_names() are the checkpoint's; run_image() is available.
  /// \throws convnet::Error naming the file when it is missing, corrupt, not a convnet
  ///         checkpoint, of a newer format, or its weights do not fit the model; as
  ///         from_module().
  static std::shared_ptr<InferenceSession> from_checkpoint(const std::string& path, const SessionOptions& options = {});

  ~InferenceSession();

  /// (N, C, H, W) float32, normalized as the model expects -> (N, classes) float32 logits.
  /// Thread-safe (see the file comment); no autograd graph is recorded.
  /// \pre  `batch` is (N, C, H, W) with C, H, W those of input_shape(), N >= 1, float32 on
  ///       the CPU.
  /// \post the graph's first output (for a classifier, (N, classes) logits), converted to
  ///       float32.
  /// \throws convnet::Error "InferenceSession::run: expected a batch (N, C, H, W) ..." naming
  ///         both shapes for an undefined batch, another rank, or other C, H or W.
  Tensor run(const Tensor& batch) const;
  /// An image file (PNG, JPEG, BMP, ...) through the checkpoint's preprocessing (channels,
  /// size, normalization) -> (1, classes) logits. Only for sessions from a checkpoint.
  /// \pre  the session comes from from_checkpoint(); `path` is a readable image.
  /// \post (1, classes) float32 logits, as run() on the preprocessed image.
  /// \throws convnet::Error when the session has no preprocessing (not from a checkpoint), or
  ///         naming the file when it cannot be read or brought to the model's input shape.
  Tensor run_image(const std::string& path) const;
  /// The same for an image file's bytes in memory (as received over a network), with the
  /// same checks as a file (data::decode_image_bytes). Thread-safe as run().
  /// \pre  the session comes from from_checkpoint(); `bytes` hold a PNG, JPEG, BMP, ... image.
  /// \post (1, classes) float32 logits, as run_image() on a file of these bytes.
  /// \throws convnet::Error when the session has no preprocessing, or when the bytes are not
  ///         an image that can be brought to the model's input shape.
  Tensor run_image_bytes(const std::string& bytes) const;

  /// (1, C, H, W): the input the session was prepared for (N is free).
  const Shape& input_shape() const { return input_shape_; }
  /// The options the session was prepared with.
  const SessionOptions& options() const { return options_; }
  /// What the optimizer did, e.g. "48 -> 21 nodes: 19 batch norm(s) folded ...", or
  /// "not optimized".
  const std::string& optimization() const { return optimization_; }
  /// The class names of a checkpoint's data set (label order); empty for other sessions.
  const std::vector<std::string>& class_names() const { return class_names_; }
  /// The threads run() settled on at batch size `batch` (SessionOptions::tune_threads): 1,
  /// -1 for all of the caller's, or 2 where each step of the graph has its own (one or all);
  /// 0 while it is still timing (the first 20 calls at that size, up to 36 when the steps'
  /// choices are timed against the whole graph's, 2 for large work), or when it never ran at
  /// that size.
  int tuned_threads(int64_t batch) const;

 private:
  InferenceSession() = default;
  static std::shared_ptr<InferenceSession> from_graph(std::shared_ptr<io::OnnxModel> graph, Shape input_shape,
                                                      const SessionOptions& options);
  std::shared_ptr<io::OnnxModel> graph_;
  Shape input_shape_;
  SessionOptions options_;
  std::string optimization_;
  std::vector<std::string> class_names_;
  std::shared_ptr<const train::Checkpoint> checkpoint_;  // from_checkpoint's, without weights (preprocessing)
  std::shared_ptr<inference_impl::ThreadTuner> tuner_;   // the timings and choices of tune_threads, per batch size
};

}  // namespace convnet
#pragma GCC visibility pop
