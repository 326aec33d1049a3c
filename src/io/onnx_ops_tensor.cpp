// ONNX tensor operators: elementwise arithmetic with broadcasting (Add, Sub, Mul, Div,
// Sum, Neg), Concat, Flatten, Reshape, Shape, Gather, Unsqueeze, Squeeze, Identity,
// Constant, ConstantOfShape, Pad, Slice, Transpose, Expand, Cast.
// Float data goes through convnet ops (autograd); integer data is the shape arithmetic
// of exported graphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and is computed
// directly on int64 vectors.
#include <algorithm>
#include <functional>
#include <limits>

#include "convnet/autograd/autograd.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/concat.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/linear.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "io/onnx_internal.h"

namespace convnet::io::onnx_impl {

namespace {

// ---- elementwise arithmetic ---------------------------------------------------------

OnnxValue reshaped(const OnnxValue& v, const Shape& s);

enum class Arith { Add, Sub, Mul, Div };

OnnxValue arith(Arith op, const OnnxValue& a, const OnnxValue& b) {
  const char* name = op == Arith::Add ? "Add" : op == Arith::Sub ? "Sub" : op == Arith::Mul ? "Mul" : "Div";
  const Shape s = ops::broadcast_shapes(a.shape(), b.shape(), name);
  if (a.is_int && b.is_int) {
    const OnnxValue x = int_broadcast(a, s), y = int_broadcast(b, s);
    std::vector<int64_t> r(x.ints.size());
    for (size_t i = 0; i < r.size(); ++i) {
      const int64_t p = x.ints[i], q = y.ints[i];
      CONVNET_CHECK(op != Arith::Div || q != 0, name, ": integer division by zero");
      r[i] = op == Arith::Add ? p + q : op == Arith::Sub ? p - q : op == Arith::Mul ? p * q : p / q;
    }
    return OnnxValue::of_ints(s, std::move(r));
  }
  CONVNET_CHECK(!a.is_int && !b.is_int, name, ": operands of different types, ", a.describe(), " and ", b.describe());
  // A one-element constant operand (GELU's 0.5, 1 and sqrt 2, normalization constants): one
  // pass over the other operand, without materializing the broadcast constant.
  const auto constant_scalar = [&](const OnnxValue& v) {
    return v.tensor.numel() == 1 && !(grad_enabled() && v.tensor.requires_grad());
  };
  if (constant_scalar(b) && a.shape() == s) {
    const float c = b.tensor.to_vector()[0];
    switch (op) {
      case Arith::Mul:
        return OnnxValue::of(ops::mul(a.tensor, c));
      case Arith::Div:
        return OnnxValue::of(ops::mul(a.tensor, 1.f / c));
      case Arith::Add:
        return OnnxValue::of(ops::add(a.tensor, Tensor::full(s, c), name));
      case Arith::Sub:
        return OnnxValue::of(ops::add(a.tensor, Tensor::full(s, -c), name));
    }
  }
  if (constant_scalar(a) && b.shape() == s && (op == Arith::Mul || op == Arith::Add)) {
    const float c = a.tensor.to_vector()[0];
    return OnnxValue::of(op == Arith::Mul ? ops::mul(b.tensor, c) : ops::add(Tensor::full(s, c), b.tensor, name));
  }
  Tensor x = ops::broadcast_to(a.tensor, s, name), y = ops::broadcast_to(b.tensor, s, name);
  switch (op) {
    case Arith::Add:
      return OnnxValue::of(ops::add(x, y, name));
    case Arith::Sub:
      return OnnxValue::of(ops::sub(x, y));
    case Arith::Mul:
      return OnnxValue::of(ops::mul(x, y));
    case Arith::Div:
      return OnnxValue::of(ops::div(x, y));
  }
  return {};
}

Kernel build_arith(const NodeView& v, Arith op) {
  // Before opset 7, B broadcasts only with broadcast=1, its dimensions aligned with A's
  // starting at `axis` (default: aligned at the end, as NumPy).
  const bool legacy_axis = v.opset() < 7 && v.get_int("broadcast", 0) != 0 && v.has("axis");
  const int64_t axis = v.get_int("axis", -1);
  return [op, legacy_axis, axis](const Inputs& in, const RunCtx&) {
    CONVNET_CHECK(in.size() == 2 && in[0] && in[1], "expected two inputs");
    if (!legacy_axis) return one(arith(op, *in[0], *in[1]));
    const auto rank = static_cast<int64_t>(in[0]->shape().size());
    Shape s = in[1]->shape();
    const int64_t a = norm_axis(axis, rank, "axis");
    CONVNET_CHECK(a + static_cast<int64_t>(s.size()) <= rank, "B ", in[1]->describe(), " does not fit A ",
                  in[0]->describe(), " at axis ", a);
    s.resize(static_cast<size_t>(rank - a), 1);
    return one(arith(op, *in[0], reshaped(*in[1], s)));
  };
}

// ---- shapes -----------------------------------------------------------------------------

// Reshapes float or integer data (same number of elements).
OnnxValue reshaped(const OnnxValue& v, const Shape& s) {
  CONVNET_CHECK(shape_numel(s) == shape_numel(v.shape()), "cannot reshape ", v.describe(), " to ", shape_str(s));
  if (v.is_int) return OnnxValue::of_ints(s, v.ints);
  return OnnxValue::of(v.tensor.reshape(s));
}

const OnnxValue& any_input(const Inputs& in, size_t i, const char* what) {
  CONVNET_CHECK(i < in.size() && in[i] && in[i]->defined(), what, " (input ", i, ") is missing");
  return *in[i];
}

Kernel build_flatten(const NodeView& v) {
  const int64_t axis = v.get_int("axis", 1);
  return [axis](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "input");
    const auto rank = static_cast<int64_t>(x.shape().size());
    CONVNET_CHECK(axis >= -rank && axis <= rank, "axis ", axis, " is out of range for rank ", rank);
    const int64_t a = axis < 0 ? axis + rank : axis;
    int64_t outer = 1;
    for (int64_t k = 0; k < a; ++k) outer *= x.shape()[k];
    return one(reshaped(x, {outer, outer == 0 ? 0 : shape_numel(x.shape()) / outer}));
  };
}

Kernel build_reshape(const NodeView& v) {
  const bool shape_attr = v.opset() < 5;
  const std::vector<int64_t> attr_shape = v.get_ints("shape");
  const bool allow_zero = v.get_int("allowzero", 0) != 0;
  return [=](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "data");
    std::vector<int64_t> s = shape_attr ? attr_shape : int_input(in, 1, "shape").ints;
    const Shape& xs = x.shape();
    // 0 copies the input's size at that position (unless allowzero); one -1 is inferred.
    int64_t infer = -1, known = 1;
    for (size_t k = 0; k < s.size(); ++k) {
      if (s[k] == 0 && !allow_zero) {
        CONVNET_CHECK(k < xs.size(), "shape ", list_str(s), ": 0 at position ", k, " but the input ", x.describe(),
                      " has only ", xs.size(), " dimensions");
        s[k] = xs[k];
      }
      if (s[k] == -1) {
        CONVNET_CHECK(infer < 0, "shape ", list_str(s), " has more than one -1");
        infer = static_cast<int64_t>(k);
        continue;
      }
      CONVNET_CHECK(s[k] >= 0, "shape ", list_str(s), " has a negative size");
      known *= s[k];
    }
    if (infer >= 0) {
      CONVNET_CHECK(known > 0 && shape_numel(xs) % known == 0, "cannot reshape ", x.describe(), " to ", list_str(s));
      s[infer] = shape_numel(xs) / known;
    }
    CONVNET_CHECK(shape_numel(s) == shape_numel(xs), "cannot reshape ", x.describe(), " to ", list_str(s));
    return one(reshaped(x, s));
  };
}

