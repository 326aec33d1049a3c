// The CUDA backend's own kernels: elementwise, reductions, batch normalization, pooling,
// losses and the SGD update. Each is the reference twin's definition (src/kernels/ref/) with
// one thread per output element, or one block per reduced row/channel; sums that the twins
// keep in double are in double here too. Launchers: launch.h.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/launch.h"

namespace convnet::kernels::cuda::launch {

namespace {

// Block-wide sum of one value per thread (blockDim.x == kThreads); the result in thread 0.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] += sh[threadIdx.x + step];
    __syncthreads();
  }
  T r = sh[0];
  __syncthreads();
  return r;
}

// ---- elementwise ----------------------------------------------------------------------

__global__ void unary_k(int op, int64_t n, float p0, float p1, const float* x, float* y) {
  CONVNET_GRID_STRIDE(i, n) {
    const float v = x[i];
    if (op == 0)
      y[i] = v < 0.f ? 0.f : v;  // relu; NaN passes through, as the reference
    else if (op == 1)
      y[i] = p0 * v;  // scale
    else if (op == 2)
      y[i] = p0 * v + p1;  // affine
    else
      y[i] = v < p0 ? p0 : v > p1 ? p1 : v;  // clip to [p0, p1]
  }
}
__global__ void relu_bwd_k(int64_t n, const float* x, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, n) gx[i] = x[i] > 0.f ? gy[i] : 0.f;
}
__global__ void relu6_bwd_k(int64_t n, const float* x, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, n) gx[i] = x[i] <= 0.f || x[i] >= 6.f ? 0.f : gy[i];  // NaN: gy, as the reference
}
__global__ void binary_k(int op, int64_t n, const float* a, const float* b, float* y) {
  CONVNET_GRID_STRIDE(i, n) y[i] = op == 0 ? a[i] + b[i] : op == 1 ? a[i] - b[i] : a[i] * b[i];
}
__global__ void axpby_k(int64_t n, float a, float* y, float b, const float* x) {
  CONVNET_GRID_STRIDE(i, n) y[i] = a * y[i] + b * x[i];
}
__global__ void fill_k(int64_t n, float v, float* y) {
  CONVNET_GRID_STRIDE(i, n) y[i] = v;
}

// ---- reductions -----------------------------------------------------------------------

constexpr int kPartials = 1024;

__global__ void sum_partial_k(int64_t n, const float* x, bool squares, double* partial) {
  double acc = 0;
  CONVNET_GRID_STRIDE(i, n) {
    const double v = x[i];
    acc += squares ? v * v : v;
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void sum_final_k(int count, const double* partial, double* out) {
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *out = acc;
}
__global__ void double_to_float_k(const double* in, float* out) {
  *out = static_cast<float>(*in);
}

// ---- batch normalization (one block per channel) ----------------------------------------

__global__ void bn_stats_k(int64_t N, int64_t C, int64_t S, const float* x, float* mean, float* var) {
  const int64_t c = blockIdx.x, M = N * S;
  double s = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) s += x[((j / S) * C + c) * S + j % S];
  const double mu = block_sum(s) / static_cast<double>(M);
  double ss = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const double d = x[((j / S) * C + c) * S + j % S] - mu;
    ss += d * d;
  }
  ss = block_sum(ss);
  if (threadIdx.x == 0) {
    mean[c] = static_cast<float>(mu);
    var[c] = static_cast<float>(ss / static_cast<double>(M));
  }
}
__global__ void bn_apply_k(int64_t N, int64_t C, int64_t S, const float* x, const float* mean, const float* var,
                           const float* w, const float* b, double eps, float* y) {
  CONVNET_GRID_STRIDE(i, N * C * S) {
    const int64_t c = (i / S) % C;
    const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
    const double wc = w ? w[c] : 1.0, bc = b ? b[c] : 0.0;
    y[i] = static_cast<float>((x[i] - mean[c]) * invstd * wc + bc);
  }
}
__global__ void bn_bwd_k(int64_t N, int64_t C, int64_t S, const float* x, const float* gy, const float* mean,
                         const float* var, const float* w, double eps, bool batch_stats, float* gx, float* gw,
                         float* gb) {
  const int64_t c = blockIdx.x, M = N * S;
  const double invstd = 1.0 / sqrt(static_cast<double>(var[c]) + eps);
  const double wc = w ? w[c] : 1.0;
  double sg = 0, sgx = 0;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t k = ((j / S) * C + c) * S + j % S;
    sg += gy[k];
    sgx += gy[k] * (x[k] - mean[c]) * invstd;
  }
  sg = block_sum(sg);
  sgx = block_sum(sgx);
  if (threadIdx.x == 0) {
    if (gw) gw[c] = static_cast<float>(sgx);
    if (gb) gb[c] = static_cast<float>(sg);
  }
  if (!gx) return;
  for (int64_t j = threadIdx.x; j < M; j += blockDim.x) {
    const int64_t k = ((j / S) * C + c) * S + j % S;
    const double xhat = (x[k] - mean[c]) * invstd;
    const double d = batch_stats ? gy[k] - sg / M - xhat * sgx / M : gy[k];
    gx[k] = static_cast<float>(wc * invstd * d);
  }
}
__global__ void bn_update_stats_k(int64_t C, double momentum, double unbias, const float* mean, const float* var,
                                  float* rm, float* rv) {
  CONVNET_GRID_STRIDE(c, C) {
    rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
    rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * var[c] * unbias);
  }
}

