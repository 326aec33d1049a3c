// conv3d, max_pool3d and avg_pool3d (ops/volumetric.h) on the kernels of kernels/vol.h.
#include "convnet/ops/volumetric.h"

#include <memory>
#include <vector>

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "convnet/ops/output_size.h"
#include "kernels/registry.h"
#include "kernels/vol.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {

std::string triple(const std::array<int64_t, 3>& v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + ")";
}

void check_volume(const Tensor& x, const std::string& layer) {
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  CONVNET_CHECK(x.dim() == 5, layer, ": expected a 5-D input (N, C, D, H, W), got input of shape ",
                shape_str(x.shape()));
  CONVNET_CHECK(x.size(2) > 0 && x.size(3) > 0 && x.size(4) > 0, layer,
                ": expected a non-empty volume (D, H, W), got input of shape ", shape_str(x.shape()));
}

kernels::Pool3dGeom pool_geom(const Tensor& x, const Pool3dArgs& a, bool is_max, const std::string& layer) {
  check_volume(x, layer);
  kernels::Pool3dGeom g{};
  g.N = x.size(0), g.C = x.size(1);
  g.count_include_pad = a.count_include_pad;
  for (int k = 0; k < 3; ++k) {
    const int64_t s = a.stride[k] == 0 ? a.kernel[k] : a.stride[k];
    CONVNET_CHECK(
        a.kernel[k] >= 1 && s >= 1 && a.dilation[k] >= 1 && a.padding[k] >= 0 && a.padding[k] <= a.kernel[k] / 2, layer,
        ": invalid pooling arguments kernel ", triple(a.kernel), ", stride ", triple(a.stride), ", padding ",
        triple(a.padding), ", dilation ", triple(a.dilation),
        " (kernel, stride and dilation >= 1, 0 <= padding <= kernel / 2)");
    CONVNET_CHECK(is_max || a.dilation[k] == 1, layer, ": average pooling takes no dilation, got ", triple(a.dilation));
    g.in[k] = x.size(2 + k), g.k[k] = a.kernel[k], g.s[k] = s, g.p[k] = a.padding[k], g.d[k] = a.dilation[k];
    g.out[k] = conv_output_size(g.in[k], g.k[k], s, g.p[k], g.p[k], g.d[k], a.ceil_mode);
    CONVNET_CHECK(g.out[k] >= 1, layer, ": the output would be empty for input of shape ", shape_str(x.shape()),
                  " with kernel ", triple(a.kernel), ", stride ", triple(a.stride), ", padding ", triple(a.padding),
                  ", dilation ", triple(a.dilation));
  }
  return g;
}

trace::Attrs pool_attrs(const kernels::Pool3dGeom& g, const Pool3dArgs& a) {
  return {.ints = {{"kernel", {g.k[0], g.k[1], g.k[2]}},
                   {"stride", {g.s[0], g.s[1], g.s[2]}},
                   {"pads", {g.p[0], g.p[1], g.p[2], g.p[0], g.p[1], g.p[2]}},
                   {"dilation", {g.d[0], g.d[1], g.d[2]}},
                   {"ceil_mode", {a.ceil_mode ? 1 : 0}},
                   {"count_include_pad", {a.count_include_pad ? 1 : 0}}}};
}

}  // namespace