Kernel build_shape(const NodeView& v) {
  const int64_t start = v.get_int("start", 0);
  const bool has_end = v.has("end");
  const int64_t end = v.get_int("end", 0);
  return [=](const Inputs& in, const RunCtx&) {
    const Shape& s = any_input(in, 0, "data").shape();
    const auto rank = static_cast<int64_t>(s.size());
    // Opset 15: start/end slice the shape, negative from the end, clamped to [0, rank].
    auto clampi = [rank](int64_t i) { return std::clamp(i < 0 ? i + rank : i, int64_t{0}, rank); };
    const int64_t b = clampi(start), e = has_end ? clampi(end) : rank;
    std::vector<int64_t> r(s.begin() + b, s.begin() + std::max(b, e));
    const auto n = static_cast<int64_t>(r.size());
    return one(OnnxValue::of_ints({n}, std::move(r)));
  };
}

// Gather of float data (an Embedding's lookup): the gathered axis permuted to the front and
// the rest flattened, data (D, R); the rows picked by a one-hot (n, D) matrix times data,
// a linear layer, so the gradient reaches the table (summed over repeated indices); then
// the result reshaped and permuted to data[:axis] + indices + data[axis+1:].
Tensor gather_float(const Tensor& data, const OnnxValue& idx, int64_t axis) {
  const Shape& ds = data.shape();
  const auto rank = static_cast<int64_t>(ds.size());
  const int64_t a = norm_axis(axis, rank, "axis"), D = ds[a];
  std::vector<int64_t> front{a};
  Shape rest;
  for (int64_t k = 0; k < rank; ++k)
    if (k != a) front.push_back(k), rest.push_back(ds[k]);
  const int64_t R = shape_numel(rest), n = static_cast<int64_t>(idx.ints.size());
  Tensor onehot = Tensor::zeros({n, D});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = idx.ints[static_cast<size_t>(i)];
    CONVNET_CHECK(j >= -D && j < D, "index ", j, " is out of range for axis ", a, " of size ", D);
    onehot.data()[i * D + (j < 0 ? j + D : j)] = 1.f;
  }
  const Tensor table = ops::permute(data, front, "Gather").reshape({D, R});
  Tensor rows = ops::linear(onehot, ops::transpose2d(table, "Gather"), Tensor(), "Gather");  // (n, R)
  // (indices..., data[:a]..., data[a+1:]...) -> (data[:a]..., indices..., data[a+1:]...)
  Shape picked(idx.int_shape.begin(), idx.int_shape.end());
  picked.insert(picked.end(), rest.begin(), rest.end());
  rows = rows.reshape(picked);
  const auto ni = static_cast<int64_t>(idx.int_shape.size());
  std::vector<int64_t> back;
  for (int64_t k = 0; k < a; ++k) back.push_back(ni + k);
  for (int64_t k = 0; k < ni; ++k) back.push_back(k);
  for (int64_t k = ni + a; k < static_cast<int64_t>(picked.size()); ++k) back.push_back(k);
  return ops::permute(rows, back, "Gather");
}

