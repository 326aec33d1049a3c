#pragma once
// Shared plumbing of the oneDNN convolutions (conv2d_onednn.cpp: float32; conv2d_lowp_onednn.cpp:
// bfloat16): the geometry as oneDNN dims, the cache key, and running a primitive with a
// user-provided scratchpad.
#include <algorithm>
#include <bit>
#include <unordered_map>

#include "kernels/conv2d.h"
#include "kernels/cpu/onednn_common.h"

namespace convnet::kernels::onednn {

struct ConvDims {
  dims src, wei, dst, bias, strides, dilates, pad_l, pad_r;
  tag wei_tag;
};

inline ConvDims conv_dims(const Conv2dGeom& g) {
  ConvDims d;
  d.src = {g.N, g.C, g.H, g.W};
  d.dst = {g.N, g.OC, g.OH, g.OW};
  d.bias = {g.OC};
  if (g.G == 1) {
    d.wei = {g.OC, g.C, g.KH, g.KW};
    d.wei_tag = tag::oihw;
  } else {
    d.wei = {g.G, g.OC / g.G, g.C / g.G, g.KH, g.KW};
    d.wei_tag = tag::goihw;
  }
  d.strides = {g.SH, g.SW};
  d.dilates = {g.DH - 1, g.DW - 1};
  d.pad_l = {g.PH, g.PW};
  const int64_t pb = (g.OH - 1) * g.SH + (g.KH - 1) * g.DH + 1 - g.H - g.PH;
  const int64_t pr = (g.OW - 1) * g.SW + (g.KW - 1) * g.DW + 1 - g.W - g.PW;
  d.pad_r = {std::max<int64_t>(0, pb), std::max<int64_t>(0, pr)};
  return d;
}

// The geometry with its post-ops, a flag (bias), and the layouts of the two activation tensors
// involved.
using ConvKey = Key<23>;
inline ConvKey conv_key(const Conv2dGeom& g, int64_t flag, int32_t block_a, int32_t block_b) {
  return {{g.N,
           g.C,
           g.H,
           g.W,
           g.OC,
           g.KH,
           g.KW,
           g.SH,
           g.SW,
           g.PH,
           g.PW,
           g.DH,
           g.DW,
           g.G,
           g.OH,
           g.OW,
           flag,
           block_a,
           block_b,
           g.post.act,
           std::bit_cast<int32_t>(g.post.lo),
           std::bit_cast<int32_t>(g.post.hi),
           g.post.sum}};
}

inline dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// A forward primitive's attributes: the user scratchpad and g's post-ops (sum reads the
// destination as it is before the call).
inline dnnl::primitive_attr fwd_attr(const ConvPostOps& p) {
  dnnl::primitive_attr a = user_scratchpad();
  if (!p.any()) return a;
  dnnl::post_ops po;
  if (p.sum) po.append_sum(1.f);
  if (p.act == ConvPostOps::kRelu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  if (p.act == ConvPostOps::kClip) po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, p.lo, p.hi);
  a.set_post_ops(po);
  return a;
}

inline void run(dnnl::primitive& p, const dnnl::primitive_desc_base& pd, std::unordered_map<int, dnnl::memory> args) {
  const dnnl::memory::desc sp = pd.scratchpad_desc();
  Temp scratch(sp.get_size());
  args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(sp, engine(), scratch.get()));
  p.execute(stream(), args);
}

// The float32 convolutions (conv2d_onednn.cpp), which the bfloat16 ones use where AMX does
// not pay (few output channels).
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                        int32_t yb);
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx, int32_t gxb);
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                               float* gb);

}  // namespace convnet::kernels::onednn
