// conv3d on oneDNN: forward, backward-data and backward-weights primitives over plain
// (N, C, D, H, W) tensors and (O, I, KD, KH, KW) (or grouped GOIDHW) weights, created once per
// geometry and cached; oneDNN picks its own layouts inside (format_tag::any) and cached
// reorders convert on the way in and out, with the weight prepacked across calls as for
// conv2d (onednn/conv_common.h). Padding on the far side is the smallest that gives the
// output size (see conv2d_onednn.cpp); oneDNN's dilation is ours minus one.
#include <algorithm>

#include "kernels/cpu/onednn/conv_common.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/registry.h"
#include "kernels/vol.h"

namespace convnet::kernels::onednn {

namespace {

using dnnl::convolution_backward_data;
using dnnl::convolution_backward_weights;
using dnnl::convolution_forward;
using dnnl::memory;

struct Dims3 {
  dims src, wei, dst, bias, strides, dilates, pad_l, pad_r;
  tag wei_tag;
};

Dims3 dims3(const Conv3dGeom& g) {
  Dims3 d;
  d.src = {g.N, g.C, g.in[0], g.in[1], g.in[2]};
  d.dst = {g.N, g.OC, g.out[0], g.out[1], g.out[2]};
  d.bias = {g.OC};
  if (g.G == 1) {
    d.wei = {g.OC, g.C, g.k[0], g.k[1], g.k[2]};
    d.wei_tag = tag::oidhw;
  } else {
    d.wei = {g.G, g.OC / g.G, g.C / g.G, g.k[0], g.k[1], g.k[2]};
    d.wei_tag = tag::goidhw;
  }
  for (int a = 0; a < 3; ++a) {
    d.strides.push_back(g.s[a]);
    d.dilates.push_back(g.d[a] - 1);
    d.pad_l.push_back(g.p[a]);
    d.pad_r.push_back(std::max<int64_t>(0, (g.out[a] - 1) * g.s[a] + (g.k[a] - 1) * g.d[a] + 1 - g.in[a] - g.p[a]));
  }
  return d;
}

using Key3 = Key<24>;
Key3 key3(const Conv3dGeom& g, int64_t flag) {
  return {{g.N,    g.C,    g.OC,   g.G,      g.in[0],  g.in[1],  g.in[2], g.k[0],
           g.k[1], g.k[2], g.s[0], g.s[1],   g.s[2],   g.p[0],   g.p[1],  g.p[2],
           g.d[0], g.d[1], g.d[2], g.out[0], g.out[1], g.out[2], flag,    omp_get_max_threads()}};
}

memory::desc any(const dims& d) {
  return memory::desc(d, dt::f32, tag::any);
}

struct Conv3dFwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Reorder src, wei, dst;
};
Cache<24, Conv3dFwd>& conv3d_fwd_cache() {
  static Cache<24, Conv3dFwd> c;
  return c;
}
std::shared_ptr<Conv3dFwd> conv3d_fwd_entry(const Conv3dGeom& g, bool bias) {
  return conv3d_fwd_cache().get(key3(g, bias), [&] {
    const Dims3 d = dims3(g);
    const auto desc =
        bias ? convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         any(d.src), any(d.wei), plain_md(d.bias, tag::x), any(d.dst), d.strides,
                                         d.dilates, d.pad_l, d.pad_r)
             : convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         any(d.src), any(d.wei), any(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
    auto e = std::make_shared<Conv3dFwd>();
    e->pd = convolution_forward::primitive_desc(desc, user_scratchpad(), engine());
    e->prim = convolution_forward(e->pd);
    e->src = Reorder(plain_md(d.src, tag::ncdhw), e->pd.src_desc());
    e->wei = Reorder(plain_md(d.wei, d.wei_tag), e->pd.weights_desc());
    e->dst = Reorder(e->pd.dst_desc(), plain_md(d.dst, tag::ncdhw));
    return e;
  });
}

struct Conv3dBwdData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  Reorder gy, wei, gx;
};
struct Conv3dBwdWeight {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  Reorder x, gy, gw;
};

}  // namespace

void conv3d_fwd(const Conv3dGeom& g, const float* x, const float* w, const float* b, float* y) {
  auto e = conv3d_fwd_entry(g, b != nullptr);
  Temp tx, ty;
  std::shared_ptr<const Packed> pw;
  memory mx = e->src.in(x, tx), mw = weights_in(e->wei, w, g.w_id, g.w_version, pw), my = e->dst.out(y, ty);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, my}};
  if (b) args.emplace(DNNL_ARG_BIAS, memory(plain_md({g.OC}, tag::x), engine(), const_cast<float*>(b)));
  run(e->prim, e->pd, std::move(args));
  e->dst.finish(my, y);
}

void conv3d_bwd_data(const Conv3dGeom& g, const float* gy, const float* w, float* gx) {
  static Cache<24, Conv3dBwdData> cache;
  auto e = cache.get(key3(g, 0), [&] {
    const Dims3 d = dims3(g);
    auto hint = conv3d_fwd_entry(g, false);
    auto en = std::make_shared<Conv3dBwdData>();
    convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, any(d.src), any(d.wei), any(d.dst),
                                         d.strides, d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_data::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_data(en->pd);
    en->gy = Reorder(plain_md(d.dst, tag::ncdhw), en->pd.diff_dst_desc());
    en->wei = Reorder(plain_md(d.wei, d.wei_tag), en->pd.weights_desc());
    en->gx = Reorder(en->pd.diff_src_desc(), plain_md(d.src, tag::ncdhw));
    return en;
  });
  Temp tgy, tgx;
  std::shared_ptr<const Packed> pw;
  memory mgy = e->gy.in(gy, tgy), mw = weights_in(e->wei, w, g.w_id, g.w_version, pw), mgx = e->gx.out(gx, tgx);
  run(e->prim, e->pd, {{DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mgx}});
  e->gx.finish(mgx, gx);
}

void conv3d_bwd_weight(const Conv3dGeom& g, const float* x, const float* gy, float* gw, float* gb) {
  static Cache<24, Conv3dBwdWeight> cache;
  const bool bias = gb != nullptr;
  auto e = cache.get(key3(g, bias), [&] {
    const Dims3 d = dims3(g);
    auto hint = conv3d_fwd_entry(g, bias);
    auto en = std::make_shared<Conv3dBwdWeight>();
    auto desc = bias ? convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(d.src), any(d.wei),
                                                          plain_md(d.bias, tag::x), any(d.dst), d.strides, d.dilates,
                                                          d.pad_l, d.pad_r)
                     : convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(d.src), any(d.wei),
                                                          any(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_weights::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_weights(en->pd);
    en->x = Reorder(plain_md(d.src, tag::ncdhw), en->pd.src_desc());
    en->gy = Reorder(plain_md(d.dst, tag::ncdhw), en->pd.diff_dst_desc());
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
void register_onednn_conv3d() {
  keys::conv3d_fwd.add("onednn", 20, &onednn::conv3d_fwd);
  keys::conv3d_bwd_data.add("onednn", 20, &onednn::conv3d_bwd_data);
  keys::conv3d_bwd_weight.add("onednn", 20, &onednn::conv3d_bwd_weight);
}
}  // namespace convnet::kernels
