// The CUDA variants of the float32 convolution keys, on cuDNN: forward (with the inference
// post-ops: the residual sum through cuDNN's beta, the bias through cudnnAddTensor, the
// activation as a pass of its own), backward-data, backward-filter and the bias gradient.
// Grouped and depthwise convolutions are cuDNN's group count. The descriptors and the
// algorithms are found once per geometry (cudnnFind*, timed on the first call) and cached;
// workspaces come from the caching allocator. float32 is computed in float32 (FMA math, no
// TF32), as the CPU kernels and the reference twins.
//
// Reduced precision (the *_bf16 / *_f16 keys): activations in T, the float32 master weights
// rounded to T in a scratch buffer on each call (as torch.autocast casts them), tensor-core
// math with float32 accumulation (cuDNN's PSEUDO_BFLOAT16 / PSEUDO_HALF configurations).
// cuDNN's legacy API writes the product and the weight gradient in T, so where a bias, a
// residual or an activation follows, they are applied by one epilogue pass (conv2d_lowp.cu) with a
// second rounding (as PyTorch's separate bias add on CUDA), and the weight gradient is
// widened from T to the float32 gradient buffer (rounded to T once, as autocast's gradient of
// the cast weight is).
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "convnet/core/error.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/lowp.h"
#include "kernels/cuda/runtime.h"

namespace convnet::kernels::cuda {

namespace {

// One geometry's descriptors and algorithms (found on first use of each direction).
struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  std::once_flag fwd_once, bwd_data_once, bwd_filter_once;
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo{};
  size_t fwd_ws = 0, bwd_data_ws = 0, bwd_filter_ws = 0;

