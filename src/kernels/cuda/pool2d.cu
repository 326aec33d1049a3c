// The CUDA backend's pooling: max (with argmax), average and adaptive average, forward and
// backward, plain layout. The definitions of their reference twins
// (src/kernels/ref/pool2d.cpp); the backward runs one thread per input element, summing the
// windows that contain it (no atomics: a fixed order of additions).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/elem.cuh"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

template <class T>
__global__ void max_pool_fwd_k(PoolGeom g, const T* x, T* y, int64_t* argmax) {
  CONVNET_GRID_STRIDE(o, g.N * g.C * g.OH * g.OW) {
    const int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, nc = o / (g.OW * g.OH);
    const T* xp = x + nc * g.H * g.W;
    float best = -INFINITY;
    int64_t best_i = -1;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
        if (iw < 0 || iw >= g.W) continue;
        const float v = ld(xp[ih * g.W + iw]);
        if (best_i < 0 || v > best || v != v) best = v, best_i = ih * g.W + iw;
      }
    }
    y[o] = st<T>(best);
    if (argmax) argmax[o] = best_i;
  }
}
// One thread per input element: the sum over the windows whose maximum it is (no atomics,
// so the order of the additions is fixed).
template <class T>
__global__ void max_pool_bwd_k(PoolGeom g, const T* gy, const int64_t* argmax, T* gx) {
  CONVNET_GRID_STRIDE(i, g.N * g.C * g.H * g.W) {
    const int64_t iw = i % g.W, ih = (i / g.W) % g.H, nc = i / (g.W * g.H);
    const int64_t self = ih * g.W + iw;
    // The windows that contain (ih, iw): oh*SH - PH + kh*DH == ih for some kh.
    float acc = 0.f;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t th = ih + g.PH - kh * g.DH;
      if (th < 0 || th % g.SH) continue;
      const int64_t oh = th / g.SH;
      if (oh >= g.OH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t tw = iw + g.PW - kw * g.DW;
        if (tw < 0 || tw % g.SW) continue;
        const int64_t ow = tw / g.SW;
        if (ow >= g.OW) continue;
        const int64_t o = (nc * g.OH + oh) * g.OW + ow;
        if (argmax[o] == self) acc += ld(gy[o]);
      }
    }
    gx[i] = st<T>(acc);
  }
}
struct Span {
  int64_t begin, end, padded;
};
__device__ Span avg_span(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p) {
  const int64_t b = o * s - p;
  const int64_t e = b + k < in + p ? b + k : in + p;
  return {b > 0 ? b : 0, e < in ? e : in, e - b};
}
__device__ int64_t avg_divisor(const PoolGeom& g, const Span& h, const Span& w) {
  return g.count_include_pad ? h.padded * w.padded : (h.end - h.begin) * (w.end - w.begin);
}
template <class T>
__global__ void avg_pool_fwd_k(PoolGeom g, const T* x, T* y) {
  CONVNET_GRID_STRIDE(o, g.N * g.C * g.OH * g.OW) {
    const int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, nc = o / (g.OW * g.OH);
    const T* xp = x + nc * g.H * g.W;
    const Span h = avg_span(oh, g.H, g.KH, g.SH, g.PH), w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
    float acc = 0.f;
    for (int64_t ih = h.begin; ih < h.end; ++ih)
      for (int64_t iw = w.begin; iw < w.end; ++iw) acc += ld(xp[ih * g.W + iw]);
    y[o] = st<T>(h.begin < h.end && w.begin < w.end ? acc / static_cast<float>(avg_divisor(g, h, w)) : 0.f);
  }
}
template <class T>
__global__ void avg_pool_bwd_k(PoolGeom g, const T* gy, T* gx) {
  CONVNET_GRID_STRIDE(i, g.N * g.C * g.H * g.W) {
    const int64_t iw = i % g.W, ih = (i / g.W) % g.H, nc = i / (g.W * g.H);
    float acc = 0.f;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const Span h = avg_span(oh, g.H, g.KH, g.SH, g.PH);
      if (ih < h.begin || ih >= h.end) continue;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Span w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
        if (iw < w.begin || iw >= w.end) continue;
        acc += ld(gy[(nc * g.OH + oh) * g.OW + ow]) / static_cast<float>(avg_divisor(g, h, w));
      }
    }
    gx[i] = st<T>(acc);
  }
}
__device__ int64_t a_start(int64_t o, int64_t in, int64_t out) {
  return (o * in) / out;
}
__device__ int64_t a_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}
template <class T>
__global__ void adaptive_avg_fwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y) {
  CONVNET_GRID_STRIDE(o, NC * OH * OW) {
    const int64_t ow = o % OW, oh = (o / OW) % OH, nc = o / (OW * OH);
    const int64_t h0 = a_start(oh, H, OH), h1 = a_end(oh, H, OH), w0 = a_start(ow, W, OW), w1 = a_end(ow, W, OW);
    float acc = 0.f;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) acc += ld(x[(nc * H + ih) * W + iw]);
    y[o] = st<T>(acc / static_cast<float>((h1 - h0) * (w1 - w0)));
  }
}
template <class T>
__global__ void adaptive_avg_bwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx) {
  CONVNET_GRID_STRIDE(i, NC * H * W) {
    const int64_t iw = i % W, ih = (i / W) % H, nc = i / (W * H);
    float acc = 0.f;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = a_start(oh, H, OH), h1 = a_end(oh, H, OH);
      if (ih < h0 || ih >= h1) continue;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = a_start(ow, W, OW), w1 = a_end(ow, W, OW);
        if (iw < w0 || iw >= w1) continue;
        acc += ld(gy[(nc * OH + oh) * OW + ow]) / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
    gx[i] = st<T>(acc);
  }
}

}  // namespace

