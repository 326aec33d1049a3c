// ONNX elementwise math beyond Add/Sub/Mul/Div (onnx_ops_tensor.cpp): Pow, Max, Min, Mean,
// Where, Floor, Ceil, Reciprocal, Log, the comparisons (Equal, Less, Greater, LessOrEqual,
// GreaterOrEqual), the logical operators (Not, And, Or, Xor) and Size.
// Float data goes through convnet ops (autograd), broadcast as NumPy; integer and boolean
// data (booleans are 0 / 1 integers here) is computed directly, as shape arithmetic is.
#include <cmath>

#include "convnet/ops/activation.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/elementwise.h"
#include "io/onnx_internal.h"

namespace convnet::io::onnx_impl {

namespace {

const OnnxValue& operand(const Inputs& in, size_t i) {
  CONVNET_CHECK(i < in.size() && in[i] && in[i]->defined(), "input ", i, " is missing");
  return *in[i];
}

// The values of float or integer data broadcast to `s`, as doubles (comparisons, integer
// results; never part of a gradient).
std::vector<double> doubles(const OnnxValue& v, const Shape& s) {
  std::vector<double> r;
  if (v.is_int) {
    for (int64_t i : broadcast_index(v.int_shape, s)) r.push_back(static_cast<double>(v.ints[i]));
    return r;
  }
  const std::vector<float> f = v.tensor.to_vector();
  for (int64_t i : broadcast_index(v.tensor.shape(), s)) r.push_back(f[i]);
  return r;
}

Tensor broadcast_float(const OnnxValue& v, const Shape& s, const char* name) {
  return ops::broadcast_to(as_float_tensor(v), s, name);
}

// Max / Min of two operands (the variadic forms fold this).
OnnxValue extremum(bool is_max, const OnnxValue& a, const OnnxValue& b) {
  const char* name = is_max ? "Max" : "Min";
  const Shape s = ops::broadcast_shapes(a.shape(), b.shape(), name);
  if (a.is_int && b.is_int) {
    const OnnxValue x = int_broadcast(a, s), y = int_broadcast(b, s);
    std::vector<int64_t> r(x.ints.size());
    for (size_t i = 0; i < r.size(); ++i)
      r[i] = is_max ? std::max(x.ints[i], y.ints[i]) : std::min(x.ints[i], y.ints[i]);
    return OnnxValue::of_ints(s, std::move(r));
  }
  CONVNET_CHECK(!a.is_int && !b.is_int, name, ": operands of different types, ", a.describe(), " and ", b.describe());
  const Tensor x = broadcast_float(a, s, name), y = broadcast_float(b, s, name);
  return OnnxValue::of(is_max ? ops::maximum(x, y) : ops::minimum(x, y));
}

Kernel build_extremum(bool is_max) {
  return [is_max](const Inputs& in, const RunCtx&) {
    OnnxValue acc = operand(in, 0);
    for (size_t i = 1; i < in.size(); ++i) acc = extremum(is_max, acc, operand(in, i));
    return one(acc);
  };
}

// Pow(X, Y): the result has X's type. An integer base gives NumPy's power truncated to an
// integer; a float base takes any exponent (an integer one as float), and a constant
// one-element exponent (x^2 of a decomposed LayerNorm) is not broadcast first.
OnnxValue power(const OnnxValue& a, const OnnxValue& b) {
  const Shape s = ops::broadcast_shapes(a.shape(), b.shape(), "Pow");
  if (a.is_int) {
    const std::vector<double> x = doubles(a, s), y = doubles(b, s);
    std::vector<int64_t> r(x.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<int64_t>(std::pow(x[i], y[i]));
    return OnnxValue::of_ints(s, std::move(r));
  }
  const bool constant_scalar = shape_numel(b.shape()) == 1 && (b.is_int || !b.tensor.requires_grad());
  if (constant_scalar && a.shape() == s)
    return OnnxValue::of(ops::pow(a.tensor, static_cast<float>(doubles(b, {})[0])));
  return OnnxValue::of(ops::pow(broadcast_float(a, s, "Pow"), broadcast_float(b, s, "Pow")));
}

// Where(C, X, Y): C is boolean (integer data here), X and Y both float or both integer.
OnnxValue select(const OnnxValue& c, const OnnxValue& a, const OnnxValue& b) {
  CONVNET_CHECK(c.is_int, "Where: the condition must be boolean, got ", c.describe());
  const Shape s = ops::broadcast_shapes(ops::broadcast_shapes(c.shape(), a.shape(), "Where"), b.shape(), "Where");
  const OnnxValue cb = int_broadcast(c, s);
  if (a.is_int && b.is_int) {
    const OnnxValue x = int_broadcast(a, s), y = int_broadcast(b, s);
    std::vector<int64_t> r(cb.ints.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = cb.ints[i] != 0 ? x.ints[i] : y.ints[i];
    return OnnxValue::of_ints(s, std::move(r));
  }
  CONVNET_CHECK(!a.is_int && !b.is_int, "Where: X and Y of different types, ", a.describe(), " and ", b.describe());
  return OnnxValue::of(ops::where(as_float_tensor(cb), broadcast_float(a, s, "Where"), broadcast_float(b, s, "Where")));
}

enum class Cmp { Equal, Less, Greater, LessOrEqual, GreaterOrEqual };

Kernel build_compare(Cmp op) {
  return [op](const Inputs& in, const RunCtx&) {
    const OnnxValue &a = operand(in, 0), &b = operand(in, 1);
    const Shape s = ops::broadcast_shapes(a.shape(), b.shape(), "comparison");
    const std::vector<double> x = doubles(a, s), y = doubles(b, s);
    std::vector<int64_t> r(x.size());
    for (size_t i = 0; i < r.size(); ++i) {
      switch (op) {
        case Cmp::Equal:
          r[i] = x[i] == y[i];
          break;
        case Cmp::Less:
          r[i] = x[i] < y[i];
          break;
        case Cmp::Greater:
          r[i] = x[i] > y[i];
          break;
        case Cmp::LessOrEqual:
          r[i] = x[i] <= y[i];
          break;
        case Cmp::GreaterOrEqual:
          r[i] = x[i] >= y[i];
          break;
      }
    }
    return one(OnnxValue::of_ints(s, std::move(r)));
  };
}

enum class Logic { And, Or, Xor };

Kernel build_logic(Logic op) {
  return [op](const Inputs& in, const RunCtx&) {
    const OnnxValue &a = int_input(in, 0, "A"), &b = int_input(in, 1, "B");
    const Shape s = ops::broadcast_shapes(a.shape(), b.shape(), "logical operator");
    const OnnxValue x = int_broadcast(a, s), y = int_broadcast(b, s);
    std::vector<int64_t> r(x.ints.size());
    for (size_t i = 0; i < r.size(); ++i) {
      const bool p = x.ints[i] != 0, q = y.ints[i] != 0;
      r[i] = op == Logic::And ? p && q : op == Logic::Or ? p || q : p != q;
    }
    return one(OnnxValue::of_ints(s, std::move(r)));
  };
}

template <Tensor (*F)(const Tensor&)>
Kernel build_float_unary(const NodeView&) {
  return [](const Inputs& in, const RunCtx&) { return one(OnnxValue::of(F(float_input(in, 0, "X")))); };
}

}  // namespace

void add_math_builders(BuilderTable& t) {
  t["Max"] = [](const NodeView&) { return build_extremum(true); };
  t["Min"] = [](const NodeView&) { return build_extremum(false); };
  t["Pow"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) { return one(power(operand(in, 0), operand(in, 1))); };
  };
  t["Mean"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) {
      Shape s = operand(in, 0).shape();
      for (size_t i = 1; i < in.size(); ++i) s = ops::broadcast_shapes(s, operand(in, i).shape(), "Mean");
      Tensor acc = broadcast_float(operand(in, 0), s, "Mean");
      for (size_t i = 1; i < in.size(); ++i) acc = ops::add(acc, broadcast_float(operand(in, i), s, "Mean"), "Mean");
      return one(OnnxValue::of(in.size() == 1 ? acc : ops::mul(acc, 1.f / static_cast<float>(in.size()))));
    };
  };
  t["Where"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) { return one(select(operand(in, 0), operand(in, 1), operand(in, 2))); };
  };
  t["Floor"] = build_float_unary<ops::floor>;
  t["Ceil"] = build_float_unary<ops::ceil>;
  t["Reciprocal"] = build_float_unary<ops::reciprocal>;
  t["Log"] = build_float_unary<ops::log>;
  t["Equal"] = [](const NodeView&) { return build_compare(Cmp::Equal); };
  t["Less"] = [](const NodeView&) { return build_compare(Cmp::Less); };
  t["Greater"] = [](const NodeView&) { return build_compare(Cmp::Greater); };
  t["LessOrEqual"] = [](const NodeView&) { return build_compare(Cmp::LessOrEqual); };
  t["GreaterOrEqual"] = [](const NodeView&) { return build_compare(Cmp::GreaterOrEqual); };
  t["And"] = [](const NodeView&) { return build_logic(Logic::And); };
  t["Or"] = [](const NodeView&) { return build_logic(Logic::Or); };
  t["Xor"] = [](const NodeView&) { return build_logic(Logic::Xor); };
  t["Not"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) {
      const OnnxValue& x = int_input(in, 0, "X");
      std::vector<int64_t> r;
      for (int64_t e : x.ints) r.push_back(e == 0);
      return one(OnnxValue::of_ints(x.int_shape, std::move(r)));
    };
  };
  t["Size"] = [](const NodeView&) -> Kernel {
    return [](const Inputs& in, const RunCtx&) {
      return one(OnnxValue::of_ints({}, {shape_numel(operand(in, 0).shape())}));
    };
  };
}

}  // namespace convnet::io::onnx_impl
