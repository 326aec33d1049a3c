// BatchNorm folding for inference; see nn/fuse.h.
#include "convnet/nn/fuse.h"

#include <cmath>
#include <map>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/nn/layers.h"

namespace convnet::nn {

ChannelAffine batch_norm_affine(int64_t channels, const float* mean, const float* var, const float* gamma,
                                const float* beta, double eps) {
  ChannelAffine a{std::vector<double>(channels), std::vector<double>(channels)};
  for (int64_t c = 0; c < channels; ++c) {
    a.scale[c] = (gamma ? gamma[c] : 1.0) / std::sqrt(static_cast<double>(var[c]) + eps);
    a.shift[c] = (beta ? beta[c] : 0.0) - mean[c] * a.scale[c];
  }
  return a;
}

void fold_affine_into(float* w, float* b, int64_t channels, int64_t per_channel, const ChannelAffine& a) {
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < per_channel; ++i)
      w[c * per_channel + i] = static_cast<float>(w[c * per_channel + i] * a.scale[c]);
    b[c] = static_cast<float>(b[c] * a.scale[c] + a.shift[c]);
  }
}

std::vector<FoldedPair> fold_batch_norms(Module& model, const Shape& input_shape) {
  CONVNET_CHECK(input_shape.size() == 4, "fold_batch_norms: the input shape must be (N, C, H, W), got ",
                shape_str(input_shape));
  model.eval();
  std::map<std::string, Module*> by_path;
  for (auto& [name, m] : model.named_modules()) by_path[m->path()] = m;

  // One forward pass, traced: which op produced each tensor, who reads it, how often
  // each module runs.
  std::vector<trace::TraceOp> ops;
  Tensor output;
  {
    NoGradGuard no_grad;
    trace::Tracer tracer;
    // One image is enough to see the structure; the trace holds every tensor it saw.
    Shape one = input_shape;
    one[0] = 1;
    output = model(Tensor::zeros(one));
    ops = tracer.ops();
  }
  std::map<const TensorImpl*, size_t> producer;
  std::map<const TensorImpl*, int> readers;
  std::map<std::string, std::map<std::string, int>> runs;  // scope -> op type -> count
  for (size_t i = 0; i < ops.size(); ++i) {
    for (const Tensor& t : ops[i].inputs)
      if (t.defined()) ++readers[t.impl()];
    producer[ops[i].output.impl()] = i;
    ++runs[ops[i].scope][ops[i].type];
  }

  std::vector<FoldedPair> folded;
  for (const trace::TraceOp& op : ops) {
    if (op.type != "batch_norm" || op.attrs.i("batch_stats") != 0) continue;
    const Tensor& x = op.inputs[0];
    auto p = producer.find(x.impl());
    if (p == producer.end()) continue;
    const trace::TraceOp& conv_op = ops[p->second];
    if (conv_op.type != "conv2d" || readers[x.impl()] != 1 || x.impl() == output.impl()) continue;
    auto* conv = by_path.count(conv_op.scope) ? dynamic_cast<Conv2d*>(by_path[conv_op.scope]) : nullptr;
    auto* bn = by_path.count(op.scope) ? dynamic_cast<BatchNorm*>(by_path[op.scope]) : nullptr;
    if (!conv || !bn || bn->folded() || !bn->running_mean.defined()) continue;
    // Each module must run once per forward (a module applied twice cannot be rewritten
    // for one of its uses), and these must be the modules' own tensors.
    if (runs[conv_op.scope].size() != 1 || runs[conv_op.scope]["conv2d"] != 1) continue;
    if (runs[op.scope].size() != 1 || runs[op.scope]["batch_norm"] != 1) continue;
    if (conv_op.inputs[1].impl() != conv->weight.impl()) continue;

    const Tensor &mean = bn->running_mean, &var = bn->running_var, &gamma = bn->weight, &beta = bn->bias;
    const ChannelAffine a =
        batch_norm_affine(bn->num_features, mean.data(), var.data(), gamma.defined() ? gamma.data() : nullptr,
                          beta.defined() ? beta.data() : nullptr, bn->eps);
    conv->fold_affine(a.scale, a.shift);
    bn->mark_folded(conv_op.scope);
    folded.push_back({conv_op.scope, op.scope});
  }
  return folded;
}

}  // namespace convnet::nn