// ---- pooling ----------------------------------------------------------------------------

__global__ void max_pool_fwd_k(PoolGeom g, const float* x, float* y, int64_t* argmax) {
  CONVNET_GRID_STRIDE(o, g.N * g.C * g.OH * g.OW) {
    const int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, nc = o / (g.OW * g.OH);
    const float* xp = x + nc * g.H * g.W;
    float best = -INFINITY;
    int64_t best_i = -1;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
      if (ih < 0 || ih >= g.H) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
        if (iw < 0 || iw >= g.W) continue;
        const float v = xp[ih * g.W + iw];
        if (best_i < 0 || v > best || v != v) best = v, best_i = ih * g.W + iw;
      }
    }
    y[o] = best;
    if (argmax) argmax[o] = best_i;
  }
}
// One thread per input element: the sum over the windows whose maximum it is (no atomics,
// so the order of the additions is fixed).
__global__ void max_pool_bwd_k(PoolGeom g, const float* gy, const int64_t* argmax, float* gx) {
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
        if (argmax[o] == self) acc += gy[o];
      }
    }
    gx[i] = acc;
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
__global__ void avg_pool_fwd_k(PoolGeom g, const float* x, float* y) {
  CONVNET_GRID_STRIDE(o, g.N * g.C * g.OH * g.OW) {
    const int64_t ow = o % g.OW, oh = (o / g.OW) % g.OH, nc = o / (g.OW * g.OH);
    const float* xp = x + nc * g.H * g.W;
    const Span h = avg_span(oh, g.H, g.KH, g.SH, g.PH), w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
    float acc = 0.f;
    for (int64_t ih = h.begin; ih < h.end; ++ih)
      for (int64_t iw = w.begin; iw < w.end; ++iw) acc += xp[ih * g.W + iw];
    y[o] = h.begin < h.end && w.begin < w.end ? acc / static_cast<float>(avg_divisor(g, h, w)) : 0.f;
  }
}
__global__ void avg_pool_bwd_k(PoolGeom g, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, g.N * g.C * g.H * g.W) {
    const int64_t iw = i % g.W, ih = (i / g.W) % g.H, nc = i / (g.W * g.H);
    float acc = 0.f;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const Span h = avg_span(oh, g.H, g.KH, g.SH, g.PH);
      if (ih < h.begin || ih >= h.end) continue;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const Span w = avg_span(ow, g.W, g.KW, g.SW, g.PW);
        if (iw < w.begin || iw >= w.end) continue;
        acc += gy[(nc * g.OH + oh) * g.OW + ow] / static_cast<float>(avg_divisor(g, h, w));
      }
    }
    gx[i] = acc;
  }
}
__device__ int64_t a_start(int64_t o, int64_t in, int64_t out) {
  return (o * in) / out;
}
__device__ int64_t a_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}
__global__ void adaptive_avg_fwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const float* x, float* y) {
  CONVNET_GRID_STRIDE(o, NC * OH * OW) {
    const int64_t ow = o % OW, oh = (o / OW) % OH, nc = o / (OW * OH);
    const int64_t h0 = a_start(oh, H, OH), h1 = a_end(oh, H, OH), w0 = a_start(ow, W, OW), w1 = a_end(ow, W, OW);
    float acc = 0.f;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) acc += x[(nc * H + ih) * W + iw];
    y[o] = acc / static_cast<float>((h1 - h0) * (w1 - w0));
  }
}
__global__ void adaptive_avg_bwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const float* gy,
                                   float* gx) {
  CONVNET_GRID_STRIDE(i, NC * H * W) {
    const int64_t iw = i % W, ih = (i / W) % H, nc = i / (W * H);
    float acc = 0.f;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = a_start(oh, H, OH), h1 = a_end(oh, H, OH);
      if (ih < h0 || ih >= h1) continue;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = a_start(ow, W, OW), w1 = a_end(ow, W, OW);
        if (iw < w0 || iw >= w1) continue;
        acc += gy[(nc * OH + oh) * OW + ow] / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
    gx[i] = acc;
  }
}

