// Reference twin of the Winograd convolution (kernels/cpu/conv2d_winograd.cpp): F(2x2, 3x3)
// written as its matrices, tile by tile, on plain NCHW tensors. Slow on purpose; the fast
// kernel is tested against it (same algorithm, so close to rounding), and it against the
// direct reference convolution (the definition).
#include <vector>

#include "kernels/conv2d.h"

namespace convnet::kernels {

Conv2dGeom winograd_bwd_data_geom(const Conv2dGeom& g) {
  Conv2dGeom a = g;
  a.C = g.OC, a.H = g.OH, a.W = g.OW, a.OC = g.C, a.OH = g.H, a.OW = g.W;
  a.PH = 2 - g.PH, a.PW = 2 - g.PW;
  a.post = {};
  return a;
}

namespace ref {

namespace {

constexpr float kWinoBt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
constexpr float kWinoG[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
constexpr float kWinoAt[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};

// out (R x R) = L (R x K) * in (K x K) * L^T: the three transforms.
template <int R, int K>
void wino_sandwich(const float (&L)[R][K], const float (&in)[K][K], float (&out)[R][R]) {
  float t[R][K] = {};
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < K; ++j)
      for (int k = 0; k < K; ++k) t[i][j] += L[i][k] * in[k][j];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < R; ++j) {
      out[i][j] = 0;
      for (int k = 0; k < K; ++k) out[i][j] += t[i][k] * L[j][k];
    }
}

}  // namespace

// y = post(conv(x, w) + b), 3x3 stride 1 (g.PH, g.PW at the top/left), by F(2x2, 3x3):
// for each 2x2 block of outputs, M = sum over c of (G w[oc,c] G^T) . (B^T d[c] B), where d is
// the 4x4 block of input under it (zero outside), and y = A^T M A.
void conv2d_fwd_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  std::vector<float> U(static_cast<size_t>(g.OC * g.C * 16));  // G w G^T per (oc, c)
  for (int64_t k = 0; k < g.OC * g.C; ++k) {
    float wk[3][3], u[4][4];
    for (int i = 0; i < 9; ++i) wk[i / 3][i % 3] = w[k * 9 + i];
    wino_sandwich(kWinoG, wk, u);
    for (int i = 0; i < 16; ++i) U[k * 16 + i] = u[i / 4][i % 4];
  }
  std::vector<float> V(static_cast<size_t>(g.C * 16));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t th = 0; th < (g.OH + 1) / 2; ++th)
      for (int64_t tw = 0; tw < (g.OW + 1) / 2; ++tw) {
        for (int64_t c = 0; c < g.C; ++c) {  // V = B^T d B per input channel
          float d[4][4], v[4][4];
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
              const int64_t ih = 2 * th - g.PH + i, iw = 2 * tw - g.PW + j;
              d[i][j] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[((n * g.C + c) * g.H + ih) * g.W + iw] : 0.f;
            }
          wino_sandwich(kWinoBt, d, v);
          for (int i = 0; i < 16; ++i) V[c * 16 + i] = v[i / 4][i % 4];
        }
        for (int64_t oc = 0; oc < g.OC; ++oc) {
          float m[4][4] = {}, o[2][2];
          for (int64_t c = 0; c < g.C; ++c)
            for (int i = 0; i < 16; ++i) m[i / 4][i % 4] += U[(oc * g.C + c) * 16 + i] * V[c * 16 + i];
          wino_sandwich(kWinoAt, m, o);
          for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 2; ++j) {
              const int64_t oh = 2 * th + i, ow = 2 * tw + j;
              if (oh >= g.OH || ow >= g.OW) continue;
              float& out = y[((n * g.OC + oc) * g.OH + oh) * g.OW + ow];
              out = g.post.apply(o[i][j] + (b ? b[oc] : 0.f) + (g.post.sum ? out : 0.f));
            }
        }
      }
}

// gx = the adjoint convolution of gy: kernels turned by 180 degrees, channels in and out
// swapped, on the geometry winograd_bwd_data_geom(g).
void conv2d_bwd_data_winograd(const Conv2dGeom& g, const float* gy, const float* w, float* gx) {
  std::vector<float> wa(static_cast<size_t>(g.C * g.OC * 9));  // wa[c][oc] = rot180(w[oc][c])
  for (int64_t oc = 0; oc < g.OC; ++oc)
    for (int64_t c = 0; c < g.C; ++c)
      for (int i = 0; i < 9; ++i) wa[(c * g.OC + oc) * 9 + i] = w[(oc * g.C + c) * 9 + 8 - i];
  conv2d_fwd_winograd(winograd_bwd_data_geom(g), gy, wa.data(), nullptr, gx);
}

}  // namespace ref
}  // namespace convnet::kernels
