// conv2d on oneDNN: forward, backward-data and backward-weights primitives, created once
// per geometry and cached. The user's tensors are plain NCHW (weights OIHW, or GOIHW with
// groups); the primitives are created with format_tag::any so oneDNN picks its fastest
// internal (blocked) layouts, and cached reorders convert on the way in and out.
//
// Padding: oneDNN wants explicit right/bottom padding. The op only fixes the output size,
// so we pass the smallest non-negative bottom/right padding that gives the same OH/OW:
// PB = max(0, (OH-1)*SH + (KH-1)*DH + 1 - H - PH). (PyTorch's "same" with an even kernel
// has PB = PH + 1; a stride that leaves rows unread has PB = 0.) oneDNN's dilation is
// ours minus one (0 = dense).
#include <algorithm>

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

convolution_forward::desc fwd_desc(const ConvDims& d, bool bias) {
  const memory::desc any_src(d.src, dt::f32, tag::any), any_wei(d.wei, dt::f32, tag::any),
      any_dst(d.dst, dt::f32, tag::any);
  if (bias)
    return convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any_src,
                                     any_wei, plain_md(d.bias, tag::x), any_dst, d.strides, d.dilates, d.pad_l,
                                     d.pad_r);
  return convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, any_src,
                                   any_wei, any_dst, d.strides, d.dilates, d.pad_l, d.pad_r);
}

// ---- forward --------------------------------------------------------------------------
struct FwdEntry {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Reorder src, wei, dst;  // user -> primitive (src, wei); primitive -> user (dst)
};

Cache<24, FwdEntry>& fwd_cache() {
  static Cache<24, FwdEntry> c;
  return c;
}

std::shared_ptr<FwdEntry> fwd_entry(const Conv2dGeom& g, bool bias, int32_t xb, int32_t yb) {
  return fwd_cache().get(conv_key(g, bias, xb, yb), [&] {
    const ConvDims d = conv_dims(g);
    auto e = std::make_shared<FwdEntry>();
    e->pd = convolution_forward::primitive_desc(fwd_desc(d, bias), fwd_attr(g.post), engine());
    e->prim = convolution_forward(e->pd);
    e->src = Reorder(activation_md(d.src, xb), e->pd.src_desc());
    e->wei = Reorder(plain_md(d.wei, d.wei_tag), e->pd.weights_desc());
    e->dst = Reorder(e->pd.dst_desc(), activation_md(d.dst, yb));
    return e;
  });
}

// ---- backward data ----------------------------------------------------------------------
struct BwdDataEntry {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  Reorder gy, wei, gx;
};

Cache<24, BwdDataEntry>& bwd_data_cache() {
  static Cache<24, BwdDataEntry> c;
  return c;
}

// ---- backward weights -------------------------------------------------------------------
struct BwdWeightEntry {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  Reorder x, gy, gw;
};

Cache<24, BwdWeightEntry>& bwd_weight_cache() {
  static Cache<24, BwdWeightEntry> c;
  return c;
}

}  // namespace

// y = conv(x, w) + b, then g.post
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                        int32_t yb) {
  if (cpu::pointwise_pays(g, xb, yb)) return cpu::conv2d_fwd_pointwise(g, x, xb, w, b, y, yb);
  if (cpu::rows_pays(g, xb, yb)) return cpu::conv2d_fwd_rows(g, x, w, b, y);
  if (cpu::few_pixels_pays(g, xb, yb)) return cpu::conv2d_fwd_few_pixels(g, x, xb, w, b, y, yb);
  const ThreadLimit threads(conv_threads(g));
  if (cpu::winograd_pays(g, xb, yb, omp_get_max_threads())) return cpu::conv2d_fwd_winograd(g, x, xb, w, b, y);
  if (cpu::direct_pays(g, xb, yb)) return cpu::conv2d_fwd_direct(g, x, xb, w, b, y);
  auto e = fwd_entry(g, b != nullptr, xb, yb);
  // The sum post-op reads the destination: not there when the primitive writes a temp.
  if (g.post.sum && e->dst.needed())
    return with_emulated_post_ops(g, y, [&](const Conv2dGeom& pg) { conv2d_fwd_blocked(pg, x, xb, w, b, y, yb); });
  run_fwd(*e, g, x, w, b, y);
}

