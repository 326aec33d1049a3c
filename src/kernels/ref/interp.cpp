// Reference 2-D interpolation (kernels/interp.h): the four-term sum per output pixel, and
// its adjoint as a scatter. Instantiated for float and double (double for the gradient checks).
#include "kernels/interp.h"

#include "kernels/registry.h"

namespace convnet::kernels::ref {

template <class T>
void interp_fwd(const InterpGeom& g, const T* x, T* y) {
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* xp = x + p * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t r[2] = {g.ih0[oh], g.ih1[oh]}, c[2] = {g.iw0[ow], g.iw1[ow]};
        const double wr[2] = {g.wh0[oh], g.wh1[oh]}, wc[2] = {g.ww0[ow], g.ww1[ow]};
        double s = 0;
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) s += wr[a] * wc[b] * xp[r[a] * g.W + c[b]];
        y[(p * g.OH + oh) * g.OW + ow] = static_cast<T>(s);
      }
  }
}

template <class T>
void interp_bwd(const InterpGeom& g, const T* gy, T* gx) {
  for (int64_t i = 0; i < g.planes * g.H * g.W; ++i) gx[i] = T(0);
  for (int64_t p = 0; p < g.planes; ++p) {
    T* gp = gx + p * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const T v = gy[(p * g.OH + oh) * g.OW + ow];
        const int64_t r[2] = {g.ih0[oh], g.ih1[oh]}, c[2] = {g.iw0[ow], g.iw1[ow]};
        const T wr[2] = {static_cast<T>(g.wh0[oh]), static_cast<T>(g.wh1[oh])};
        const T wc[2] = {static_cast<T>(g.ww0[ow]), static_cast<T>(g.ww1[ow])};
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) gp[r[a] * g.W + c[b]] += wr[a] * wc[b] * v;
      }
  }
}

template void interp_fwd<float>(const InterpGeom&, const float*, float*);
template void interp_fwd<double>(const InterpGeom&, const double*, double*);
template void interp_bwd<float>(const InterpGeom&, const float*, float*);
template void interp_bwd<double>(const InterpGeom&, const double*, double*);

}  // namespace convnet::kernels::ref

namespace convnet::kernels {
void register_ref_interp() {
  keys::interp_fwd.add("ref", 0, &ref::interp_fwd<float>);
  keys::interp_bwd.add("ref", 0, &ref::interp_bwd<float>);
}
}  // namespace convnet::kernels