  Plan(const Conv2dGeom& g, cudnnDataType_t t) {
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    check(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor");
    check(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor");
    check(cudnnCreateTensorDescriptor(&bias), "cudnnCreateTensorDescriptor");
    check(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor");
    check(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor");
    check(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, t, i(g.N), i(g.C), i(g.H), i(g.W)),
          "cudnnSetTensor4dDescriptor (input)");
    check(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, t, i(g.N), i(g.OC), i(g.OH), i(g.OW)),
          "cudnnSetTensor4dDescriptor (output)");
    check(cudnnSetTensor4dDescriptor(bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, i(g.OC), 1, 1),
          "cudnnSetTensor4dDescriptor (bias)");
    check(cudnnSetFilter4dDescriptor(w, t, CUDNN_TENSOR_NCHW, i(g.OC), i(g.C / g.G), i(g.KH), i(g.KW)),
          "cudnnSetFilter4dDescriptor");
    check(cudnnSetConvolution2dDescriptor(conv, i(g.PH), i(g.PW), i(g.SH), i(g.SW), i(g.DH), i(g.DW),
                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "cudnnSetConvolution2dDescriptor");
    check(cudnnSetConvolutionGroupCount(conv, i(g.G)), "cudnnSetConvolutionGroupCount");
    check(cudnnSetConvolutionMathType(conv, t == CUDNN_DATA_FLOAT ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH),
          "cudnnSetConvolutionMathType");
    // cuDNN computes the output size from symmetric padding; the op's (bottom/right padding
    // from PyTorch's floor rule, or "same" with an odd total) must agree with it.
    int n = 0, c = 0, h = 0, wd = 0;
    check(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd), "cudnnGetConvolution2dForwardOutputDim");
    CONVNET_CHECK(h == g.OH && wd == g.OW, "conv2d on cuda: output ", g.OH, "x", g.OW,
                  " needs asymmetric padding, which cuDNN does not take (it computes ", h, "x", wd, ")");
  }
  ~Plan() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(bias);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
};

using Key = std::tuple<int, int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;
Plan& plan(const Ctx& c, const Conv2dGeom& g, cudnnDataType_t t = CUDNN_DATA_FLOAT) {
  static std::mutex mu;
  static auto* cache = new std::map<Key, std::unique_ptr<Plan>>;  // never destroyed
  const Key k{
      c.device, static_cast<int>(t), g.N, g.C, g.H, g.W, g.OC, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.G,
      g.OH};
  std::lock_guard<std::mutex> lock(mu);
  auto& p = (*cache)[k];
  if (!p) p = std::make_unique<Plan>(g, t);
  return *p;
}

// The fastest algorithm that cuDNN measured without an error.
template <class Perf>
const Perf& best_of(const Perf* perf, int count, const char* what) {
  for (int i = 0; i < count; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) return perf[i];
  throw Error(std::string("conv2d on cuda: cuDNN found no ") + what + " algorithm for this geometry");
}

// Finds one direction's algorithm once per plan: `find(count, &returned, perf)` is that
// direction's cudnnFind*; the fastest successful one and its workspace size are kept.
template <class Perf, class Algo, class Find>
void find_once(std::once_flag& once, int count, const char* what, Algo& algo, size_t& ws, Find find) {
  std::call_once(once, [&] {
    std::vector<Perf> perf(static_cast<size_t>(count));
    int n = 0;
    find(count, &n, perf.data());
    const Perf& best = best_of(perf.data(), n, what);
    algo = best.algo;
    ws = best.memory;
  });
}

// The algorithm of each direction, found on the plan's first call of it.
void find_fwd(cudnnHandle_t h, Plan& p) {
  find_once<cudnnConvolutionFwdAlgoPerf_t>(
      p.fwd_once, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, "forward", p.fwd_algo, p.fwd_ws, [&](int k, int* n, auto* perf) {
        check(cudnnFindConvolutionForwardAlgorithm(h, p.x, p.w, p.conv, p.y, k, n, perf),
              "cudnnFindConvolutionForwardAlgorithm");
      });
}
void find_bwd_data(cudnnHandle_t h, Plan& p) {
  find_once<cudnnConvolutionBwdDataAlgoPerf_t>(
      p.bwd_data_once, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, "backward-data", p.bwd_data_algo, p.bwd_data_ws,
      [&](int k, int* n, auto* perf) {
        check(cudnnFindConvolutionBackwardDataAlgorithm(h, p.w, p.y, p.conv, p.x, k, n, perf),
              "cudnnFindConvolutionBackwardDataAlgorithm");
      });
}
void find_bwd_filter(cudnnHandle_t h, Plan& p) {
  find_once<cudnnConvolutionBwdFilterAlgoPerf_t>(
      p.bwd_filter_once, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, "backward-filter", p.bwd_filter_algo, p.bwd_filter_ws,
      [&](int k, int* n, auto* perf) {
        check(cudnnFindConvolutionBackwardFilterAlgorithm(h, p.x, p.y, p.conv, p.w, k, n, perf),
              "cudnnFindConvolutionBackwardFilterAlgorithm");
      });
}

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  const Ctx c = ctx(y);
  Plan& p = plan(c, g);
  cudnnHandle_t h = c.cudnn();
  find_fwd(h, p);
  Scratch ws(c, p.fwd_ws);
  const float one = 1.f, zero = 0.f;
  const float* beta = g.post.sum ? &one : &zero;  // the residual is in y already
  check(cudnnConvolutionForward(h, &one, p.x, x, p.w, w, p.conv, p.fwd_algo, ws.get(), ws.bytes(), beta, p.y, y),
        "cudnnConvolutionForward");
  if (b) check(cudnnAddTensor(h, &one, p.bias, b, &one, p.y, y), "cudnnAddTensor (bias)");
  const int64_t n = g.N * g.OC * g.OH * g.OW;
  if (g.post.act == ConvPostOps::kRelu) launch::unary(launch::Unary::relu, n, 0.f, 0.f, y, y, c.stream);
  if (g.post.act == ConvPostOps::kClip) launch::unary(launch::Unary::clip, n, g.post.lo, g.post.hi, y, y, c.stream);
}

void backward_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx) {
  const Ctx c = ctx(gx);
  Plan& p = plan(c, g);
  cudnnHandle_t h = c.cudnn();
  find_bwd_data(h, p);
  Scratch ws(c, p.bwd_data_ws);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardData(h, &one, p.w, w, p.y, gy, p.conv, p.bwd_data_algo, ws.get(), ws.bytes(), &zero,
                                     p.x, gx),
        "cudnnConvolutionBackwardData");
}

void backward_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb) {
  const Ctx c = ctx(gw);
  Plan& p = plan(c, g);
  cudnnHandle_t h = c.cudnn();
  find_bwd_filter(h, p);
  Scratch ws(c, p.bwd_filter_ws);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardFilter(h, &one, p.x, x, p.y, gy, p.conv, p.bwd_filter_algo, ws.get(), ws.bytes(), &zero,
                                       p.w, gw),
        "cudnnConvolutionBackwardFilter");
  if (gb) check(cudnnConvolutionBackwardBias(h, &one, p.y, gy, &zero, p.bias, gb), "cudnnConvolutionBackwardBias");
}

void require_plain(int32_t a, int32_t b) {
  CONVNET_CHECK(a == 0 && b == 0, "conv2d on cuda: a channel-blocked tensor; GPU tensors are plain row-major");
}
void fwd_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                 int32_t yb) {
  require_plain(xb, yb);
  forward(g, x, w, b, y);
}
void bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx, int32_t gxb) {
  require_plain(gyb, gxb);
  backward_data(g, gy, w, gx);
}
void bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                        float* gb) {
  require_plain(xb, gyb);
  backward_weight(g, x, gy, gw, gb);
}
// GPU activations stay plain NCHW.
const Layout* layout(const Conv2dGeom&) {
  return nullptr;
}

