#pragma once
// Shared plumbing of the oneDNN convolutions (conv2d_onednn.cpp: float32; conv2d_lowp_onednn.cpp:
// bfloat16): the geometry as oneDNN dims, the cache key, and running a primitive with a
// user-provided scratchpad.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/cpu/parallel.h"

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

// Small convolutions over few input channels run on one thread: oneDNN splits them by output
// rows, and the second thread costs more than it saves (LeNet's convolutions at batch 1, 1 and 6
// input channels, 0.2-0.3 MFLOP, ran 20% slower on two threads than on one). Small depthwise and
// pointwise ones with many channels split by channel blocks and do gain from threads (MobileNetV2
// at batch 1 lost 6-17% when they were serialized too). The threshold in MFLOP:
// CONVNET_SERIAL_MFLOP (default 1).
inline int conv_threads(const Conv2dGeom& g) {
  static const double serial = [] {
    const char* env = std::getenv("CONVNET_SERIAL_MFLOP");
    return (env ? std::atof(env) : 1.0) * 1e6;
  }();
  const double flops =
      2.0 * static_cast<double>(g.N * g.OC * g.OH * g.OW) * static_cast<double>((g.C / g.G) * g.KH * g.KW);
  return flops < serial && g.G == 1 && g.C < 16 ? 1 : omp_get_max_threads();
}
// kernels/cpu/parallel.h's ThreadLimit: oneDNN sizes a primitive's work split by the threads
// at its creation and runs it with as many.
using cpu::ThreadLimit;

// The geometry with its post-ops, a flag (bias), the layouts of the two activation tensors
// involved, and the threads the primitive is made for (the caller's, under a ThreadLimit).
using ConvKey = Key<24>;
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
           g.post.sum,
           omp_get_max_threads()}};
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

// A primitive's memories made once per calling thread (a thread-local table keyed by the
// cached entry, which lives as long as the process); a call only sets their data handles and
// executes through the C API with a fixed argument array and the thread's own scratchpad: no
// allocation, map or memory object per call, which is most of the cost of a small convolution
// at batch 1 besides its arithmetic.
class Bound {
 public:
  Bound(const dnnl::primitive_desc_base& pd, const std::vector<std::pair<int, dnnl::memory::desc>>& descs) {
    for (const auto& [arg, md] : descs) mems_.emplace_back(md, engine(), nullptr), args_.push_back({arg, nullptr});
    const dnnl::memory::desc sp = pd.scratchpad_desc();
    if (sp.get_size() > 0) {
      scratch_buf_ = std::make_unique<Storage>(sp.get_size());
      scratch_ = dnnl::memory(sp, engine(), scratch_buf_->raw());
      args_.push_back({DNNL_ARG_SCRATCHPAD, scratch_.get()});
    }
    for (size_t i = 0; i < mems_.size(); ++i) args_[i].memory = mems_[i].get();
  }
  // handles[i] for descs[i] (null: an absent optional argument is not passed).
  void run(const dnnl::primitive& p, std::initializer_list<const void*> handles) {
    size_t i = 0;
    for (const void* h : handles) mems_[i++].set_data_handle(const_cast<void*>(h));
    const dnnl_status_t st =
        dnnl_primitive_execute(p.get(), stream().get(), static_cast<int>(args_.size()), args_.data());
    if (st != dnnl_success) throw dnnl::error(st, "could not execute a primitive");
  }
  // The bound memories of `entry` on this thread, made by make() on first use.
  template <class Make>
  static Bound& of(const void* entry, Make&& make) {
    thread_local std::unordered_map<const void*, std::unique_ptr<Bound>> table;
    auto& b = table[entry];
    if (!b) b = make();
    return *b;
  }

 private:
  std::vector<dnnl::memory> mems_;
  std::vector<dnnl_exec_arg_t> args_;
  std::unique_ptr<Storage> scratch_buf_;
  dnnl::memory scratch_;
};

inline void run(dnnl::primitive& p, const dnnl::primitive_desc_base& pd, std::unordered_map<int, dnnl::memory> args) {
  const dnnl::memory::desc sp = pd.scratchpad_desc();
  Temp scratch(sp.get_size());
  args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(sp, engine(), scratch.get()));
  p.execute(stream(), args);
}

// Runs a cached forward convolution entry (its pd, prim, and the src / wei / dst reorders
// between the user's layouts and the primitive's) on x and y: through the thread's bound
// memories when both are in the primitive's layouts already (the steady state of a network),
// else with the reorders; the weight from the prepacked cache.
template <class Entry>
void run_fwd(Entry& e, const Conv2dGeom& g, const void* x, const float* w, const float* b, void* y) {
  std::shared_ptr<const Packed> pw;
  if (!e.src.needed() && !e.dst.needed()) {
    const void* wp = w;
    if (e.wei.needed()) pw = packed_weights(e.wei, w, g.w_id, g.w_version), wp = pw->data();
    Bound& bd = Bound::of(&e, [&] {
      std::vector<std::pair<int, dnnl::memory::desc>> d{
          {DNNL_ARG_SRC, e.pd.src_desc()}, {DNNL_ARG_WEIGHTS, e.pd.weights_desc()}, {DNNL_ARG_DST, e.pd.dst_desc()}};
      if (b) d.push_back({DNNL_ARG_BIAS, plain_md({g.OC}, tag::x)});
      return std::make_unique<Bound>(e.pd, d);
    });
    if (b)
      bd.run(e.prim, {x, wp, y, b});
    else
      bd.run(e.prim, {x, wp, y});
    return;
  }
  Temp tx, ty;
  dnnl::memory mx = e.src.in(x, tx), mw = weights_in(e.wei, w, g.w_id, g.w_version, pw), my = e.dst.out(y, ty);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, my}};
  if (b) args.emplace(DNNL_ARG_BIAS, dnnl::memory(plain_md({g.OC}, tag::x), engine(), const_cast<float*>(b)));
  run(e.prim, e.pd, std::move(args));
  e.dst.finish(my, y);
}

// The float32 convolutions (conv2d_onednn.cpp), which the bfloat16 ones use where AMX does
// not pay (few output channels).
void conv2d_fwd_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* w, const float* b, float* y,
                        int32_t yb);
void conv2d_bwd_data_blocked(const Conv2dGeom& g, const float* gy, int32_t gyb, const float* w, float* gx, int32_t gxb);
void conv2d_bwd_weight_blocked(const Conv2dGeom& g, const float* x, int32_t xb, const float* gy, int32_t gyb, float* gw,
                               float* gb);

}  // namespace convnet::kernels::onednn