template <class T>
void max_pool_fwd(const PoolGeom& g, const T* x, T* y, int64_t* argmax, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n > 0) max_pool_fwd_k<T><<<grid(n), kThreads, 0, s>>>(g, x, y, argmax);
}
template <class T>
void max_pool_bwd(const PoolGeom& g, const T* gy, const int64_t* argmax, T* gx, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n > 0) max_pool_bwd_k<T><<<grid(n), kThreads, 0, s>>>(g, gy, argmax, gx);
}
template <class T>
void avg_pool_fwd(const PoolGeom& g, const T* x, T* y, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n > 0) avg_pool_fwd_k<T><<<grid(n), kThreads, 0, s>>>(g, x, y);
}
template <class T>
void avg_pool_bwd(const PoolGeom& g, const T* gy, T* gx, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n > 0) avg_pool_bwd_k<T><<<grid(n), kThreads, 0, s>>>(g, gy, gx);
}
template <class T>
void adaptive_avg_pool_fwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, cudaStream_t s) {
  if (NC * OH * OW > 0) adaptive_avg_fwd_k<T><<<grid(NC * OH * OW), kThreads, 0, s>>>(NC, H, W, OH, OW, x, y);
}
template <class T>
void adaptive_avg_pool_bwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx,
                           cudaStream_t s) {
  if (NC * H * W > 0) adaptive_avg_bwd_k<T><<<grid(NC * H * W), kThreads, 0, s>>>(NC, H, W, OH, OW, gy, gx);
}
#define CONVNET_INSTANTIATE(T)                                                                                     \
  template void max_pool_fwd<T>(const PoolGeom&, const T*, T*, int64_t*, cudaStream_t);                            \
  template void max_pool_bwd<T>(const PoolGeom&, const T*, const int64_t*, T*, cudaStream_t);                      \
  template void avg_pool_fwd<T>(const PoolGeom&, const T*, T*, cudaStream_t);                                      \
  template void avg_pool_bwd<T>(const PoolGeom&, const T*, T*, cudaStream_t);                                      \
  template void adaptive_avg_pool_fwd<T>(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*, cudaStream_t); \
  template void adaptive_avg_pool_bwd<T>(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*, cudaStream_t);
CONVNET_INSTANTIATE(float)
CONVNET_INSTANTIATE(bf16_t)
CONVNET_INSTANTIATE(f16_t)
#undef CONVNET_INSTANTIATE

}  // namespace convnet::kernels::cuda::launch