Kernel build_gather(const NodeView& v) {
  const int64_t axis = v.get_int("axis", 0);
  return [axis](const Inputs& in, const RunCtx&) {
    const OnnxValue& data = any_input(in, 0, "data");
    const OnnxValue& idx = int_input(in, 1, "indices");
    if (!data.is_int) return one(OnnxValue::of(gather_float(data.tensor, idx, axis)));
    const Shape& ds = data.int_shape;
    const auto rank = static_cast<int64_t>(ds.size());
    const int64_t a = norm_axis(axis, rank, "axis");
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < a; ++k) outer *= ds[k];
    for (int64_t k = a + 1; k < rank; ++k) inner *= ds[k];
    const int64_t n = ds[a];
    Shape out(ds.begin(), ds.begin() + a);
    out.insert(out.end(), idx.int_shape.begin(), idx.int_shape.end());
    out.insert(out.end(), ds.begin() + a + 1, ds.end());
    std::vector<int64_t> r;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j : idx.ints) {
        CONVNET_CHECK(j >= -n && j < n, "index ", j, " is out of range for axis ", a, " of size ", n);
        const int64_t jj = j < 0 ? j + n : j;
        for (int64_t i = 0; i < inner; ++i) r.push_back(data.ints[(o * n + jj) * inner + i]);
      }
    return one(OnnxValue::of_ints(out, std::move(r)));
  };
}

// Unsqueeze (insert size-1 dimensions) and Squeeze (remove them); axes come from an
// attribute before opset 13 and from an optional input since.
Kernel build_squeeze(const NodeView& v, bool unsqueeze) {
  const bool axes_attr = v.opset() < 13;
  const std::vector<int64_t> attr_axes = v.get_ints("axes");
  return [=](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "data");
    const bool given = axes_attr ? !attr_axes.empty() : in.size() > 1 && in[1];
    std::vector<int64_t> axes = axes_attr ? attr_axes : given ? int_input(in, 1, "axes").ints : std::vector<int64_t>{};
    const Shape& s = x.shape();
    const auto rank = static_cast<int64_t>(s.size());
    Shape out;
    if (unsqueeze) {
      CONVNET_CHECK(given, "axes are required");
      const int64_t out_rank = rank + static_cast<int64_t>(axes.size());
      std::vector<bool> ones(static_cast<size_t>(out_rank), false);
      for (int64_t a : axes) {
        const int64_t k = norm_axis(a, out_rank, "axis");
        CONVNET_CHECK(!ones[k], "axes ", list_str(axes), " repeat an axis");
        ones[k] = true;
      }
      size_t next = 0;
      for (int64_t k = 0; k < out_rank; ++k) out.push_back(ones[k] ? 1 : s[next++]);
    } else {
      std::vector<bool> drop(static_cast<size_t>(rank), !given);
      for (int64_t a : axes) {
        const int64_t k = norm_axis(a, rank, "axis");
        CONVNET_CHECK(s[k] == 1, "cannot squeeze axis ", a, " of size ", s[k], " in ", x.describe());
        drop[k] = true;
      }
      for (int64_t k = 0; k < rank; ++k)
        if (!(drop[k] && s[k] == 1)) out.push_back(s[k]);
    }
    return one(reshaped(x, out));
  };
}

