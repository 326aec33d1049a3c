// bfloat16 conv2d on oneDNN (AMX / AVX512-BF16 where the CPU has them): bfloat16 activations,
// the float32 weights reordered to bfloat16 on the way in (rounding to nearest even, as the
// reference twin rounds them), float32 accumulation, float32 bias, and float32 weight and
// bias gradients. Primitives are created once per geometry and layouts, and cached.
//
// Outputs are channels-last (NHWC): the layout oneDNN's AMX convolutions compute in, so that a
// network's bfloat16 activations go from one convolution (and the batch norm, relu, pooling and
// add kernels between them) to the next without a reorder. Inputs come in any layout of
// kernels/layout.h.
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/onednn/conv_common.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/cpu/parallel.h"
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

struct LowpFwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Reorder src, wei, dst;
};
struct LowpBwdData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  Reorder gy, wei, gx;
};
struct LowpBwdWeight {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  Reorder x, gy, gw;
};

// Activations as the primitive should take them: channels-last, the network's bfloat16 layout
// (conv2d_layout_bf16). Left to choose, oneDNN's avx512_core_bf16 kernels (a CPU with AVX-512
// BF16 and no AMX) picked nChw16c, and every convolution paid a reorder in and out, and
// emulated its residual sum: with nhwc, ResNet-20 at batch 128 on 2 threads ran 2,940 ->
// 5,180 images/s in inference and 1,200 -> 1,335 in training, MobileNetV2 500 -> 930 in
// training (oneDNN's depthwise kernel had picked nChw16c too: a third of MobileNetV2's time).
// (AMX kernels pick channels-last themselves.)
memory::desc act(const dims& d) {
  return memory::desc(d, dt::bf16, tag::nhwc);
}

convolution_forward::primitive_desc fwd_pd(const Conv2dGeom& g, bool bias) {
  const ConvDims d = conv_dims(g);
  const auto desc =
      bias ? convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                       act(d.src), any(d.wei, dt::bf16), plain_md(d.bias, tag::x), act(d.dst),
                                       d.strides, d.dilates, d.pad_l, d.pad_r)
           : convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                       act(d.src), any(d.wei, dt::bf16), act(d.dst), d.strides, d.dilates, d.pad_l,
                                       d.pad_r);
  return convolution_forward::primitive_desc(desc, fwd_attr(g.post), engine());
}

std::shared_ptr<LowpFwd> lowp_fwd_entry(const Conv2dGeom& g, bool bias, int32_t xb, int32_t yb) {
  static Cache<24, LowpFwd> cache;
  return cache.get(conv_key(g, bias, xb, yb), [&] {
    const ConvDims d = conv_dims(g);
    auto e = std::make_shared<LowpFwd>();
    e->pd = fwd_pd(g, bias);
    e->prim = convolution_forward(e->pd);
    e->src = Reorder(activation_md(d.src, xb, dt::bf16), e->pd.src_desc());
    e->wei = Reorder(plain_md(d.wei, d.wei_tag), e->pd.weights_desc());  // f32 -> bf16
    e->dst = Reorder(e->pd.dst_desc(), activation_md(d.dst, yb, dt::bf16));
    return e;
  });
}

// ---- small output planes: one GEMM over the whole batch ----------------------------------
// oneDNN's direct bf16 convolutions work image by image; with a 4x4 or 2x2 output plane (the
// deep layers of VGG on 32x32 inputs) each image gives a few rows, the 512x512x3x3 weights are
// streamed once per image, and they run at 100-300 GFLOP/s. As GEMMs over all N*OH*OW output
// positions at once (oneDNN's AMX matmul) they run at about 1.7 TFLOP/s: with the patches of
// channels-last x as rows (im2col, K = KH*KW*C in (kh, kw, c) order) and the weights as OHWI,
//   y  [M, OC] = col [M, K] W^T        (y channels-last: exactly the GEMM's output)
//   dcol [M, K] = gy [M, OC] W          (float32, then scattered back: col2im)
//   gW [OC, K] = gy^T col               (float32, OHWI, reordered to OIHW)
// Every product is of bfloat16 values accumulated in float32, as the direct primitives.
// Only with AMX: on a CPU with AVX-512 BF16 and no AMX (a Zen 4) the route's matmul and
// im2col were slower than the direct primitives (MobileNetV2 bf16 inference at batch 128 on 2
// threads 12,460 -> 16,410 images/s without it, VGG-11 1,400 -> 1,620; training even or
// faster). CONVNET_BF16_GEMM=1 takes it on any CPU with bf16 primitives (the tests do, so
// that it stays covered), =0 never.
bool use_gemm(const Conv2dGeom& g) {
  static const int forced = [] {
    const char* env = std::getenv("CONVNET_BF16_GEMM");
    return env && (env[0] == '0' || env[0] == '1') && env[1] == '\0' ? env[0] - '0' : -1;
  }();
  const bool route = forced == 1 || (forced == -1 && amx_primitives());
  return route && g.G == 1 && g.OH * g.OW <= 16 && g.N * g.OH * g.OW >= 64;
}

