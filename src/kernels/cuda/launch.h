#pragma once
// The launchers of the CUDA backend's own kernels (<family>.cu), callable from C++: each
// queues one or a few kernels on `s` and returns. Semantics are those of the reference twin
// of the key they serve (src/kernels/ref/); pointers are GPU memory unless said otherwise.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "convnet/core/dtype.h"

namespace convnet::kernels::cuda::launch {

// The launchers templated on T take float, bf16_t and f16_t element types (elem.cuh): a
// reduced-precision value is read as float32, computed on in float32, and the output rounded
// to T once, as the reference twins of the reduced-precision keys.

// Elementwise, y[i] = f(x[i]) / f(a[i], b[i]); `op` picks f (see elementwise.cu).
enum class Unary : int { relu, scale, affine, clip };
template <class T>
void unary(Unary op, int64_t n, float p0, float p1, const T* x, T* y, cudaStream_t s);
template <class T>
void relu_bwd(int64_t n, const T* x, const T* gy, T* gx, cudaStream_t s);
void relu6_bwd(int64_t n, const float* x, const float* gy, float* gx, cudaStream_t s);
enum class Binary : int { add, sub, mul };
template <class T>
void binary(Binary op, int64_t n, const T* a, const T* b, T* y, cudaStream_t s);
// y = a*y + b*x
void axpby(int64_t n, float a, float* y, float b, const float* x, cudaStream_t s);
void fill(int64_t n, float v, float* y, cudaStream_t s);

// Sums in double: out[0] = sum x (sum) or sum x*x (squares). `partial` holds at least
// reduce_partials() doubles of scratch.
int64_t reduce_partials();
void sum(int64_t n, const float* x, bool squares, double* partial, double* out, cudaStream_t s);
// out (a float on the GPU) = (float) *in
void double_to_float(const double* in, float* out, cudaStream_t s);

// Batch normalization over x seen as (N, C, S), plain layout. Statistics in double; the
// parameters, statistics and their gradients float32 whatever T is. bn_stats and bn_bwd
// take `scratch`: bn_scratch(N, C, S) doubles of GPU memory for their partial sums.
int64_t bn_scratch(int64_t N, int64_t C, int64_t S);
template <class T>
void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, float* mean, float* var, double* scratch, cudaStream_t s);
template <class T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const float* mean, const float* var, const float* w,
              const float* b, double eps, T* y, cudaStream_t s);
template <class T>
void bn_bwd(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const float* mean, const float* var,
            const float* w, double eps, bool batch_stats, T* gx, float* gw, float* gb, double* scratch, cudaStream_t s);
void bn_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                     float* rv, cudaStream_t s);

// Pooling, plain layout; the geometry as kernels/pool2d.h's Pool2dGeom.
struct PoolGeom {
  int64_t N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
  bool count_include_pad;
};
template <class T>
void max_pool_fwd(const PoolGeom& g, const T* x, T* y, int64_t* argmax, cudaStream_t s);
template <class T>
void max_pool_bwd(const PoolGeom& g, const T* gy, const int64_t* argmax, T* gx, cudaStream_t s);
template <class T>
void avg_pool_fwd(const PoolGeom& g, const T* x, T* y, cudaStream_t s);
template <class T>
void avg_pool_bwd(const PoolGeom& g, const T* gy, T* gx, cudaStream_t s);
template <class T>
void adaptive_avg_pool_fwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, cudaStream_t s);
template <class T>
void adaptive_avg_pool_bwd(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx,
                           cudaStream_t s);

// Cross-entropy with integer labels and label smoothing (kernels/loss.h). reduction: 0 none,
// 1 sum, 2 mean (convnet::Reduction's values are mapped by the caller). per_row: N floats of
// scratch (unused for none).
void cross_entropy_fwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, int reduction,
                       float* loss, float* lse, float* per_row, cudaStream_t s);
void cross_entropy_bwd(int64_t N, int64_t K, const float* x, const int64_t* target, float eps, const float* lse,
                       int reduction, const float* gy, float* gx, cudaStream_t s);
// Cross-entropy with class probabilities p (kernels/loss.h); per_row and psum: N floats of
// scratch.
void soft_cross_entropy_fwd(int64_t N, int64_t K, const float* x, const float* p, int reduction, float* loss,
                            float* lse, float* per_row, cudaStream_t s);
void soft_cross_entropy_bwd(int64_t N, int64_t K, const float* x, const float* p, const float* lse, int reduction,
                            const float* gy, float* gx, float* gp, float* psum, cudaStream_t s);
// correct (GPU int64) = number of rows whose first maximum is at the label.
void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct, cudaStream_t s);

// One tensor of an SGD step (kernels/optim.h's sgd_range).
void sgd(int64_t n, float* w, const float* g, float* buf, bool first, float neg_lr, float weight_decay, float momentum,
         float dampening1, bool use_wd, bool use_momentum, bool nesterov, cudaStream_t s);

// activation.cu: leaky_relu (a = slope), tanh and sigmoid; backward reads x or y as the
// reference does.
enum class Act : int { leaky_relu, tanh, sigmoid };
void act_fwd(Act op, int64_t n, float a, const float* x, float* y, cudaStream_t s);
void act_bwd(Act op, int64_t n, float a, const float* x, const float* y, const float* gy, float* gx, cudaStream_t s);
// mask[i] = counter_uniform(seed, i / group) < p ? 0 : scale (kernels/vector.h).
void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask, cudaStream_t s);
// One tensor of an Adam / AdamW step (kernels/optim.h's AdamArgs, copied field by field).
struct AdamParams {
  float beta1, beta2, one_b1, one_b2, eps, weight_decay, decay;
  bool decoupled, use_wd, amsgrad;
};
void adam(int64_t n, float* w, const float* g, float* m, float* v, float* vmax, float neg_step, float bc2_sqrt,
          const AdamParams& a, cudaStream_t s);

// convert.cu: y_i = x_i as `to` (kernels/convert.h's semantics, every dtype pair).
void convert(int64_t n, DType from, const void* x, DType to, void* y, cudaStream_t s);

// conv2d_lowp.cu, the epilogues of the reduced-precision convolution and linear layer, over y seen
// as (N, C, S): y = act(src + b[c] + (sum ? y : 0)) rounded to T once; src is the product
// (in T from cuDNN, or float32 from cuBLAS), b may be null; act as ConvPostOps (0 none,
// 1 relu, 2 clip to [lo, hi]).
template <class Src, class T>
void bias_epilogue(int64_t N, int64_t C, int64_t S, const Src* src, const float* b, bool sum, int act, float lo,
                   float hi, T* y, cudaStream_t s);
// out[c] = the sum over n and s of x (N, C, S), in double, stored as float32 (bias gradients).
template <class T>
void channel_sum(int64_t N, int64_t C, int64_t S, const T* x, float* out, cudaStream_t s);

}  // namespace convnet::kernels::cuda::launch