Kernel build_concat(const NodeView& v) {
  CONVNET_CHECK(v.has("axis") || v.opset() < 4, v.label(), ": attribute 'axis' is required");
  const int64_t axis = v.get_int("axis", 1);  // optional, default 1, before opset 4
  return [axis](const Inputs& in, const RunCtx&) {
    CONVNET_CHECK(!in.empty(), "expected at least one input");
    std::vector<const OnnxValue*> xs;
    for (size_t i = 0; i < in.size(); ++i) xs.push_back(&any_input(in, i, "input"));
    const bool ints = xs[0]->is_int;
    for (const auto* x : xs)
      CONVNET_CHECK(x->is_int == ints, "inputs of different types: ", xs[0]->describe(), " and ", x->describe());
    const auto rank = static_cast<int64_t>(xs[0]->shape().size());
    const int64_t a = norm_axis(axis, rank, "axis");
    if (!ints) {
      std::vector<Tensor> ts;
      for (const auto* x : xs) ts.push_back(x->tensor);
      return one(OnnxValue::of(ops::concat(ts, a, "Concat")));
    }
    // Integer data: per outer index, each input's block of its size along `a` times inner.
    Shape out = xs[0]->int_shape;
    out[a] = 0;
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < a; ++k) outer *= out[k];
    for (int64_t k = a + 1; k < rank; ++k) inner *= out[k];
    for (const auto* x : xs) {
      CONVNET_CHECK(static_cast<int64_t>(x->int_shape.size()) == rank, "inputs of different ranks: ", xs[0]->describe(),
                    " and ", x->describe());
      out[a] += x->int_shape[a];
    }
    std::vector<int64_t> r;
    for (int64_t o = 0; o < outer; ++o)
      for (const auto* x : xs) {
        const int64_t len = x->int_shape[a] * inner;
        r.insert(r.end(), x->ints.begin() + o * len, x->ints.begin() + (o + 1) * len);
      }
    CONVNET_CHECK(static_cast<int64_t>(r.size()) == shape_numel(out), "inputs of mismatched shapes");
    return one(OnnxValue::of_ints(out, std::move(r)));
  };
}

Kernel build_pad(const NodeView& v) {
  const std::string onnx_mode = v.get_string("mode", "constant");
  // ONNX's edge / wrap are F.pad's replicate / circular.
  const std::string mode = onnx_mode == "edge" ? "replicate" : onnx_mode == "wrap" ? "circular" : onnx_mode;
  if (mode != "constant" && mode != "reflect" && mode != "replicate" && mode != "circular")
    throw Unsupported{"mode '" + onnx_mode + "'"};
  const bool attrs = v.opset() < 11;
  const std::vector<int64_t> attr_pads = v.get_ints("pads");
  const float attr_value = v.get_float("value", 0.f);
  if (!attrs && v.has_input(3)) throw Unsupported{"the axes input"};
  return [=](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "data");
    const std::vector<int64_t> pads = attrs ? attr_pads : int_input(in, 1, "pads").ints;
    const float value = attrs                    ? attr_value
                        : in.size() > 2 && in[2] ? static_cast<float>(scalar_input(in, 2, "constant_value"))
                                                 : 0.f;
    const int64_t rank = x.dim();
    CONVNET_CHECK(static_cast<int64_t>(pads.size()) == 2 * rank, "pads ", list_str(pads), " should have ", 2 * rank,
                  " entries (all begins, then all ends) for data of shape ", shape_str(x.shape()));
    std::vector<std::array<int64_t, 2>> p;
    for (int64_t k = 0; k < rank; ++k) p.push_back({pads[k], pads[k + rank]});
    return one(OnnxValue::of(ops::pad(x, p, mode, value, "Pad")));
  };
}

// Integer data permuted by `perm` (Transpose of shape arithmetic, as in F.pad's export).
OnnxValue int_permute(const OnnxValue& x, const std::vector<int64_t>& perm) {
  const Shape& s = x.int_shape;
  const auto rank = static_cast<int64_t>(s.size());
  CONVNET_CHECK(static_cast<int64_t>(perm.size()) == rank, "perm ", list_str(perm), " does not fit ", x.describe());
  std::vector<int64_t> stride(static_cast<size_t>(rank), 1);
  for (int64_t k = rank - 2; k >= 0; --k) stride[k] = stride[k + 1] * s[k + 1];
  Shape out;
  for (int64_t k = 0; k < rank; ++k) out.push_back(s[norm_axis(perm[k], rank, "perm entry")]);
  std::vector<int64_t> r(x.ints.size());
  for (size_t o = 0; o < r.size(); ++o) {
    int64_t rem = static_cast<int64_t>(o), src = 0;
    for (int64_t k = rank - 1; k >= 0; --k) {
      src += (rem % out[k]) * stride[norm_axis(perm[k], rank, "perm entry")];
      rem /= out[k];
    }
    r[o] = x.ints[src];
  }
  return OnnxValue::of_ints(out, std::move(r));
}