struct LowpGemm {
  int64_t M, K;
  dnnl::matmul fwd, fwd_bias, bwd_data, bwd_weight;
  dnnl::matmul::primitive_desc fwd_pd, fwd_bias_pd, bwd_data_pd, bwd_weight_pd;
  Reorder wei;  // f32 OIHW -> bf16 OHWI
  Reorder gw;   // f32 OHWI -> f32 OIHW
};

std::shared_ptr<LowpGemm> lowp_gemm_entry(const Conv2dGeom& g) {
  static Cache<24, LowpGemm> cache;
  return cache.get(conv_key(g, 0, 0, 0), [&] {
    auto e = std::make_shared<LowpGemm>();
    const int64_t M = g.N * g.OH * g.OW, K = g.KH * g.KW * g.C, OC = g.OC;
    e->M = M, e->K = K;
    const memory::desc col({M, K}, dt::bf16, tag::ab), w_t({K, OC}, dt::bf16, tag::ba), w({OC, K}, dt::bf16, tag::ab),
        y({M, OC}, dt::bf16, tag::ab), bias({1, OC}, dt::f32, tag::ab), dcol({M, K}, dt::f32, tag::ab),
        gy_t({OC, M}, dt::bf16, tag::ba), gw({OC, K}, dt::f32, tag::ab);
    e->fwd_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(col, w_t, y), user_scratchpad(), engine());
    e->fwd_bias_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(col, w_t, bias, y), user_scratchpad(), engine());
    e->bwd_data_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(y, w, dcol), user_scratchpad(), engine());
    e->bwd_weight_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(gy_t, col, gw), user_scratchpad(), engine());
    e->fwd = dnnl::matmul(e->fwd_pd), e->fwd_bias = dnnl::matmul(e->fwd_bias_pd);
    e->bwd_data = dnnl::matmul(e->bwd_data_pd), e->bwd_weight = dnnl::matmul(e->bwd_weight_pd);
    const dims wd = {g.OC, g.C, g.KH, g.KW};
    e->wei = Reorder(memory::desc(wd, dt::f32, tag::oihw), memory::desc(wd, dt::bf16, tag::ohwi));
    e->gw = Reorder(memory::desc(wd, dt::f32, tag::ohwi), memory::desc(wd, dt::f32, tag::oihw));
    return e;
  });
}

// x (any layout of kernels/layout.h) as channels-last: x itself, or a reordered copy in tmp.
const uint16_t* as_nhwc(const Conv2dGeom& g, const bf16_t* x, int32_t xb, Temp& tmp, bool output_side) {
  const int64_t C = output_side ? g.OC : g.C, H = output_side ? g.OH : g.H, W = output_side ? g.OW : g.W;
  if (xb == C) return reinterpret_cast<const uint16_t*>(x);
  const dims d = {g.N, C, H, W};
  Reorder r(activation_md(d, xb, dt::bf16), memory::desc(d, dt::bf16, tag::nhwc));
  return static_cast<const uint16_t*>(r.in(x, tmp).get_data_handle());
}

