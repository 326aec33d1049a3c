// constant_pad: output size per dimension, then the kernel; the gradient is the adjoint
// (the output gradient at the positions that came from x).
#include "convnet/ops/pad.h"

#include "convnet/autograd/autograd.h"
#include "convnet/autograd/trace.h"
#include "convnet/core/error.h"
#include "kernels/pad.h"
#include "kernels/registry.h"
#include "ops/checks.h"

namespace convnet::ops {

namespace {
// x as float32, checked: defined, one (before, after) pair per dimension.
Tensor padded_input(const Tensor& x_arg, const std::vector<std::array<int64_t, 2>>& pads, const std::string& layer) {
  const Tensor x = as_fp32(x_arg);  // float32 kernels only (ops/autocast.h)
  CONVNET_CHECK(x.defined(), layer, ": input must be defined");
  CONVNET_CHECK(static_cast<int64_t>(pads.size()) == x.dim(), layer, ": got ", pads.size(),
                " (before, after) pairs for an input of shape ", shape_str(x.shape()), " (one per dimension: ", x.dim(),
                ")");
  return x;
}
// The pads in ONNX's order: all begins, then all ends.
std::vector<int64_t> onnx_pads(const std::vector<std::array<int64_t, 2>>& pads) {
  std::vector<int64_t> flat;
  for (const auto& p : pads) flat.push_back(p[0]);
  for (const auto& p : pads) flat.push_back(p[1]);
  return flat;
}
}  // namespace

Tensor constant_pad(const Tensor& x_arg, const std::vector<std::array<int64_t, 2>>& pads, float value,
                    const std::string& layer) {
  const Tensor x = padded_input(x_arg, pads, layer);
  const int64_t rank = x.dim();
  Shape out(static_cast<size_t>(rank));
  std::vector<int64_t> begin(static_cast<size_t>(rank));
  for (int64_t k = 0; k < rank; ++k) {
    out[k] = x.shape()[k] + pads[k][0] + pads[k][1];
    begin[k] = pads[k][0];
    CONVNET_CHECK(out[k] >= 0, layer, ": padding (", pads[k][0], ", ", pads[k][1], ") of dimension ", k,
                  " of an input of shape ", shape_str(x.shape()), " gives a negative size ", out[k]);
  }
  Tensor y = Tensor::empty(out);
  kernels::keys::constant_pad_fwd.get()(rank, x.shape().data(), out.data(), begin.data(), value,
                                                             x.data(), y.data());
  autograd::record(y, "constant_pad", {x}, [in = x.shape(), out, begin, rank](const Tensor& g) {
    Tensor gx = Tensor::empty(in);
    kernels::keys::constant_pad_bwd.get()(rank, in.data(), out.data(), begin.data(), g.data(),
                                                               gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) {
    trace::record("constant_pad", {x}, y, {.ints = {{"pads", onnx_pads(pads)}}, .floats = {{"value", value}}});
  }
  return y;
}

Tensor pad(const Tensor& x_arg, const std::vector<std::array<int64_t, 2>>& pads, const std::string& mode, float value,
           const std::string& layer) {
  if (mode == "constant") return constant_pad(x_arg, pads, value, layer);
  CONVNET_CHECK(mode == "reflect" || mode == "replicate" || mode == "circular", layer, ": unknown padding mode '",
                mode, "' (constant, reflect, replicate or circular)");
  const Tensor x = padded_input(x_arg, pads, layer);
  const int64_t rank = x.dim();
  const auto m = mode == "reflect"     ? kernels::PadMode::reflect
                 : mode == "replicate" ? kernels::PadMode::replicate
                                       : kernels::PadMode::circular;
  Shape out(static_cast<size_t>(rank));
  std::vector<int64_t> begin(static_cast<size_t>(rank));
  for (int64_t k = 0; k < rank; ++k) {
    const int64_t n = x.shape()[k], b = pads[k][0], e = pads[k][1];
    const bool padded = b != 0 || e != 0;
    const bool ok = b >= 0 && e >= 0 &&
                    (!padded || (m == kernels::PadMode::reflect     ? b < n && e < n
                                 : m == kernels::PadMode::circular ? b <= n && e <= n
                                                                    : n > 0));
    CONVNET_CHECK(ok, layer, ": ", mode, " padding (", b, ", ", e, ") of dimension ", k, " is out of range for an input of shape ",
                  shape_str(x.shape()),
                  m == kernels::PadMode::reflect    ? " (reflect needs 0 <= pad < the dimension's size)"
                  : m == kernels::PadMode::circular ? " (circular needs 0 <= pad <= the dimension's size)"
                                                    : " (replicate needs pads >= 0 and a non-empty dimension)");
    out[k] = n + b + e;
    begin[k] = b;
  }
  const char* name = m == kernels::PadMode::reflect     ? "reflect_pad"
                     : m == kernels::PadMode::replicate ? "replicate_pad"
                                                        : "circular_pad";
  Tensor y = Tensor::empty(out);
  if (y.numel() > 0) kernels::keys::index_pad_fwd.get()(m, rank, x.shape().data(), out.data(), begin.data(), x.data(), y.data());
  autograd::record(y, name, {x}, [m, in = x.shape(), out, begin, rank](const Tensor& g) {
    Tensor gx = Tensor::zeros(in);
    if (g.numel() > 0) kernels::keys::index_pad_bwd.get()(m, rank, in.data(), out.data(), begin.data(), g.data(), gx.data());
    return std::vector<Tensor>{gx};
  });
  if (trace::active()) {
    trace::record(name, {x}, y, {.ints = {{"pads", onnx_pads(pads)}}});
  }
  return y;
}

}  // namespace convnet::ops