Tensor conv3d(const Tensor& x_arg, const Tensor& w_arg, const Tensor& b_arg, const Conv3dArgs& a,
              const std::string& layer) {
  const Tensor x = as_fp32(x_arg), w = as_fp32(w_arg), b = b_arg.defined() ? as_fp32(b_arg) : Tensor();
  check_volume(x, layer);
  check_operands(layer, {{"input", &x}, {"weight", &w}, {"bias", &b}});
  CONVNET_CHECK(w.defined() && w.dim() == 5, layer, ": expected a 5-D weight (OC, C/groups, KD, KH, KW), got ",
                w.defined() ? shape_str(w.shape()) : std::string("none"));
  const int64_t G = a.groups;
  CONVNET_CHECK(G >= 1 && x.size(1) % G == 0 && w.size(0) % G == 0 && w.size(1) * G == x.size(1), layer,
                ": input of shape ", shape_str(x.shape()), " does not fit weight of shape ", shape_str(w.shape()),
                " with ", G, " group(s) (expected ", w.size(1) * G, " input channels)");
  if (b.defined())
    CONVNET_CHECK(b.dim() == 1 && b.size(0) == w.size(0), layer, ": expected bias of shape (", w.size(0), "), got ",
                  shape_str(b.shape()));
  kernels::Conv3dGeom g{};
  g.N = x.size(0), g.C = x.size(1), g.OC = w.size(0), g.G = G;
  for (int k = 0; k < 3; ++k) {
    CONVNET_CHECK(a.stride[k] >= 1 && a.dilation[k] >= 1 && a.padding[k] >= 0, layer, ": invalid stride ",
                  triple(a.stride), ", padding ", triple(a.padding), " or dilation ", triple(a.dilation));
    g.in[k] = x.size(2 + k), g.k[k] = w.size(2 + k), g.s[k] = a.stride[k], g.p[k] = a.padding[k],
    g.d[k] = a.dilation[k];
    g.out[k] = conv_output_size(g.in[k], g.k[k], g.s[k], g.p[k], g.p[k], g.d[k]);
    CONVNET_CHECK(g.out[k] >= 1, layer, ": the output would be empty for input of shape ", shape_str(x.shape()),
                  " and weight of shape ", shape_str(w.shape()), " (padding ", triple(a.padding), ", dilation ",
                  triple(a.dilation), ")");
  }
  g.w_id = w.storage_id(), g.w_version = w.version();
  const Tensor xp = x.in_layout(nullptr);
  Tensor y = Tensor::empty({g.N, g.OC, g.out[0], g.out[1], g.out[2]});
  kernels::keys::conv3d_fwd(g, xp.data(), w.data(), b.defined() ? b.data() : nullptr, y.data());
  autograd::record(
      y, "conv3d", {x, w, b}, [g0 = g, xp, w, b, xl = x.layout(), need_x = x.requires_grad()](const Tensor& gy_in) {
        kernels::Conv3dGeom g = g0;
        g.w_version = w.version();  // as it is now
        const Tensor gy = gy_in.in_layout(nullptr);
        Tensor gx, gw, gb;
        if (need_x) {
          gx = Tensor::empty(xp.shape());
          kernels::keys::conv3d_bwd_data(g, gy.data(), w.data(), gx.data());
          gx = gx.in_layout(xl);
        }
        const bool need_b = b.defined() && b.requires_grad();
        if (w.requires_grad() || need_b) {  // one pass computes both
          Tensor gw_full = Tensor::empty(w.shape());
          if (need_b) gb = Tensor::empty(b.shape());
          kernels::keys::conv3d_bwd_weight(g, xp.data(), gy.data(), gw_full.data(), need_b ? gb.data() : nullptr);
          if (w.requires_grad()) gw = gw_full;
        }
        return std::vector<Tensor>{gx, gw, gb};
      });
  if (trace::active())
    trace::record("conv3d", {x, w, b}, y,
                  {.ints = {{"stride", {a.stride[0], a.stride[1], a.stride[2]}},
                            {"pads", {g.p[0], g.p[1], g.p[2], g.p[0], g.p[1], g.p[2]}},
                            {"dilation", {a.dilation[0], a.dilation[1], a.dilation[2]}},
                            {"groups", {G}}}});
  return y;
}

Tensor max_pool3d(const Tensor& x_arg, const Pool3dArgs& a, const std::string& layer) {
  const Tensor x = as_fp32(x_arg).in_layout(nullptr);
  const kernels::Pool3dGeom g = pool_geom(x, a, /*is_max=*/true, layer);
  Tensor y = Tensor::empty({g.N, g.C, g.out[0], g.out[1], g.out[2]});
  const bool grad = autograd::needs_grad({&x});
  auto argmax = std::make_shared<std::vector<int64_t>>(grad ? y.numel() : 0);
  kernels::keys::max_pool3d_fwd(g, x.data(), y.data(), grad ? argmax->data() : nullptr);
  autograd::record(y, "max_pool3d", {x}, [g, argmax, shape = x.shape()](const Tensor& gy_in) {
    const Tensor gy = gy_in.in_layout(nullptr);
    Tensor gx = Tensor::empty(shape);
    kernels::keys::max_pool3d_bwd(g, gy.data(), argmax->data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("max_pool3d", {x}, y, pool_attrs(g, a));
  return y;
}

Tensor avg_pool3d(const Tensor& x_arg, const Pool3dArgs& a, const std::string& layer) {
  const Tensor x = as_fp32(x_arg).in_layout(nullptr);
  const kernels::Pool3dGeom g = pool_geom(x, a, /*is_max=*/false, layer);
  Tensor y = Tensor::empty({g.N, g.C, g.out[0], g.out[1], g.out[2]});
  kernels::keys::avg_pool3d_fwd(g, x.data(), y.data());
  autograd::record(y, "avg_pool3d", {x}, [g, shape = x.shape()](const Tensor& gy_in) {
    const Tensor gy = gy_in.in_layout(nullptr);
    Tensor gx = Tensor::empty(shape);
    kernels::keys::avg_pool3d_bwd(g, gy.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) trace::record("avg_pool3d", {x}, y, pool_attrs(g, a));
  return y;
}

}  // namespace convnet::ops