// col [M, K]: row m = (n, oh, ow) holds the KH*KW input pixels of its window, C channels each
// (zeros where the window is in the padding).
void im2col(const Conv2dGeom& g, const uint16_t* x, uint16_t* col) {
  const int64_t C = g.C, K = g.KH * g.KW * C;
  cpu::parallel_for(g.N * g.OH * g.OW, K, [&](int64_t m) {
    const int64_t n = m / (g.OH * g.OW), oh = (m / g.OW) % g.OH, ow = m % g.OW;
    uint16_t* row = col + m * K;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw, row += C) {
        const int64_t ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W)
          std::memset(row, 0, sizeof(uint16_t) * C);
        else
          std::memcpy(row, x + ((n * g.H + ih) * g.W + iw) * C, sizeof(uint16_t) * C);
      }
  });
}

// gx = col2im(dcol): each image's windows add their float32 columns into a float32 plane,
// which is rounded once to bfloat16 (as the reference rounds once).
void col2im(const Conv2dGeom& g, const float* dcol, uint16_t* gx) {
  const int64_t C = g.C, K = g.KH * g.KW * C, HWC = g.H * g.W * C;
  cpu::parallel_for(g.N, HWC, [&](int64_t n) {
    std::vector<float> acc(static_cast<size_t>(HWC), 0.f);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float* row = dcol + ((n * g.OH + oh) * g.OW + ow) * K;
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw, row += C) {
            const int64_t ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            float* a = acc.data() + (ih * g.W + iw) * C;
            for (int64_t c = 0; c < C; ++c) a[c] += row[c];
          }
      }
    uint16_t* out = gx + n * HWC;
    for (int64_t i = 0; i < HWC; ++i) out[i] = cpu::f2bf(acc[i]);
  });
}

void gemm_fwd(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const float* w, const float* b, bf16_t* y, int32_t yb) {
  auto e = lowp_gemm_entry(g);
  Temp tx, tcol(sizeof(uint16_t) * e->M * e->K), ty;
  im2col(g, as_nhwc(g, x, xb, tx, false), static_cast<uint16_t*>(tcol.get()));
  std::shared_ptr<const Packed> pw;
  memory mw = weights_in(e->wei, w, g.w_id, g.w_version, pw);
  // y straight into the user's buffer when it is channels-last, else into a temp, reordered.
  const dims yd = {g.N, g.OC, g.OH, g.OW};
  const Reorder out(memory::desc(yd, dt::bf16, tag::nhwc), activation_md(yd, yb, dt::bf16));
  memory my = out.out(y, ty);
  const auto& pd = b ? e->fwd_bias_pd : e->fwd_pd;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(pd.src_desc(), engine(), tcol.get())},
                                       {DNNL_ARG_WEIGHTS, memory(pd.weights_desc(), engine(), mw.get_data_handle())},
                                       {DNNL_ARG_DST, memory(pd.dst_desc(), engine(), my.get_data_handle())}};
  if (b) args.emplace(DNNL_ARG_BIAS, memory(pd.bias_desc(), engine(), const_cast<float*>(b)));
  run(b ? e->fwd_bias : e->fwd, pd, std::move(args));
  out.finish(my, y);
}

void gemm_bwd_data(const Conv2dGeom& g, const bf16_t* gy, int32_t gyb, const float* w, bf16_t* gx, int32_t gxb) {
  auto e = lowp_gemm_entry(g);
  Temp tgy, tdcol(sizeof(float) * e->M * e->K), tgx;
  const uint16_t* gyp = as_nhwc(g, gy, gyb, tgy, true);
  std::shared_ptr<const Packed> pw;
  memory mw = weights_in(e->wei, w, g.w_id, g.w_version, pw);
  run(e->bwd_data, e->bwd_data_pd,
      {{DNNL_ARG_SRC, memory(e->bwd_data_pd.src_desc(), engine(), const_cast<uint16_t*>(gyp))},
       {DNNL_ARG_WEIGHTS, memory(e->bwd_data_pd.weights_desc(), engine(), mw.get_data_handle())},
       {DNNL_ARG_DST, memory(e->bwd_data_pd.dst_desc(), engine(), tdcol.get())}});
  const dims xd = {g.N, g.C, g.H, g.W};
  const Reorder out(memory::desc(xd, dt::bf16, tag::nhwc), activation_md(xd, gxb, dt::bf16));
  memory mgx = out.out(gx, tgx);
  col2im(g, static_cast<const float*>(tdcol.get()), static_cast<uint16_t*>(mgx.get_data_handle()));
  out.finish(mgx, gx);
}

