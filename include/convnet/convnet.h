#pragma once
#pragma GCC visibility push(default)
/// \file
/// The whole public API of convnet in one include: tensors and autograd, the ops, layers
/// and modules, the model zoo, data loading, optimizers, training, ONNX and safetensors
/// input/output, inference sessions and visualization. Link `convnet::convnet`
/// (CMake: `find_package(convnet 0.2 REQUIRED)`) or `pkg-config --libs convnet`.

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/dtype.h"
#include "convnet/core/error.h"
#include "convnet/core/layout.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "convnet/core/shape.h"
#include "convnet/core/storage.h"
#include "convnet/core/tensor.h"
#include "convnet/core/threads.h"
#include "convnet/data/cifar.h"
#include "convnet/data/dataloader.h"
#include "convnet/data/dataset.h"
#include "convnet/data/datasets.h"
#include "convnet/data/idx.h"
#include "convnet/data/image.h"
#include "convnet/data/image_folder.h"
#include "convnet/data/mixup.h"
#include "convnet/data/transforms.h"
#include "convnet/dist/data_parallel.h"
#include "convnet/dist/dist.h"
#include "convnet/inference/session.h"
#include "convnet/io/onnx.h"
#include "convnet/io/onnx_export.h"
#include "convnet/io/pth.h"
#include "convnet/io/safetensors.h"
#include "convnet/io/weights.h"
#include "convnet/models/classic.h"
#include "convnet/models/convnext.h"
#include "convnet/models/densenet.h"
#include "convnet/models/efficientnet.h"
#include "convnet/models/googlenet.h"
#include "convnet/models/lenet.h"
#include "convnet/models/mnasnet.h"
#include "convnet/models/mobilenet.h"
#include "convnet/models/registry.h"
#include "convnet/models/regnet.h"
#include "convnet/models/resnet.h"
#include "convnet/models/shufflenet.h"
#include "convnet/models/squeezenet.h"
#include "convnet/nn/fuse.h"
#include "convnet/nn/init.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/module.h"
#include "convnet/nn/sequential.h"
#include "convnet/nn/summary.h"
#include "convnet/nn/volumetric.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/batch_norm.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/clamp.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/conv2d.h"
#include "convnet/ops/conv_transpose.h"
#include "convnet/ops/dropout.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/interpolate.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/loss.h"
#include "convnet/ops/norm.h"
#include "convnet/ops/output_size.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "convnet/ops/pool2d.h"
#include "convnet/ops/softmax.h"
#include "convnet/ops/volumetric.h"
#include "convnet/optim/adam.h"
#include "convnet/optim/grad_scaler.h"
#include "convnet/optim/lr_scheduler.h"
#include "convnet/optim/optimizer.h"
#include "convnet/optim/sgd.h"
#include "convnet/train/bench.h"
#include "convnet/train/checkpoint.h"
#include "convnet/train/finetune.h"
#include "convnet/train/inputs.h"
#include "convnet/train/metrics.h"
#include "convnet/train/options.h"
#include "convnet/train/plot_svg.h"
#include "convnet/train/trainer.h"
#include "convnet/version.h"
#include "convnet/viz/commands.h"
#include "convnet/viz/picture.h"
#include "convnet/viz/report.h"
#include "convnet/viz/visualize.h"

/// Everything of convnet: tensors (Tensor, DType, Device, Shape), errors (Error) and the
/// sub-namespaces below.
namespace convnet {
/// Differentiable operations on tensors, as torch.nn.functional: each records its backward
/// when gradients are enabled.
namespace ops {}
/// Layers (Conv2d, BatchNorm2d, Linear, ...), the Module base class, Sequential, weight
/// initialization, model summaries and folding of BatchNorm into convolutions.
namespace nn {
/// Weight initializers, as torch.nn.init.
namespace init {}
}  // namespace nn
/// Recording of backward functions for custom differentiable ops (Function-style).
namespace autograd {}
/// Tracing of the ops a module runs (the ONNX exporter and the summary use it).
namespace trace {}
/// Per-op timing of forward, backward and the optimizer step.
namespace profiler {}
/// Allocation statistics of tensor storage.
namespace memory {}
/// The model zoo, with torchvision's names and parameter names.
namespace models {}
/// Datasets (idx, CIFAR, image folders), transforms, augmentation and the DataLoader.
namespace data {}
/// Optimizers (SGD, Adam, AdamW, ...), learning-rate schedules and the gradient scaler.
namespace optim {}
/// The training loop, checkpoints, metrics, fine-tuning and the benchmark harness.
namespace train {}
/// File formats: safetensors, weights by name, ONNX import and export.
namespace io {}
/// Saliency maps, activation and filter pictures, and the HTML report.
namespace viz {}
}  // namespace convnet
#pragma GCC visibility pop
