// Reference losses: the definitions, loop by loop, in a numerically stable form.
// log_softmax(x)_k = x_k - lse,  lse = m + log sum_k exp(x_k - m),  m = max_k x_k
// (subtracting the row maximum keeps exp() from overflowing with large logits).
// Instantiated for float and double (double for the gradient checks).
#include "kernels/loss.h"

#include <algorithm>
#include <cmath>

#include "kernels/registry.h"

namespace convnet::kernels::ref {

namespace {

// loss[i] = l(i) for Reduction::None; otherwise loss[0] = sum_i l(i), divided by n for Mean.
template <class T, class F>
void reduce(int64_t n, Reduction r, T* loss, F l) {
  if (r == Reduction::None) {
    for (int64_t i = 0; i < n; ++i) loss[i] = l(i);
    return;
  }
  T acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += l(i);
  loss[0] = r == Reduction::Mean ? acc / T(n) : acc;
}

// dL/dloss_i: the upstream gradient of element i (Mean spreads its gradient over n).
template <class T>
T upstream(int64_t i, int64_t n, Reduction r, const T* gy) {
  if (r == Reduction::None) return gy[i];
  return r == Reduction::Mean ? gy[0] / T(n) : gy[0];
}

template <class T>
T log_sum_exp(int64_t K, const T* x) {
  T m = x[0];
  for (int64_t k = 1; k < K; ++k) m = std::max(m, x[k]);
  T s = 0;
  for (int64_t k = 0; k < K; ++k) s += std::exp(x[k] - m);
  return m + std::log(s);
}

// q_nk: the smoothed one-hot target, (1 - eps) [k == t] + eps / K.
template <class T>
T smoothed(int64_t k, int64_t t, T eps, int64_t K) {
  return (k == t ? T(1) - eps : T(0)) + eps / T(K);
}

}  // namespace

// loss_n = -sum_k q_nk (x_nk - lse_n) = lse_n - sum_k q_nk x_nk   (sum_k q_nk = 1)
template <class T>
void cross_entropy_fwd(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, Reduction r, T* loss, T* lse) {
  for (int64_t n = 0; n < N; ++n) lse[n] = log_sum_exp(K, x + n * K);
  reduce(N, r, loss, [&](int64_t n) {
    T qx = 0;
    for (int64_t k = 0; k < K; ++k) qx += smoothed(k, target[n], eps, K) * x[n * K + k];
    return lse[n] - qx;
  });
}

// dloss_n/dx_nk = softmax(x_n)_k - q_nk,  softmax(x_n)_k = exp(x_nk - lse_n)
template <class T>
void cross_entropy_bwd(int64_t N, int64_t K, const T* x, const int64_t* target, T eps, const T* lse, Reduction r,
                       const T* gy, T* gx) {
  for (int64_t n = 0; n < N; ++n) {
    const T g = upstream(n, N, r, gy);
    for (int64_t k = 0; k < K; ++k)
      gx[n * K + k] = g * (std::exp(x[n * K + k] - lse[n]) - smoothed(k, target[n], eps, K));
  }
}

// loss_n = -sum_k p_nk (x_nk - lse_n)
template <class T>
void soft_cross_entropy_fwd(int64_t N, int64_t K, const T* x, const T* p, Reduction r, T* loss, T* lse) {
  for (int64_t n = 0; n < N; ++n) lse[n] = log_sum_exp(K, x + n * K);
  reduce(N, r, loss, [&](int64_t n) {
    T acc = 0;
    for (int64_t k = 0; k < K; ++k) acc += p[n * K + k] * (lse[n] - x[n * K + k]);
    return acc;
  });
}

// dloss_n/dx_nk = softmax(x_n)_k * sum_j p_nj - p_nk  (rows of p need not sum to 1)
// dloss_n/dp_nk = lse_n - x_nk = -log_softmax(x_n)_k
template <class T>
void soft_cross_entropy_bwd(int64_t N, int64_t K, const T* x, const T* p, const T* lse, Reduction r, const T* gy, T* gx,
                            T* gp) {
  for (int64_t n = 0; n < N; ++n) {
    const T g = upstream(n, N, r, gy);
    T psum = 0;
    for (int64_t k = 0; k < K; ++k) psum += p[n * K + k];
    for (int64_t k = 0; k < K; ++k) {
      const int64_t i = n * K + k;
      if (gx) gx[i] = g * (std::exp(x[i] - lse[n]) * psum - p[i]);
      if (gp) gp[i] = g * (lse[n] - x[i]);
    }
  }
}

// loss_n = -lp[n, t_n]
template <class T>
void nll_loss_fwd(int64_t N, int64_t K, const T* lp, const int64_t* target, Reduction r, T* loss) {
  reduce(N, r, loss, [&](int64_t n) { return -lp[n * K + target[n]]; });
}

template <class T>
void nll_loss_bwd(int64_t N, int64_t K, const int64_t* target, Reduction r, const T* gy, T* gx) {
  std::fill(gx, gx + N * K, T(0));
  for (int64_t n = 0; n < N; ++n) gx[n * K + target[n]] = -upstream(n, N, r, gy);
}

// loss_i = (x_i - y_i)^2
template <class T>
void mse_loss_fwd(int64_t n, const T* x, const T* y, Reduction r, T* loss) {
  reduce(n, r, loss, [&](int64_t i) { return (x[i] - y[i]) * (x[i] - y[i]); });
}

// dloss_i/dx_i = 2 (x_i - y_i) = -dloss_i/dy_i
template <class T>
void mse_loss_bwd(int64_t n, const T* x, const T* y, Reduction r, const T* gy, T* gx, T* gt) {
  for (int64_t i = 0; i < n; ++i) {
    const T d = T(2) * upstream(i, n, r, gy) * (x[i] - y[i]);
    if (gx) gx[i] = d;
    if (gt) gt[i] = -d;
  }
}

#define INSTANTIATE(T)                                                                                             \
  template void cross_entropy_fwd<T>(int64_t, int64_t, const T*, const int64_t*, T, Reduction, T*, T*);            \
  template void cross_entropy_bwd<T>(int64_t, int64_t, const T*, const int64_t*, T, const T*, Reduction, const T*, \
                                     T*);                                                                          \
  template void soft_cross_entropy_fwd<T>(int64_t, int64_t, const T*, const T*, Reduction, T*, T*);                \
  template void soft_cross_entropy_bwd<T>(int64_t, int64_t, const T*, const T*, const T*, Reduction, const T*, T*, \
                                          T*);                                                                     \
  template void nll_loss_fwd<T>(int64_t, int64_t, const T*, const int64_t*, Reduction, T*);                        \
  template void nll_loss_bwd<T>(int64_t, int64_t, const int64_t*, Reduction, const T*, T*);                        \
  template void mse_loss_fwd<T>(int64_t, const T*, const T*, Reduction, T*);                                       \
  template void mse_loss_bwd<T>(int64_t, const T*, const T*, Reduction, const T*, T*, T*);
INSTANTIATE(float)
INSTANTIATE(double)
#undef INSTANTIATE

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_loss() {
  keys::cross_entropy_fwd.add("ref", 0, &ref::cross_entropy_fwd<float>);
  keys::cross_entropy_bwd.add("ref", 0, &ref::cross_entropy_bwd<float>);
  keys::soft_cross_entropy_fwd.add("ref", 0, &ref::soft_cross_entropy_fwd<float>);
  keys::soft_cross_entropy_bwd.add("ref", 0, &ref::soft_cross_entropy_bwd<float>);
  keys::nll_loss_fwd.add("ref", 0, &ref::nll_loss_fwd<float>);
  keys::nll_loss_bwd.add("ref", 0, &ref::nll_loss_bwd<float>);
  keys::mse_loss_fwd.add("ref", 0, &ref::mse_loss_fwd<float>);
  keys::mse_loss_bwd.add("ref", 0, &ref::mse_loss_bwd<float>);
}
}  // namespace convnet::kernels