void gemm_bwd_weight(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const bf16_t* gy, int32_t gyb, float* gw,
                     float* gb) {
  auto e = lowp_gemm_entry(g);
  Temp tx, tgy, tcol(sizeof(uint16_t) * e->M * e->K);
  im2col(g, as_nhwc(g, x, xb, tx, false), static_cast<uint16_t*>(tcol.get()));
  const uint16_t* gyp = as_nhwc(g, gy, gyb, tgy, true);
  // gW in OHWI, reordered to OIHW (for 1x1 kernels the two are one: straight into gw).
  Temp tgw;
  memory mgw = e->gw.out(gw, tgw);
  run(e->bwd_weight, e->bwd_weight_pd,
      {{DNNL_ARG_SRC, memory(e->bwd_weight_pd.src_desc(), engine(), const_cast<uint16_t*>(gyp))},
       {DNNL_ARG_WEIGHTS, memory(e->bwd_weight_pd.weights_desc(), engine(), tcol.get())},
       {DNNL_ARG_DST, memory(e->bwd_weight_pd.dst_desc(), engine(), mgw.get_data_handle())}});
  e->gw.finish(mgw, gw);
  if (gb) {
    // Column sums of gy [M, OC] in float32, per thread then in thread order.
    const int64_t M = e->M, OC = g.OC;
    std::vector<float> part(static_cast<size_t>(omp_get_max_threads()) * OC, 0.f);
    int used = 1;
#pragma omp parallel
    {
      const int t = omp_get_thread_num(), T = omp_get_num_threads();
#pragma omp single
      used = T;
      float* acc = part.data() + static_cast<size_t>(t) * OC;
      for (int64_t m = M * t / T; m < M * (t + 1) / T; ++m)
        for (int64_t o = 0; o < OC; ++o) acc[o] += cpu::bf2f(gyp[m * OC + o]);
    }
    for (int64_t o = 0; o < OC; ++o) {
      float s = 0.f;
      for (int t = 0; t < used; ++t) s += part[static_cast<size_t>(t) * OC + o];
      gb[o] = s;
    }
  }
}

// ---- few output channels: float32 compute ------------------------------------------------
// With fewer than 16 output channels (LeNet's 6) AMX tiles run mostly empty and the bfloat16
// primitives lose to the float32 ones. The float32 convolution of the widened values and the
// bfloat16-rounded weights, rounded once, is the same arithmetic (bfloat16 products are exact
// in float32, accumulated in float32), so it serves as the bfloat16 kernel there; the output
// stays plain (a channels-last tensor of 6 channels gives the vector loops nothing to do).
bool use_f32(const Conv2dGeom& g) {
  return g.OC < 16 || !bf16_primitives();
}

void f32_fwd(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const float* w, const float* b, bf16_t* y, int32_t yb) {
  const cpu::FloatBuffer wf = cpu::rounded_bf16(w, g.OC * (g.C / g.G) * g.KH * g.KW);
  cpu::via_float32(x, g.N * g.C * g.H * g.W, y, g.N * g.OC * g.OH * g.OW,
                   [&](const float* in, float* out) { conv2d_fwd_blocked(g, in, xb, wf.data(), b, out, yb); });
}
void f32_bwd_data(const Conv2dGeom& g, const bf16_t* gy, int32_t gyb, const float* w, bf16_t* gx, int32_t gxb) {
  const cpu::FloatBuffer wf = cpu::rounded_bf16(w, g.OC * (g.C / g.G) * g.KH * g.KW);
  cpu::via_float32(gy, g.N * g.OC * g.OH * g.OW, gx, g.N * g.C * g.H * g.W,
                   [&](const float* in, float* out) { conv2d_bwd_data_blocked(g, in, gyb, wf.data(), out, gxb); });
}
void f32_bwd_weight(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const bf16_t* gy, int32_t gyb, float* gw,
                    float* gb) {
  const cpu::FloatBuffer xf = cpu::widened(x, g.N * g.C * g.H * g.W), gyf = cpu::widened(gy, g.N * g.OC * g.OH * g.OW);
  conv2d_bwd_weight_blocked(g, xf.data(), xb, gyf.data(), gyb, gw, gb);
}

}  // namespace

