// conv_transpose2d: the op's gradients (float32, the default kernels) against central finite
// differences of its forward computed in double by the reference kernel it runs on
// (conv2d's data gradient), over strides, padding, output padding, dilation and groups.
#include <gtest/gtest.h>

#include "convnet/ops/conv_transpose.h"
#include "kernels/conv2d.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(ConvTransposeGradcheck, InputAndWeightGradientsMatchFiniteDifferences) {
  struct Case {
    int64_t N, Cin, H, W, Cout, K, S, P, OP, D, G;
  };
  for (const Case& c : {Case{1, 2, 3, 3, 3, 3, 2, 1, 1, 1, 1}, Case{2, 4, 2, 3, 2, 2, 1, 0, 0, 2, 2},
                        Case{1, 3, 3, 2, 2, 3, 3, 0, 2, 1, 1}}) {
    SCOPED_TRACE("stride " + std::to_string(c.S) + " groups " + std::to_string(c.G));
    ops::ConvTranspose2dArgs a;
    a.stride = {c.S, c.S}, a.padding = {c.P, c.P}, a.output_padding = {c.OP, c.OP}, a.dilation = {c.D, c.D};
    a.groups = c.G;
    const Shape xs{c.N, c.Cin, c.H, c.W}, ws{c.Cin, c.Cout / c.G, c.K, c.K};
    auto xv = random_doubles(shape_numel(xs), 7), wv = random_doubles(shape_numel(ws), 8);
    Tensor x = Tensor::from_vector(xs, std::vector<float>(xv.begin(), xv.end())).requires_grad_();
    Tensor w = Tensor::from_vector(ws, std::vector<float>(wv.begin(), wv.end())).requires_grad_();
    Tensor y = ops::conv_transpose2d(x, w, {}, a);
    auto r = random_doubles(y.numel(), 9);
    y.backward(Tensor::from_vector(y.shape(), std::vector<float>(r.begin(), r.end())));
    kernels::Conv2dGeom g;
    g.N = c.N, g.C = c.Cout, g.H = y.size(2), g.W = y.size(3), g.OC = c.Cin, g.KH = g.KW = c.K, g.SH = g.SW = c.S;
    g.PH = g.PW = c.P, g.DH = g.DW = c.D, g.G = c.G, g.OH = c.H, g.OW = c.W;
    auto loss = [&](const std::vector<double>& xx, const std::vector<double>& ww) {
      std::vector<double> out(r.size());
      kernels::ref::conv2d_bwd_data<double>(g, xx.data(), ww.data(), out.data());
      return dot(out, r);
    };
    const Tensor gx = x.grad(), gw = w.grad();
    EXPECT_TRUE(all_close(std::vector<double>(gx.data(), gx.data() + gx.numel()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(v, wv); }, xv), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(std::vector<double>(gw.data(), gw.data() + gw.numel()),
                          numeric_grad([&](const std::vector<double>& v) { return loss(xv, v); }, wv), 1e-4, 1e-5));
  }
}
