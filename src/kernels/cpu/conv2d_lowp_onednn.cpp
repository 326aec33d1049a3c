// bfloat16 conv2d on oneDNN (AMX / AVX512-BF16 where the CPU has them): bfloat16 activations,
// the float32 weights reordered to bfloat16 on the way in (rounding to nearest even, as the
// reference twin rounds them), float32 accumulation, float32 bias, and float32 weight and
// bias gradients. Primitives are created once per geometry and layouts, and cached.
//
// Outputs are channels-last (NHWC): the layout oneDNN's AMX convolutions compute in, so that a
// network's bfloat16 activations go from one convolution (and the batch norm, relu, pooling and
// add kernels between them) to the next without a reorder. Inputs come in any layout of
// kernels/layout.h.
#include "kernels/conv2d.h"
#include "kernels/cpu/onednn/conv_common.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/layout.h"
#include "kernels/registry.h"

namespace convnet::kernels::onednn {

namespace {

using dnnl::convolution_backward_data;
using dnnl::convolution_backward_weights;
using dnnl::convolution_forward;
using dnnl::memory;

memory::desc any(const dims& d, dt t) {
  return memory::desc(d, t, tag::any);
}

struct FwdEntry {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Reorder src, wei, dst;
};
struct BwdDataEntry {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  Reorder gy, wei, gx;
};
struct BwdWeightEntry {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  Reorder x, gy, gw;
};

convolution_forward::primitive_desc fwd_pd(const Conv2dGeom& g, bool bias) {
  const ConvDims d = conv_dims(g);
  const auto desc =
      bias ? convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                       any(d.src, dt::bf16), any(d.wei, dt::bf16), plain_md(d.bias, tag::x),
                                       any(d.dst, dt::bf16), d.strides, d.dilates, d.pad_l, d.pad_r)
           : convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                       any(d.src, dt::bf16), any(d.wei, dt::bf16), any(d.dst, dt::bf16), d.strides,
                                       d.dilates, d.pad_l, d.pad_r);
  return convolution_forward::primitive_desc(desc, user_scratchpad(), engine());
}

std::shared_ptr<FwdEntry> fwd_entry(const Conv2dGeom& g, bool bias, int32_t xb, int32_t yb) {
  static Cache<19, FwdEntry> cache;
  return cache.get(conv_key(g, bias, xb, yb), [&] {
    const ConvDims d = conv_dims(g);
    auto e = std::make_shared<FwdEntry>();
    e->pd = fwd_pd(g, bias);
    e->prim = convolution_forward(e->pd);
    e->src = Reorder(activation_md(d.src, xb, dt::bf16), e->pd.src_desc());
    e->wei = Reorder(plain_md(d.wei, d.wei_tag), e->pd.weights_desc());  // f32 -> bf16
    e->dst = Reorder(e->pd.dst_desc(), activation_md(d.dst, yb, dt::bf16));
    return e;
  });
}

}  // namespace

const Layout* conv2d_layout_bf16(const Conv2dGeom&) {
  return channels_last();
}

void conv2d_fwd_bf16(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const float* w, const float* b, bf16_t* y,
                     int32_t yb) {
  auto e = fwd_entry(g, b != nullptr, xb, yb);
  Temp tx, tw, ty;
  memory mx = e->src.in(x, tx), mw = e->wei.in(w, tw), my = e->dst.out(y, ty);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, my}};
  if (b) args.emplace(DNNL_ARG_BIAS, memory(plain_md({g.OC}, tag::x), engine(), const_cast<float*>(b)));
  run(e->prim, e->pd, std::move(args));
  e->dst.finish(my, y);
}

void conv2d_bwd_data_bf16(const Conv2dGeom& g, const bf16_t* gy, int32_t gyb, const float* w, bf16_t* gx, int32_t gxb) {
  static Cache<19, BwdDataEntry> cache;
  auto e = cache.get(conv_key(g, 0, gyb, gxb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = fwd_entry(g, false, 0, 0);
    auto en = std::make_shared<BwdDataEntry>();
    convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, any(d.src, dt::bf16),
                                         any(d.wei, dt::bf16), any(d.dst, dt::bf16), d.strides, d.dilates, d.pad_l,
                                         d.pad_r);
    en->pd = convolution_backward_data::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_data(en->pd);
    en->gy = Reorder(activation_md(d.dst, gyb, dt::bf16), en->pd.diff_dst_desc());
    en->wei = Reorder(plain_md(d.wei, d.wei_tag), en->pd.weights_desc());
    en->gx = Reorder(en->pd.diff_src_desc(), activation_md(d.src, gxb, dt::bf16));
    return en;
  });
  Temp tgy, tw, tgx;
  memory mgy = e->gy.in(gy, tgy), mw = e->wei.in(w, tw), mgx = e->gx.out(gx, tgx);
  run(e->prim, e->pd, {{DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mgx}});
  e->gx.finish(mgx, gx);
}

void conv2d_bwd_weight_bf16(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const bf16_t* gy, int32_t gyb, float* gw,
                            float* gb) {
  static Cache<19, BwdWeightEntry> cache;
  const bool bias = gb != nullptr;
  auto e = cache.get(conv_key(g, bias, xb, gyb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = fwd_entry(g, bias, 0, 0);
    auto en = std::make_shared<BwdWeightEntry>();
    // bfloat16 inputs, float32 weight (and bias) gradients.
    auto desc = bias ? convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(d.src, dt::bf16),
                                                          any(d.wei, dt::f32), plain_md(d.bias, tag::x),
                                                          any(d.dst, dt::bf16), d.strides, d.dilates, d.pad_l, d.pad_r)
                     : convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(d.src, dt::bf16),
                                                          any(d.wei, dt::f32), any(d.dst, dt::bf16), d.strides,
                                                          d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_weights::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_weights(en->pd);
    en->x = Reorder(activation_md(d.src, xb, dt::bf16), en->pd.src_desc());
    en->gy = Reorder(activation_md(d.dst, gyb, dt::bf16), en->pd.diff_dst_desc());
    en->gw = Reorder(en->pd.diff_weights_desc(), plain_md(d.wei, d.wei_tag));
    return en;
  });
  Temp tx, tgy, tgw;
  memory mx = e->x.in(x, tx), mgy = e->gy.in(gy, tgy), mgw = e->gw.out(gw, tgw);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mx}, {DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_DIFF_WEIGHTS, mgw}};
  if (bias) args.emplace(DNNL_ARG_DIFF_BIAS, memory(plain_md({g.OC}, tag::x), engine(), gb));
  run(e->prim, e->pd, std::move(args));
  e->gw.finish(mgw, gw);
}

}  // namespace convnet::kernels::onednn

namespace convnet::kernels {
void register_onednn_conv2d_lowp() {
  keys::conv2d_layout_bf16.add("onednn", 20, &onednn::conv2d_layout_bf16);
  keys::conv2d_fwd_bf16.add("onednn", 20, &onednn::conv2d_fwd_bf16);
  keys::conv2d_bwd_data_bf16.add("onednn", 20, &onednn::conv2d_bwd_data_bf16);
  keys::conv2d_bwd_weight_bf16.add("onednn", 20, &onednn::conv2d_bwd_weight_bf16);
}
}  // namespace convnet::kernels