Kernel build_transpose(const NodeView& v) {
  const std::vector<int64_t> perm = v.get_ints("perm");
  return [perm](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "data");
    std::vector<int64_t> p = perm;
    if (p.empty())  // default: reverse the dimensions
      for (auto k = static_cast<int64_t>(x.shape().size()) - 1; k >= 0; --k) p.push_back(k);
    if (x.is_int) return one(int_permute(x, p));
    return one(OnnxValue::of(ops::permute(x.tensor, p, "Transpose")));
  };
}

Kernel build_constant_of_shape(const NodeView& v) {
  OnnxValue fill = OnnxValue::of(Tensor::scalar(0.f));  // default: float 0
  if (const auto* t = v.get_tensor("value")) fill = value_from_proto(*t, v.label() + ": attribute 'value'", "");
  CONVNET_CHECK(shape_numel(fill.shape()) == 1, v.label(), ": attribute 'value' must hold one element, got ",
                fill.describe());
  return [fill](const Inputs& in, const RunCtx&) {
    const Shape s = int_input(in, 0, "input").ints;
    if (fill.is_int) return one(OnnxValue::of_ints(s, std::vector<int64_t>(shape_numel(s), fill.ints[0])));
    return one(OnnxValue::of(Tensor::full(s, fill.tensor.data()[0])));
  };
}

// Slice: starts/ends/axes/steps from inputs (opset >= 10) or attributes (before). Float
// data is cropped with constant_pad's negative padding (so step 1 only); integer data
// takes any step.
// x[..., begin:begin+len, ...] along `axis`: a crop (constant_pad with negative pads, so
// the gradient flows) for float data, a copy for integer data.
OnnxValue crop_axis(const OnnxValue& x, int64_t axis, int64_t begin, int64_t len) {
  const Shape& s = x.shape();
  if (!x.is_int) {
    std::vector<std::array<int64_t, 2>> crop(s.size(), {0, 0});
    crop[axis] = {-begin, -(s[axis] - begin - len)};
    return OnnxValue::of(ops::constant_pad(x.tensor, crop, 0.f, "Split"));
  }
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= s[k];
  for (size_t k = static_cast<size_t>(axis) + 1; k < s.size(); ++k) inner *= s[k];
  std::vector<int64_t> r;
  for (int64_t o = 0; o < outer; ++o) {
    const auto from = x.ints.begin() + (o * s[axis] + begin) * inner;
    r.insert(r.end(), from, from + len * inner);
  }
  Shape out = s;
  out[axis] = len;
  return OnnxValue::of_ints(out, std::move(r));
}

// Split along `axis` into the sizes of `split` (an input from opset 13, an attribute
// before), or into num_outputs (opset 18) / as many outputs as the node has, equal parts
// (the last one smaller when the size does not divide).
Kernel build_split(const NodeView& v) {
  const int64_t axis = v.get_int("axis", 0);
  const std::vector<int64_t> attr_split = v.get_ints("split");
  const int64_t n_out = v.has("num_outputs") ? v.get_int("num_outputs", 1) : v.num_outputs();
  const bool split_input = v.opset() >= 13 && v.has_input(1);
  return [=](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "input");
    const auto rank = static_cast<int64_t>(x.shape().size());
    const int64_t a = norm_axis(axis, rank, "axis"), d = x.shape()[a];
    std::vector<int64_t> sizes = split_input ? int_input(in, 1, "split").ints : attr_split;
    if (sizes.empty()) {
      CONVNET_CHECK(n_out >= 1, "no outputs to split into");
      const int64_t part = (d + n_out - 1) / n_out;
      for (int64_t i = 0; i < n_out; ++i) sizes.push_back(std::max<int64_t>(0, std::min(part, d - i * part)));
    }
    int64_t total = 0;
    for (int64_t z : sizes) {
      CONVNET_CHECK(z >= 0, "split ", list_str(sizes), " has a negative size");
      total += z;
    }
    CONVNET_CHECK(total == d, "split ", list_str(sizes), " sums to ", total, ", but axis ", a, " of ", x.describe(),
                  " has ", d);
    std::vector<OnnxValue> out;
    int64_t begin = 0;
    for (int64_t z : sizes) {
      out.push_back(crop_axis(x, a, begin, z));
      begin += z;
    }
    return out;
  };
}

