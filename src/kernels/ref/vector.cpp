// Reference vector operations (kernels/vector.h): the definitions, one element at a time.
#include "kernels/vector.h"

namespace convnet::kernels::ref {

void sum_squares(int64_t n, const float* x, double* out) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  *out = s;
}

void sum_squares_many(int64_t count, const int64_t* n, const float* const* x, double* out) {
  for (int64_t t = 0; t < count; ++t) sum_squares(n[t], x[t], &out[t]);
}

void axpby(int64_t n, float a, float* y, float b, const float* x) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * y[i] + b * x[i];
}

void affine(int64_t n, float a, const float* x, float c, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + c;
}

void batch_norm_update_stats(int64_t C, double momentum, double unbias, const float* mean, const float* var, float* rm,
                             float* rv) {
  for (int64_t c = 0; c < C; ++c) {
    rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * mean[c]);
    rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * var[c] * unbias);
  }
}

void dropout_mask(int64_t n, int64_t group, float p, uint64_t seed, float scale, float* mask) {
  for (int64_t i = 0; i < n; ++i)
    mask[i] = counter_uniform(seed, static_cast<uint64_t>(i / group)) < p ? 0.f : scale;
}

void count_correct(int64_t N, int64_t K, const float* x, const int64_t* labels, int64_t* correct) {
  int64_t c = 0;
  for (int64_t n = 0; n < N; ++n) {
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (x[n * K + k] > x[n * K + best]) best = k;
    c += best == labels[n];
  }
  *correct = c;
}

void mix_rows(int64_t N, int64_t S, float l, const int64_t* perm, const float* x, float* y) {
  const float m = 1.f - l;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t k = 0; k < S; ++k) y[i * S + k] = l * x[i * S + k] + m * x[perm[i] * S + k];
}

void cutmix_paste(int64_t N, int64_t C, int64_t H, int64_t W, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                  const int64_t* perm, const float* x, float* y) {
  for (int64_t i = 0; i < N * C * H * W; ++i) y[i] = x[i];
  for (int64_t i = 0; i < N; ++i)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = y0; r < y1; ++r)
        for (int64_t q = x0; q < x1; ++q) y[((i * C + c) * H + r) * W + q] = x[((perm[i] * C + c) * H + r) * W + q];
}

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_vector() {
  keys::sum_squares.add("ref", 0, &ref::sum_squares);
  keys::sum_squares_many.add("ref", 0, &ref::sum_squares_many);
  keys::axpby.add("ref", 0, &ref::axpby);
  keys::affine.add("ref", 0, &ref::affine);
  keys::batch_norm_update_stats.add("ref", 0, &ref::batch_norm_update_stats);
  keys::dropout_mask.add("ref", 0, &ref::dropout_mask);
  keys::count_correct.add("ref", 0, &ref::count_correct);
  keys::mix_rows.add("ref", 0, &ref::mix_rows);
  keys::cutmix_paste.add("ref", 0, &ref::cutmix_paste);
}
}  // namespace convnet::kernels