// gx = conv_transpose(gy, w)
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx,
                             int32_t gxb) {
  const ThreadLimit threads(conv_threads(g));
  // With 1-3 input channels per group (a network's first layer on images) oneDNN's
  // backward-data kernel runs 2-4x slower than GEMM + col2im (measured on LeNet's and
  // VGG's first layers), so those shapes stay on the im2col kernel when plain.
  if (g.C / g.G < 4 && gyb == 0 && gxb == 0) return cpu::conv2d_bwd_data(g, gy, w, gx);
  if (cpu::winograd_pays(winograd_bwd_data_geom(g), gyb, gxb, omp_get_max_threads()))
    return cpu::conv2d_bwd_data_winograd(g, gy, gyb, w, gx);
  auto e = bwd_data_cache().get(conv_key(g, 0, gyb, gxb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = fwd_entry(g, false, 0, 0);
    auto en = std::make_shared<BwdDataEntry>();
    convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, memory::desc(d.src, dt::f32, tag::any),
                                         memory::desc(d.wei, dt::f32, tag::any), memory::desc(d.dst, dt::f32, tag::any),
                                         d.strides, d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_data::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_data(en->pd);
    en->gy = Reorder(activation_md(d.dst, gyb), en->pd.diff_dst_desc());
    en->wei = Reorder(plain_md(d.wei, d.wei_tag), en->pd.weights_desc());
    en->gx = Reorder(en->pd.diff_src_desc(), activation_md(d.src, gxb));
    return en;
  });
  Temp tgy, tgx;
  std::shared_ptr<const Packed> pw;
  memory mgy = e->gy.in(gy, tgy), mw = weights_in(e->wei, w, g.w_id, g.w_version, pw), mgx = e->gx.out(gx, tgx);
  run(e->prim, e->pd, {{DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mgx}});
  e->gx.finish(mgx, gx);
}

// gw = sum_n corr(x, gy), gb = sum gy
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                               float* gb) {
  const ThreadLimit threads(conv_threads(g));
  const bool bias = gb != nullptr;
  auto e = bwd_weight_cache().get(conv_key(g, bias, xb, gyb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = fwd_entry(g, bias, 0, 0);
    auto en = std::make_shared<BwdWeightEntry>();
    const memory::desc any_src(d.src, dt::f32, tag::any), any_wei(d.wei, dt::f32, tag::any),
        any_dst(d.dst, dt::f32, tag::any);
    auto desc = bias ? convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any_src, any_wei,
                                                          plain_md(d.bias, tag::x), any_dst, d.strides, d.dilates,
                                                          d.pad_l, d.pad_r)
                     : convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any_src, any_wei,
                                                          any_dst, d.strides, d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_weights::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_weights(en->pd);
    en->x = Reorder(activation_md(d.src, xb), en->pd.src_desc());
    en->gy = Reorder(activation_md(d.dst, gyb), en->pd.diff_dst_desc());
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

// Blocked by the CPU's preferred block when the output channels fill whole blocks.
const Layout* conv2d_layout(const Conv2dGeom& g) {
  const int32_t B = preferred_block();
  return B > 0 && g.OC % B == 0 ? channel_blocked(B) : nullptr;
}

void conv2d_fwd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  conv2d_fwd_blocked(g, x, 0, w, b, y, 0);
}
void conv2d_bwd_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx) {
  conv2d_bwd_data_blocked(g, gy, 0, w, gx, 0);
}
void conv2d_bwd_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb) {
  conv2d_bwd_weight_blocked(g, x, 0, gy, 0, gw, gb);
}

}  // namespace convnet::kernels::onednn

namespace convnet::kernels {
void register_onednn_conv2d() {
  keys::conv2d_layout.add("onednn", 20, &onednn::conv2d_layout);
  keys::conv2d_fwd_blocked.add("onednn", 20, &onednn::conv2d_fwd_blocked);
  keys::conv2d_bwd_data_blocked.add("onednn", 20, &onednn::conv2d_bwd_data_blocked);
  keys::conv2d_bwd_weight_blocked.add("onednn", 20, &onednn::conv2d_bwd_weight_blocked);
  keys::conv2d_fwd.add("onednn", 20, &onednn::conv2d_fwd);
  keys::conv2d_bwd_data.add("onednn", 20, &onednn::conv2d_bwd_data);
  keys::conv2d_bwd_weight.add("onednn", 20, &onednn::conv2d_bwd_weight);
}
}  // namespace convnet::kernels