// Tile: dimension k repeated repeats[k] times. Float data as reshape to (1, d0, 1, d1, ...),
// broadcast to (r0, d0, r1, d1, ...) and reshape to (r0 d0, r1 d1, ...): broadcast_to's
// gradient sums the copies. Integer data copied.
Kernel build_tile(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "input");
    const std::vector<int64_t> reps = int_input(in, 1, "repeats").ints;
    const Shape& s = x.shape();
    CONVNET_CHECK(reps.size() == s.size(), "repeats ", list_str(reps), " should have one entry per dimension of ",
                  x.describe());
    Shape inter, wide, out;
    for (size_t k = 0; k < s.size(); ++k) {
      CONVNET_CHECK(reps[k] >= 0, "repeats ", list_str(reps), " has a negative entry");
      inter.push_back(1), inter.push_back(s[k]);
      wide.push_back(reps[k]), wide.push_back(s[k]);
      out.push_back(reps[k] * s[k]);
    }
    if (!x.is_int) {
      const Tensor t = ops::broadcast_to(x.tensor.reshape(inter), wide, "Tile");
      return one(OnnxValue::of(t.reshape(out)));
    }
    std::vector<int64_t> r(static_cast<size_t>(shape_numel(out)));
    std::vector<int64_t> idx(s.size(), 0);
    for (size_t o = 0; o < r.size(); ++o) {
      int64_t src = 0;
      for (size_t k = 0; k < s.size(); ++k) src = src * s[k] + idx[k] % s[k];
      r[o] = x.ints[static_cast<size_t>(src)];
      for (int64_t k = static_cast<int64_t>(s.size()) - 1; k >= 0; --k) {
        if (++idx[k] < out[k]) break;
        idx[k] = 0;
      }
    }
    return one(OnnxValue::of_ints(out, std::move(r)));
  };
}

// ReduceSum / ReduceMean: the reduced axes permuted to the end, the tensor viewed as
// (M, K), and each row summed by a linear layer with a constant all-ones (or 1/K) weight,
// so the gradient flows through existing ops; then the kept dimensions (with 1s for
// keepdims). Axes are an attribute before opset 13 (ReduceSum) / 18 (ReduceMean), an input
// after; none means all, or nothing with noop_with_empty_axes.
Kernel build_reduce(const NodeView& v, bool mean) {
  const bool keepdims = v.get_int("keepdims", 1) != 0, noop = v.get_int("noop_with_empty_axes", 0) != 0;
  const bool axes_input = v.opset() >= (mean ? 18 : 13);
  const std::vector<int64_t> attr_axes = v.get_ints("axes");
  const char* name = mean ? "ReduceMean" : "ReduceSum";
  return [=](const Inputs& in, const RunCtx&) {
    const Tensor& x = float_input(in, 0, "data");
    std::vector<int64_t> axes = axes_input ? (in.size() > 1 && in[1] ? int_input(in, 1, "axes").ints : std::vector<int64_t>{})
                                           : attr_axes;
    if (axes.empty() && noop) return one(OnnxValue::of(x));
    const int64_t rank = x.dim();
    std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
    for (int64_t a : axes) reduced[norm_axis(a, rank, "axis")] = true;
    std::vector<int64_t> perm;
    Shape kept, out;
    int64_t M = 1, K = 1;
    for (int64_t k = 0; k < rank; ++k)
      if (!reduced[k]) perm.push_back(k), kept.push_back(x.size(k)), M *= x.size(k);
    for (int64_t k = 0; k < rank; ++k)
      if (reduced[k]) perm.push_back(k), K *= x.size(k);
    for (int64_t k = 0; k < rank; ++k)
      if (!reduced[k] || keepdims) out.push_back(reduced[k] ? 1 : x.size(k));
    CONVNET_CHECK(K > 0, name, " over empty axes of ", shape_str(x.shape()), " is not supported");
    const Tensor rows = ops::permute(x, perm, name).reshape({M, K});
    const Tensor w = Tensor::full({1, K}, mean ? 1.f / static_cast<float>(K) : 1.f);
    return one(OnnxValue::of(ops::linear(rows, w, Tensor(), name).reshape(out)));
  };
}