// ---- losses (one block per row) ---------------------------------------------------------

__device__ float smoothed(int64_t k, int64_t t, float eps, int64_t K) {
  return (k == t ? 1.f - eps : 0.f) + eps / static_cast<float>(K);
}
__device__ float block_max(float v) {
  __shared__ float sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + step]);
    __syncthreads();
  }
  const float r = sh[0];
  __syncthreads();
  return r;
}
// per_row[n] = lse_n - sum_k q_nk x_nk; lse[n] written.
__global__ void ce_rows_k(int64_t K, const float* x, const int64_t* target, float eps, float* per_row, float* lse) {
  const int64_t n = blockIdx.x;
  const float* xr = x + n * K;
  float m = -INFINITY;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) m = fmaxf(m, xr[k]);
  m = block_max(m);
  float s = 0.f, qx = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    s += expf(xr[k] - m);
    qx += smoothed(k, target[n], eps, K) * xr[k];
  }
  s = block_sum(s);
  qx = block_sum(qx);
  if (threadIdx.x == 0) {
    const float l = m + logf(s);
    lse[n] = l;
    per_row[n] = l - qx;
  }
}
// Soft targets: per_row[n] = sum_k p_nk (lse_n - x_nk) = psum lse_n - sum_k p_nk x_nk.
__global__ void soft_ce_rows_k(int64_t K, const float* x, const float* p, float* per_row, float* lse) {
  const int64_t n = blockIdx.x;
  const float* xr = x + n * K;
  const float* pr = p + n * K;
  float m = -INFINITY;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) m = fmaxf(m, xr[k]);
  m = block_max(m);
  float s = 0.f, ps = 0.f, px = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    s += expf(xr[k] - m);
    ps += pr[k];
    px += pr[k] * xr[k];
  }
  s = block_sum(s);
  ps = block_sum(ps);
  px = block_sum(px);
  if (threadIdx.x == 0) {
    const float l = m + logf(s);
    lse[n] = l;
    per_row[n] = ps * l - px;
  }
}
__global__ void row_sum_k(int64_t K, const float* p, float* out) {
  const int64_t n = blockIdx.x;
  float s = 0.f;
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) s += p[n * K + k];
  s = block_sum(s);
  if (threadIdx.x == 0) out[n] = s;
}
__global__ void soft_ce_bwd_k(int64_t N, int64_t K, const float* x, const float* p, const float* lse, const float* psum,
                              int reduction, const float* gy, float* gx, float* gp) {
  CONVNET_GRID_STRIDE(i, N * K) {
    const int64_t n = i / K;
    const float g = reduction == 0 ? gy[n] : reduction == 2 ? gy[0] / static_cast<float>(N) : gy[0];
    if (gx) gx[i] = g * (expf(x[i] - lse[n]) * psum[n] - p[i]);
    if (gp) gp[i] = g * (lse[n] - x[i]);
  }
}
__global__ void ce_reduce_k(int64_t N, int reduction, const float* per_row, float* loss) {
  float acc = 0.f;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) acc += per_row[n];
  acc = block_sum(acc);
  if (threadIdx.x == 0) loss[0] = reduction == 2 ? acc / static_cast<float>(N) : acc;
}
__global__ void ce_bwd_k(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                         int reduction, const float* gy, float* gx) {
  CONVNET_GRID_STRIDE(i, N * K) {
    const int64_t n = i / K, k = i % K;
    const float g = reduction == 0 ? gy[n] : reduction == 2 ? gy[0] / static_cast<float>(N) : gy[0];
    gx[i] = g * (expf(x[i] - lse[n]) - smoothed(k, target[n], eps, K));
  }
}
__global__ void count_correct_k(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct) {
  int64_t c = 0;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (x[n * K + k] > x[n * K + best]) best = k;
    c += best == labels[n];
  }
  __shared__ int64_t sh[kThreads];
  sh[threadIdx.x] = c;
  __syncthreads();
  for (int step = kThreads / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step) sh[threadIdx.x] += sh[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) *correct = sh[0];
}