int64_t weight_numel(const Conv2dGeom& g) {
  return g.OC * (g.C / g.G) * g.KH * g.KW;
}

template <class T>
void forward_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const float* w, const float* b, T* y, int32_t yb) {
  require_plain(xb, yb);
  const Ctx c = ctx(y);
  Plan& p = plan(c, g, Lowp<T>::cudnn);
  cudnnHandle_t h = c.cudnn();
  find_fwd(h, p);
  const Rounded<T> wt(c, weight_numel(g), w);
  Scratch ws(c, p.fwd_ws);
  const bool epilogue = b != nullptr || g.post.any();
  const int64_t ny = g.N * g.OC * g.OH * g.OW;
  Scratch product(c, epilogue ? static_cast<size_t>(ny) * sizeof(T) : 0);
  T* out = epilogue ? static_cast<T*>(product.get()) : y;
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionForward(h, &one, p.x, x, p.w, wt.get(), p.conv, p.fwd_algo, ws.get(), ws.bytes(), &zero, p.y,
                                out),
        "cudnnConvolutionForward");
  if (epilogue)
    launch::bias_epilogue<T, T>(g.N, g.OC, g.OH * g.OW, out, b, g.post.sum, g.post.act, g.post.lo, g.post.hi, y,
                                c.stream);
}
template <class T>
void backward_data_lowp(const Conv2dGeom& g, const T* gy, int32_t gyb, const float* w, T* gx, int32_t gxb) {
  require_plain(gyb, gxb);
  const Ctx c = ctx(gx);
  Plan& p = plan(c, g, Lowp<T>::cudnn);
  cudnnHandle_t h = c.cudnn();
  find_bwd_data(h, p);
  const Rounded<T> wt(c, weight_numel(g), w);
  Scratch ws(c, p.bwd_data_ws);
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardData(h, &one, p.w, wt.get(), p.y, gy, p.conv, p.bwd_data_algo, ws.get(), ws.bytes(),
                                     &zero, p.x, gx),
        "cudnnConvolutionBackwardData");
}
template <class T>
void backward_weight_lowp(const Conv2dGeom& g, const T* x, int32_t xb, const T* gy, int32_t gyb, float* gw, float* gb) {
  require_plain(xb, gyb);
  const Ctx c = ctx(gw);
  Plan& p = plan(c, g, Lowp<T>::cudnn);
  cudnnHandle_t h = c.cudnn();
  find_bwd_filter(h, p);
  Scratch ws(c, p.bwd_filter_ws);
  Scratch gwt(c, static_cast<size_t>(weight_numel(g)) * sizeof(T));
  const float one = 1.f, zero = 0.f;
  check(cudnnConvolutionBackwardFilter(h, &one, p.x, x, p.y, gy, p.conv, p.bwd_filter_algo, ws.get(), ws.bytes(), &zero,
                                       p.w, gwt.get()),
        "cudnnConvolutionBackwardFilter");
  launch::convert(weight_numel(g), Lowp<T>::dtype, gwt.get(), DType::float32, gw, c.stream);
  if (gb) launch::channel_sum<T>(g.N, g.OC, g.OH * g.OW, gy, gb, c.stream);
}
template <class T>
void register_conv_lowp() {
  constexpr auto dev = Device::Type::cuda;
  using K = keys::Conv2d<T>;
  K::layout->add("cuda", 10, &layout, dev);
  K::fwd->add("cuda", 10, &forward_lowp<T>, dev);
  K::bwd_data->add("cuda", 10, &backward_data_lowp<T>, dev);
  K::bwd_weight->add("cuda", 10, &backward_weight_lowp<T>, dev);
}

}  // namespace
}  // namespace convnet::kernels::cuda

namespace convnet::kernels {
void register_cuda_conv2d() {
  using namespace cuda;
  constexpr auto dev = Device::Type::cuda;
  keys::conv2d_layout.add("cuda", 10, &layout, dev);
  keys::conv2d_fwd_blocked.add("cuda", 10, &fwd_blocked, dev);
  keys::conv2d_bwd_data_blocked.add("cuda", 10, &bwd_data_blocked, dev);
  keys::conv2d_bwd_weight_blocked.add("cuda", 10, &bwd_weight_blocked, dev);
  keys::conv2d_fwd.add("cuda", 10, &forward, dev);
  keys::conv2d_bwd_data.add("cuda", 10, &backward_data, dev);
  keys::conv2d_bwd_weight.add("cuda", 10, &backward_weight, dev);
  register_conv_lowp<bf16_t>();
  register_conv_lowp<f16_t>();
}
}  // namespace convnet::kernels