Kernel build_slice(const NodeView& v) {
  const bool attrs = v.opset() < 10;
  const auto a_starts = v.get_ints("starts"), a_ends = v.get_ints("ends"), a_axes = v.get_ints("axes");
  return [=](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "data");
    const std::vector<int64_t> starts = attrs ? a_starts : int_input(in, 1, "starts").ints;
    const std::vector<int64_t> ends = attrs ? a_ends : int_input(in, 2, "ends").ints;
    std::vector<int64_t> axes = attrs ? a_axes : in.size() > 3 && in[3] ? int_input(in, 3, "axes").ints : a_axes;
    std::vector<int64_t> steps =
        !attrs && in.size() > 4 && in[4] ? int_input(in, 4, "steps").ints : std::vector<int64_t>(starts.size(), 1);
    const Shape& s = x.shape();
    const auto rank = static_cast<int64_t>(s.size());
    if (axes.empty())
      for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
    CONVNET_CHECK(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
                  "starts ", list_str(starts), ", ends ", list_str(ends), ", axes ", list_str(axes), " and steps ",
                  list_str(steps), " must have the same length");
    std::vector<int64_t> first(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1);
    Shape out = s;
    for (size_t i = 0; i < axes.size(); ++i) {
      const int64_t a = norm_axis(axes[i], rank, "axis"), d = s[a], st = steps[i];
      CONVNET_CHECK(st != 0, "steps ", list_str(steps), " has a 0");
      // ONNX's clamping: negative positions count from the end, then clamp into range.
      int64_t b = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
      b = st > 0 ? std::clamp<int64_t>(b, 0, d) : std::clamp<int64_t>(b, 0, d - 1);
      e = st > 0 ? std::clamp<int64_t>(e, 0, d) : std::clamp<int64_t>(e, -1, d - 1);
      const int64_t n = st > 0 ? (e - b + st - 1) / st : (b - e - st - 1) / -st;
      first[a] = b;
      step[a] = st;
      out[a] = std::max<int64_t>(0, n);
    }
    if (!x.is_int) {
      std::vector<std::array<int64_t, 2>> crop;
      for (int64_t k = 0; k < rank; ++k) {
        CONVNET_CHECK(step[k] == 1, "slicing float data with step ", step[k], " is not supported (only step 1)");
        crop.push_back({-first[k], -(s[k] - first[k] - out[k])});
      }
      return one(OnnxValue::of(ops::constant_pad(x.tensor, crop, 0.f, "Slice")));
    }
    std::vector<int64_t> stride(static_cast<size_t>(rank), 1);
    for (int64_t k = rank - 2; k >= 0; --k) stride[k] = stride[k + 1] * s[k + 1];
    std::vector<int64_t> r(static_cast<size_t>(shape_numel(out)));
    for (size_t o = 0; o < r.size(); ++o) {
      int64_t rem = static_cast<int64_t>(o), src = 0;
      for (int64_t k = rank - 1; k >= 0; --k) {
        src += (first[k] + (rem % out[k]) * step[k]) * stride[k];
        rem /= out[k];
      }
      r[o] = x.ints[src];
    }
    return one(OnnxValue::of_ints(out, std::move(r)));
  };
}

Kernel build_expand(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "input");
    const OnnxValue& shape = int_input(in, 1, "shape");
    // The target shape broadcasts with the input's (a 1 in it keeps the input's size).
    const Shape out = ops::broadcast_shapes(x.shape(), shape.ints, "Expand");
    if (x.is_int) return one(int_broadcast(x, out));
    return one(OnnxValue::of(ops::broadcast_to(x.tensor, out, "Expand")));
  };
}

Kernel build_cast(const NodeView& v) {
  const auto to = static_cast<int32_t>(v.get_int("to", 0));
  const bool to_float = is_float_type(to);
  if (!to_float && to != onnx::TensorProto::INT64 && to != onnx::TensorProto::INT32 && to != onnx::TensorProto::INT16 &&
      to != onnx::TensorProto::INT8 && to != onnx::TensorProto::UINT8 && to != onnx::TensorProto::BOOL)
    throw Unsupported{"cast to " + elem_type_name(to)};
  const bool to_bool = to == onnx::TensorProto::BOOL;
  return [=](const Inputs& in, const RunCtx&) {
    const OnnxValue& x = any_input(in, 0, "input");
    if (to_float) return one(OnnxValue::of(as_float_tensor(x)));
    std::vector<int64_t> r;
    if (x.is_int) {
      r = x.ints;
    } else {
      const float* d = x.tensor.data();
      for (int64_t i = 0; i < x.tensor.numel(); ++i) r.push_back(static_cast<int64_t>(d[i]));  // toward zero
    }
    if (to_bool)
      for (auto& e : r) e = e != 0;
    return one(OnnxValue::of_ints(x.shape(), std::move(r)));
  };
}

}  // namespace