// ---- optimizer --------------------------------------------------------------------------

__global__ void sgd_k(int64_t n, float* w, const float* g, float* buf, bool first, float neg_lr, float weight_decay,
                      float momentum, float dampening1, bool use_wd, bool use_momentum, bool nesterov) {
  CONVNET_GRID_STRIDE(k, n) {
    float d = g[k];
    if (use_wd) d = d + weight_decay * w[k];
    if (use_momentum) {
      buf[k] = first ? d : buf[k] * momentum + dampening1 * d;
      d = nesterov ? d + momentum * buf[k] : buf[k];
    }
    w[k] = w[k] + neg_lr * d;
  }
}

}  // namespace

void unary(Unary op, int64_t n, float p0, float p1, const float* x, float* y, cudaStream_t s) {
  if (n > 0) unary_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, p0, p1, x, y);
}
void relu_bwd(int64_t n, const float* x, const float* gy, float* gx, cudaStream_t s) {
  if (n > 0) relu_bwd_k<<<grid(n), kThreads, 0, s>>>(n, x, gy, gx);
}
void relu6_bwd(int64_t n, const float* x, const float* gy, float* gx, cudaStream_t s) {
  if (n > 0) relu6_bwd_k<<<grid(n), kThreads, 0, s>>>(n, x, gy, gx);
}
void binary(Binary op, int64_t n, const float* a, const float* b, float* y, cudaStream_t s) {
  if (n > 0) binary_k<<<grid(n), kThreads, 0, s>>>(static_cast<int>(op), n, a, b, y);
}
void axpby(int64_t n, float a, float* y, float b, const float* x, cudaStream_t s) {
  if (n > 0) axpby_k<<<grid(n), kThreads, 0, s>>>(n, a, y, b, x);
}
void fill(int64_t n, float v, float* y, cudaStream_t s) {
  if (n > 0) fill_k<<<grid(n), kThreads, 0, s>>>(n, v, y);
}
int64_t reduce_partials() {
  return kPartials;
}
void sum(int64_t n, const float* x, bool squares, double* partial, double* out, cudaStream_t s) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > kPartials) blocks = kPartials;
  sum_partial_k<<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(n, x, squares, partial);
  sum_final_k<<<1, kThreads, 0, s>>>(static_cast<int>(blocks), partial, out);
}
void double_to_float(const double* in, float* out, cudaStream_t s) {
  double_to_float_k<<<1, 1, 0, s>>>(in, out);
}
void bn_stats(int64_t N, int64_t C, int64_t S, const float* x, float* mean, float* var, cudaStream_t s) {
  if (C > 0) bn_stats_k<<<static_cast<unsigned>(C), kThreads, 0, s>>>(N, C, S, x, mean, var);
}
void bn_apply(int64_t N, int64_t C, int64_t S, const float* x, const float* mean, const float* var, const float* w,
              const float* b, double eps, float* y, cudaStream_t s) {
  if (N * C * S > 0) bn_apply_k<<<grid(N * C * S), kThreads, 0, s>>>(N, C, S, x, mean, var, w, b, eps, y);
}
void bn_bwd(int64_t N, int64_t C, int64_t S, const float* x, const float* gy, const float* mean, const float* var,
            const float* w, double eps, bool batch_stats, float* gx, float* gw, float* gb, cudaStream_t s) {
  if (C > 0)
    bn_bwd_k<<<static_cast<unsigned>(C), kThreads, 0, s>>>(N, C, S, x, gy, mean, var, w, eps, batch_stats, gx, gw, gb);
}
void bn_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                     float* rv, cudaStream_t s) {
  if (C > 0) bn_update_stats_k<<<grid(C), kThreads, 0, s>>>(C, momentum, unbias, mean, var, rm, rv);
}
void max_pool_fwd(const PoolGeom& g, const float* x, float* y, int64_t* argmax, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n > 0) max_pool_fwd_k<<<grid(n), kThreads, 0, s>>>(g, x, y, argmax);
}
void max_pool_bwd(const PoolGeom& g, const float* gy, const int64_t* argmax, float* gx, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n > 0) max_pool_bwd_k<<<grid(n), kThreads, 0, s>>>(g, gy, argmax, gx);
}
void avg_pool_fwd(const PoolGeom& g, const float* x, float* y, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.OH * g.OW;
  if (n > 0) avg_pool_fwd_k<<<grid(n), kThreads, 0, s>>>(g, x, y);
}
void avg_pool_bwd(const PoolGeom& g, const float* gy, float* gx, cudaStream_t s) {
  const int64_t n = g.N * g.C * g.H * g.W;
  if (n > 0) avg_pool_bwd_k<<<grid(n), kThreads, 0, s>>>(g, gy, gx);
}
void adaptive_avg_pool_fwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const float* x, float* y,
                           cudaStream_t s) {
  if (NC * OH * OW > 0) adaptive_avg_fwd_k<<<grid(NC * OH * OW), kThreads, 0, s>>>(NC, H, W, OH, OW, x, y);
}
void adaptive_avg_pool_bwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const float* gy, float* gx,
                           cudaStream_t s) {
  if (NC * H * W > 0) adaptive_avg_bwd_k<<<grid(NC * H * W), kThreads, 0, s>>>(NC, H, W, OH, OW, gy, gx);
}
void cross_entropy_fwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, int reduction,
                       float* loss, float* lse, float* per_row, cudaStream_t s) {
  if (N == 0) return;
  if (reduction == 0) {
    ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, target, eps, loss, lse);
    return;
  }
  ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, target, eps, per_row, lse);
  ce_reduce_k<<<1, kThreads, 0, s>>>(N, reduction, per_row, loss);
}
void soft_cross_entropy_fwd(int64_t N, int64_t K, const float* x, const float* p, int reduction, float* loss,
                            float* lse, float* per_row, cudaStream_t s) {
  if (N == 0) return;
  if (reduction == 0) {
    soft_ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, p, loss, lse);
    return;
  }
  soft_ce_rows_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, x, p, per_row, lse);
  ce_reduce_k<<<1, kThreads, 0, s>>>(N, reduction, per_row, loss);
}
void soft_cross_entropy_bwd(int64_t N, int64_t K, const float* x, const float* p, const float* lse, int reduction,
                            const float* gy, float* gx, float* gp, float* psum, cudaStream_t s) {
  if (N * K == 0) return;
  row_sum_k<<<static_cast<unsigned>(N), kThreads, 0, s>>>(K, p, psum);
  soft_ce_bwd_k<<<grid(N * K), kThreads, 0, s>>>(N, K, x, p, lse, psum, reduction, gy, gx, gp);
}
void cross_entropy_bwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                       int reduction, const float* gy, float* gx, cudaStream_t s) {
  if (N * K > 0) ce_bwd_k<<<grid(N * K), kThreads, 0, s>>>(N, K, x, target, eps, lse, reduction, gy, gx);
}
void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct, cudaStream_t s) {
  count_correct_k<<<1, kThreads, 0, s>>>(N, K, x, labels, correct);
}
void sgd(int64_t n, float* w, const float* g, float* buf, bool first, float neg_lr, float weight_decay, float momentum,
         float dampening1, bool use_wd, bool use_momentum, bool nesterov, cudaStream_t s) {
  if (n > 0)
    sgd_k<<<grid(n), kThreads, 0, s>>>(n, w, g, buf, first, neg_lr, weight_decay, momentum, dampening1, use_wd,
                                       use_momentum, nesterov);
}

}  // namespace convnet::kernels::cuda::launch
