// bfloat16 linear on oneDNN's matmul (AMX or AVX512-BF16 where the CPU has them): bfloat16
// operands, float32 accumulation, the output rounded once, as the reference twin computes
// (ref/linear_lowp.cpp). The float32 master weight is rounded to bfloat16 per call (a reorder
// of OUT x IN values, small beside the M x IN x OUT products). ConvNeXt's pointwise layers are
// linear layers over every pixel, so this is most of its bfloat16 step.
//   y  [M, OUT] = x [M, IN] W^T (+ b)     W^T: the (OUT, IN) weight read as (IN, OUT) "ba"
//   gx [M, IN]  = gy [M, OUT] W
//   gw [OUT, IN] = gy^T x                  gy^T: gy read as (OUT, M) "ba"; float32 output
//   gb [1, OUT] = 1^T gy                   a row of ones: column sums in float32
#include <omp.h>

#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/onednn/conv_common.h"
#include "kernels/cpu/onednn_common.h"
#include "kernels/linear.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {  // the AVX-512/plain loops of linear_lowp.cpp, on CPUs without oneDNN bf16
void linear_fwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const float* b, bf16_t* y);
void linear_bwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const bf16_t* gy, bf16_t* gx,
                     float* gw, float* gb);
}  // namespace convnet::kernels::cpu

namespace convnet::kernels::onednn {

namespace {

using dnnl::memory;

struct LinearEntry {
  dnnl::matmul fwd, bwd_data, bwd_weight, bwd_bias;
  dnnl::matmul::primitive_desc fwd_pd, bwd_data_pd, bwd_weight_pd, bwd_bias_pd;
  Reorder wei_t, wei;  // f32 weight -> bf16, as (IN, OUT) "ba" and as (OUT, IN) "ab"
};

std::shared_ptr<LinearEntry> entry(int64_t M, int64_t IN, int64_t OUT, bool bias) {
  static Cache<24, LinearEntry> cache;
  return cache.get({{M, IN, OUT, bias, omp_get_max_threads()}}, [&] {
    auto e = std::make_shared<LinearEntry>();
    const memory::desc x({M, IN}, dt::bf16, tag::ab), w_t({IN, OUT}, dt::bf16, tag::ba),
        w({OUT, IN}, dt::bf16, tag::ab), y({M, OUT}, dt::bf16, tag::ab), b({1, OUT}, dt::f32, tag::ab),
        gy_t({OUT, M}, dt::bf16, tag::ba), gw({OUT, IN}, dt::f32, tag::ab), ones({1, M}, dt::bf16, tag::ab),
        gb({1, OUT}, dt::f32, tag::ab);
    e->fwd_pd = bias ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, w_t, b, y), user_scratchpad(), engine())
                     : dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, w_t, y), user_scratchpad(), engine());
    e->bwd_data_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(y, w, x), user_scratchpad(), engine());
    e->bwd_weight_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(gy_t, x, gw), user_scratchpad(), engine());
    e->bwd_bias_pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(ones, y, gb), user_scratchpad(), engine());
    e->fwd = dnnl::matmul(e->fwd_pd), e->bwd_data = dnnl::matmul(e->bwd_data_pd);
    e->bwd_weight = dnnl::matmul(e->bwd_weight_pd), e->bwd_bias = dnnl::matmul(e->bwd_bias_pd);
    e->wei_t = Reorder(memory::desc({IN, OUT}, dt::f32, tag::ba), w_t);
    e->wei = Reorder(memory::desc({OUT, IN}, dt::f32, tag::ab), w);
    return e;
  });
}

memory mem(const memory::desc& d, const void* p) {
  return memory(d, engine(), const_cast<void*>(p));
}

}  // namespace

void linear_fwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const float* b, bf16_t* y) {
  if (!bf16_primitives()) return cpu::linear_fwd_bf16(M, IN, OUT, x, w, b, y);
  if (M == 0 || OUT == 0) return;
  if (IN == 0) {  // an empty sum: the bias (or zeros), rounded
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < OUT; ++o) y[m * OUT + o] = lowp::narrow<bf16_t>(b ? b[o] : 0.f);
    return;
  }
  auto e = entry(M, IN, OUT, b != nullptr);
  Temp tw;
  const memory mw = e->wei_t.in(w, tw);
  const auto& pd = e->fwd_pd;
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mem(pd.src_desc(), x)}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, mem(pd.dst_desc(), y)}};
  if (b) args.emplace(DNNL_ARG_BIAS, mem(pd.bias_desc(), b));
  run(e->fwd, pd, std::move(args));
}

void linear_bwd_bf16(int64_t M, int64_t IN, int64_t OUT, const bf16_t* x, const float* w, const bf16_t* gy, bf16_t* gx,
                     float* gw, float* gb) {
  if (!bf16_primitives()) return cpu::linear_bwd_bf16(M, IN, OUT, x, w, gy, gx, gw, gb);
  if (M == 0 || IN == 0 || OUT == 0) {  // empty products: zeros
    if (gx)
      for (int64_t i = 0; i < M * IN; ++i) gx[i] = lowp::narrow<bf16_t>(0.f);
    if (gw)
      for (int64_t i = 0; i < OUT * IN; ++i) gw[i] = 0.f;
    if (gb) {
      for (int64_t o = 0; o < OUT; ++o) gb[o] = 0.f;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t o = 0; o < OUT; ++o) gb[o] += lowp::widen(gy[m * OUT + o]);
    }
    return;
  }
  auto e = entry(M, IN, OUT, false);
  if (gx) {
    Temp tw;
    const memory mw = e->wei.in(w, tw);
    const auto& pd = e->bwd_data_pd;
    run(e->bwd_data, pd,
        {{DNNL_ARG_SRC, mem(pd.src_desc(), gy)}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, mem(pd.dst_desc(), gx)}});
  }
  if (gw) {
    const auto& pd = e->bwd_weight_pd;
    run(e->bwd_weight, pd,
        {{DNNL_ARG_SRC, mem(pd.src_desc(), gy)},
         {DNNL_ARG_WEIGHTS, mem(pd.weights_desc(), x)},
         {DNNL_ARG_DST, mem(pd.dst_desc(), gw)}});
  }
  if (gb) {
    const std::vector<bf16_t> ones(static_cast<size_t>(M), lowp::narrow<bf16_t>(1.f));
    const auto& pd = e->bwd_bias_pd;
    run(e->bwd_bias, pd,
        {{DNNL_ARG_SRC, mem(pd.src_desc(), ones.data())},
         {DNNL_ARG_WEIGHTS, mem(pd.weights_desc(), gy)},
         {DNNL_ARG_DST, mem(pd.dst_desc(), gb)}});
  }
}

}  // namespace convnet::kernels::onednn

namespace convnet::kernels {
void register_onednn_linear_lowp() {
  keys::linear_fwd_bf16.add("onednn", 20, &onednn::linear_fwd_bf16);
  keys::linear_bwd_bf16.add("onednn", 20, &onednn::linear_bwd_bf16);
}
}  // namespace convnet::kernels