std::vector<int64_t> broadcast_index(const Shape& in, const Shape& out) {
  const size_t rank = out.size(), lead = rank - in.size();
  std::vector<int64_t> idx(static_cast<size_t>(shape_numel(out)));
  for (size_t o = 0; o < idx.size(); ++o) {
    int64_t rem = static_cast<int64_t>(o), src = 0, stride = 1;
    for (size_t k = rank; k-- > lead;) {
      const int64_t c = rem % out[k];
      rem /= out[k];
      const int64_t d = in[k - lead];
      src += (d == 1 ? 0 : c) * stride;
      stride *= d;
    }
    idx[o] = src;
  }
  return idx;
}

OnnxValue int_broadcast(const OnnxValue& v, const Shape& out) {
  std::vector<int64_t> r;
  for (int64_t i : broadcast_index(v.int_shape, out)) r.push_back(v.ints[i]);
  return OnnxValue::of_ints(out, std::move(r));
}

Tensor as_float_tensor(const OnnxValue& v) {
  if (!v.is_int) return v.tensor;
  return Tensor::from_vector(v.int_shape, std::vector<float>(v.ints.begin(), v.ints.end()));
}

OnnxValue constant_value(const NodeView& v, const std::string& base_dir) {
  if (const auto* t = v.get_tensor("value")) return value_from_proto(*t, v.label(), base_dir);
  if (v.has("value_float")) return OnnxValue::of(Tensor::scalar(v.get_float("value_float", 0.f)));
  if (v.has("value_floats")) {
    auto f = v.get_floats("value_floats");
    const auto n = static_cast<int64_t>(f.size());
    return OnnxValue::of(Tensor::from_vector({n}, std::move(f)));
  }
  if (v.has("value_int")) return OnnxValue::of_ints({}, {v.get_int("value_int", 0)});
  if (v.has("value_ints")) {
    auto i = v.get_ints("value_ints");
    const auto n = static_cast<int64_t>(i.size());
    return OnnxValue::of_ints({n}, std::move(i));
  }
  throw Unsupported{"a Constant without a 'value', 'value_float(s)' or 'value_int(s)' attribute"};
}

void add_tensor_builders(BuilderTable& t) {
  t["Add"] = [](const NodeView& v) { return build_arith(v, Arith::Add); };
  t["Sub"] = [](const NodeView& v) { return build_arith(v, Arith::Sub); };
  t["Mul"] = [](const NodeView& v) { return build_arith(v, Arith::Mul); };
  t["Div"] = [](const NodeView& v) { return build_arith(v, Arith::Div); };
  t["Sum"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) {
      CONVNET_CHECK(!in.empty() && in[0], "expected at least one input");
      OnnxValue acc = *in[0];
      for (size_t i = 1; i < in.size(); ++i) acc = arith(Arith::Add, acc, any_input(in, i, "input"));
      return one(acc);
    };
  };
  t["Neg"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) {
      const OnnxValue& x = any_input(in, 0, "X");
      if (!x.is_int) return one(OnnxValue::of(ops::mul(x.tensor, -1.f)));
      std::vector<int64_t> r;
      for (int64_t e : x.ints) r.push_back(-e);
      return one(OnnxValue::of_ints(x.int_shape, std::move(r)));
    };
  };
  t["Identity"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) { return one(any_input(in, 0, "input")); };
  };
  t["Constant"] = [](const NodeView& v) -> Kernel {
    // load() folds Constant nodes into constants; this runs only for one with several outputs.
    OnnxValue c = constant_value(v, "");
    return [c](const Inputs&, const RunCtx&) { return one(c); };
  };
  t["Flatten"] = build_flatten;
  t["Reshape"] = build_reshape;
  t["Shape"] = build_shape;
  t["Gather"] = build_gather;
  t["Unsqueeze"] = [](const NodeView& v) { return build_squeeze(v, true); };
  t["Squeeze"] = [](const NodeView& v) { return build_squeeze(v, false); };
  t["Concat"] = build_concat;
  t["Pad"] = build_pad;
  t["Transpose"] = build_transpose;
  t["Expand"] = build_expand;
  t["Cast"] = build_cast;
  t["ConstantOfShape"] = build_constant_of_shape;
  t["Slice"] = build_slice;
  t["Split"] = build_split;
  t["ReduceSum"] = [](const NodeView& v) { return build_reduce(v, false); };
  t["ReduceMean"] = [](const NodeView& v) { return build_reduce(v, true); };
  t["Tile"] = build_tile;
  add_math_builders(t);
}

}  // namespace convnet::io::onnx_impl