// Channels-last, except with few output channels (float32 compute, plain).
const Layout* conv2d_layout_bf16(const Conv2dGeom& g) {
  return use_f32(g) ? nullptr : channels_last();
}

void conv2d_fwd_bf16(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const float* w, const float* b, bf16_t* y,
                     int32_t yb) {
  const ThreadLimit threads(conv_threads(g));
  auto emulated = [&](auto&& conv) { with_emulated_post_ops(g, y, [&](const Conv2dGeom& pg) { conv(pg); }); };
  // The float32 route fuses an activation (one rounding); a sum would need y widened first.
  if (use_f32(g)) {
    if (g.post.sum) return emulated([&](const Conv2dGeom& pg) { f32_fwd(pg, x, xb, w, b, y, yb); });
    return f32_fwd(g, x, xb, w, b, y, yb);
  }
  if (use_gemm(g)) return emulated([&](const Conv2dGeom& pg) { gemm_fwd(pg, x, xb, w, b, y, yb); });
  auto e = lowp_fwd_entry(g, b != nullptr, xb, yb);
  if (g.post.sum && e->dst.needed())
    return emulated([&](const Conv2dGeom& pg) { conv2d_fwd_bf16(pg, x, xb, w, b, y, yb); });
  run_fwd(*e, g, x, w, b, y);
}

void conv2d_bwd_data_bf16(const Conv2dGeom& g, const bf16_t* gy, int32_t gyb, const float* w, bf16_t* gx, int32_t gxb) {
  const ThreadLimit threads(conv_threads(g));
  if (use_f32(g)) return f32_bwd_data(g, gy, gyb, w, gx, gxb);
  if (use_gemm(g)) return gemm_bwd_data(g, gy, gyb, w, gx, gxb);
  static Cache<24, LowpBwdData> cache;
  auto e = cache.get(conv_key(g, 0, gyb, gxb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = lowp_fwd_entry(g, false, 0, 0);
    auto en = std::make_shared<LowpBwdData>();
    convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, act(d.src), any(d.wei, dt::bf16),
                                         act(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
    en->pd = convolution_backward_data::primitive_desc(desc, user_scratchpad(), engine(), hint->pd);
    en->prim = convolution_backward_data(en->pd);
    en->gy = Reorder(activation_md(d.dst, gyb, dt::bf16), en->pd.diff_dst_desc());
    en->wei = Reorder(plain_md(d.wei, d.wei_tag), en->pd.weights_desc());
    en->gx = Reorder(en->pd.diff_src_desc(), activation_md(d.src, gxb, dt::bf16));
    return en;
  });
  Temp tgy, tgx;
  std::shared_ptr<const Packed> pw;
  memory mgy = e->gy.in(gy, tgy), mw = weights_in(e->wei, w, g.w_id, g.w_version, pw), mgx = e->gx.out(gx, tgx);
  run(e->prim, e->pd, {{DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mgx}});
  e->gx.finish(mgx, gx);
}

void conv2d_bwd_weight_bf16(const Conv2dGeom& g, const bf16_t* x, int32_t xb, const bf16_t* gy, int32_t gyb, float* gw,
                            float* gb) {
  const ThreadLimit threads(conv_threads(g));
  if (use_f32(g)) return f32_bwd_weight(g, x, xb, gy, gyb, gw, gb);
  if (use_gemm(g)) return gemm_bwd_weight(g, x, xb, gy, gyb, gw, gb);
  static Cache<24, LowpBwdWeight> cache;
  const bool bias = gb != nullptr;
  auto e = cache.get(conv_key(g, bias, xb, gyb), [&] {
    const ConvDims d = conv_dims(g);
    auto hint = lowp_fwd_entry(g, bias, 0, 0);
    auto en = std::make_shared<LowpBwdWeight>();
    // bfloat16 inputs, float32 weight (and bias) gradients.
    auto desc =
        bias ? convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, act(d.src), any(d.wei, dt::f32),
                                                  plain_md(d.bias, tag::x), act(d.dst), d.strides, d.dilates, d.pad_l,
                                                  d.pad_r)
             : convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, act(d.src), any(d.wei, dt::f32),
                                                  act(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
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
