// conv2d as im2col + GEMM on OpenBLAS, parallel over the images of the batch.
// For image n and group g, the columns matrix is
//   col[(c*KH + kh)*KW + kw][oh*OW + ow] = x[n, g*Cg + c, oh*SH - PH + kh*DH, ow*SW - PW + kw*DW]
// (0 in the padding), so that y_g = W_g (OCg x K) * col (K x OH*OW) with K = Cg*KH*KW.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/gemm.h"
#include "kernels/registry.h"

namespace convnet::kernels::cpu {

namespace {

bool is_pointwise(const Conv2dGeom& g) {
  return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0 && g.OH == g.H && g.OW == g.W;
}

// x: one group of one image, (Cg, H, W) -> col (Cg*KH*KW, OH*OW)
void im2col(const Conv2dGeom& g, const float* x, float* col) {
  const int64_t Cg = g.C / g.G, OHW = g.OH * g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        float* row = col + ((c * g.KH + kh) * g.KW + kw) * OHW;
        const float* xc = x + c * g.H * g.W;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
          float* out = row + oh * g.OW;
          if (ih < 0 || ih >= g.H) {
            std::memset(out, 0, sizeof(float) * g.OW);
            continue;
          }
          const float* xr = xc + ih * g.W;
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
            out[ow] = (iw >= 0 && iw < g.W) ? xr[iw] : 0.f;
          }
        }
      }
}

// The adjoint of im2col: gx (Cg, H, W) += scatter of col.
void col2im(const Conv2dGeom& g, const float* col, float* gx) {
  const int64_t Cg = g.C / g.G, OHW = g.OH * g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const float* row = col + ((c * g.KH + kh) * g.KW + kw) * OHW;
        float* gc = gx + c * g.H * g.W;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
          if (ih < 0 || ih >= g.H) continue;
          float* gr = gc + ih * g.W;
          const float* in = row + oh * g.OW;
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            const int64_t iw = ow * g.SW - g.PW + kw * g.DW;
            if (iw >= 0 && iw < g.W) gr[iw] += in[ow];
          }
        }
      }
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.f, A, lda, B,
              ldb, beta, C, ldc);
}

void init_blas() {
  static const bool once = [] {
    openblas_set_num_threads(1);  // we parallelize over images ourselves
    return true;
  }();
  (void)once;
}

}  // namespace

void conv2d_fwd(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y) {
  init_blas();
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G, K = Cg * g.KH * g.KW, OHW = g.OH * g.OW;
  const bool pw = is_pointwise(g);
#pragma omp parallel
  {
    std::vector<float> col(pw ? 0 : K * OHW);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const float* xg = x + (n * g.C + grp * Cg) * g.H * g.W;
        const float* src = xg;
        if (!pw) {
          im2col(g, xg, col.data());
          src = col.data();
        }
        float* yg = y + (n * g.OC + grp * OCg) * OHW;
        sgemm(false, false, OCg, OHW, K, w + grp * OCg * K, K, src, OHW, 0.f, yg, OHW);
      }
      if (b)
        for (int64_t oc = 0; oc < g.OC; ++oc) {
          float* yo = y + (n * g.OC + oc) * OHW;
          for (int64_t i = 0; i < OHW; ++i) yo[i] += b[oc];
        }
    }
  }
}

void conv2d_bwd_data(const Conv2dGeom& g, const float* gy, const float* w, float* gx) {
  init_blas();
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G, K = Cg * g.KH * g.KW, OHW = g.OH * g.OW;
  const bool pw = is_pointwise(g);
#pragma omp parallel
  {
    std::vector<float> col(pw ? 0 : K * OHW);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t grp = 0; grp < g.G; ++grp) {
        float* gxg = gx + (n * g.C + grp * Cg) * g.H * g.W;
        const float* gyg = gy + (n * g.OC + grp * OCg) * OHW;
        // col = W_g^T (K x OCg) * gy_g (OCg x OHW)
        if (pw) {
          sgemm(true, false, K, OHW, OCg, w + grp * OCg * K, K, gyg, OHW, 0.f, gxg, OHW);
        } else {
          sgemm(true, false, K, OHW, OCg, w + grp * OCg * K, K, gyg, OHW, 0.f, col.data(), OHW);
          std::memset(gxg, 0, sizeof(float) * Cg * g.H * g.W);
          col2im(g, col.data(), gxg);
        }
      }
    }
  }
}

void conv2d_bwd_weight(const Conv2dGeom& g, const float* x, const float* gy, float* gw, float* gb) {
  init_blas();
  const int64_t Cg = g.C / g.G, OCg = g.OC / g.G, K = Cg * g.KH * g.KW, OHW = g.OH * g.OW;
  const int64_t wsize = g.OC * K;
  const bool pw = is_pointwise(g);
  const int nt = omp_get_max_threads();
  // One accumulator per thread, summed in thread order: deterministic for a thread count.
  std::vector<std::vector<float>> partial(nt);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    std::vector<float>& acc = partial[t];
    acc.assign(wsize, 0.f);
    std::vector<float> col(pw ? 0 : K * OHW);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const float* xg = x + (n * g.C + grp * Cg) * g.H * g.W;
        const float* src = xg;
        if (!pw) {
          im2col(g, xg, col.data());
          src = col.data();
        }
        // gw_g (OCg x K) += gy_g (OCg x OHW) * col^T (OHW x K)
        sgemm(false, true, OCg, K, OHW, gy + (n * g.OC + grp * OCg) * OHW, OHW, src, OHW, 1.f,
              acc.data() + grp * OCg * K, K);
      }
  }
  std::copy(partial[0].begin(), partial[0].end(), gw);
  for (int t = 1; t < nt; ++t)
    for (int64_t i = 0; i < wsize; ++i) gw[i] += partial[t][i];
  if (gb) {
    for (int64_t oc = 0; oc < g.OC; ++oc) {
      double s = 0;
      for (int64_t n = 0; n < g.N; ++n) {
        const float* p = gy + (n * g.OC + oc) * OHW;
        for (int64_t i = 0; i < OHW; ++i) s += p[i];
      }
      gb[oc] = static_cast<float>(s);
    }
  }
}

}  // namespace convnet::kernels::cpu

namespace convnet::kernels {
void register_cpu_conv2d() {
  keys::conv2d_fwd.add("cpu", 10, &cpu::conv2d_fwd);
  keys::conv2d_layout.add("cpu", 10, &ref::conv2d_layout);  // computes plain: outputs plain
  keys::conv2d_fwd_blocked.add("cpu", 10, &plain_conv2d_fwd<&cpu::conv2d_fwd>);
  keys::conv2d_bwd_data_blocked.add("cpu", 10, &plain_conv2d_bwd_data<&cpu::conv2d_bwd_data>);
  keys::conv2d_bwd_weight_blocked.add("cpu", 10, &plain_conv2d_bwd_weight<&cpu::conv2d_bwd_weight>);
  keys::conv2d_bwd_data.add("cpu", 10, &cpu::conv2d_bwd_data);
  keys::conv2d_bwd_weight.add("cpu", 10, &cpu::conv2d_bwd_weight);
}
}  // namespace convnet::kernels
