// The ops behind ONNX import: broadcast_to / broadcast_shapes, permute, constant_pad and
// clamp. Their backward against finite differences of the double reference kernels, a
// few values by hand, and the errors by message.
#include <cmath>
#include <limits>

#include "convnet/core/error.h"
#include "convnet/ops/broadcast.h"
#include "convnet/ops/clamp.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/pad.h"
#include "convnet/ops/permute.h"
#include "kernels/clamp.h"
#include "kernels/pad.h"
#include "kernels/strided.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace ref = convnet::kernels::ref;

namespace {

// Checks op's gradient of L = sum(op(x) * r) against finite differences of `fwd`, the
// double reference forward x -> y (n_out elements).
void gradcheck(const Shape& in, const std::function<Tensor(const Tensor&)>& op,
               const std::function<void(const double*, double*)>& fwd, uint64_t seed) {
  const size_t n = shape_numel(in);
  auto x = random_doubles(n, seed);
  Tensor tx = Tensor::from_vector(in, to_float(x)).requires_grad_();
  Tensor y = op(tx);
  auto r = random_doubles(y.numel(), seed + 1);
  y.backward(Tensor::from_vector(y.shape(), to_float(r)));
  auto loss = [&](const std::vector<double>& v) {
    std::vector<double> out(r.size());
    fwd(v.data(), out.data());
    return dot(out, r);
  };
  EXPECT_TRUE(all_close(to_double(tx.grad()), numeric_grad(loss, x), 1e-5, 1e-6));
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t k = static_cast<int64_t>(s.size()) - 2; k >= 0; --k) st[k] = st[k + 1] * s[k + 1];
  return st;
}

}  // namespace

TEST(BroadcastGradcheck, SumsOverTheCopies) {
  const std::vector<std::pair<Shape, Shape>> grid = {
      {{3, 1}, {2, 3, 4}}, {{1}, {5}}, {{2, 1, 3}, {2, 4, 3}}, {{4}, {3, 4}}, {{2, 1, 1}, {3, 2, 2, 2}}};
  for (size_t i = 0; i < grid.size(); ++i) {
    const auto& [in, out] = grid[i];
    SCOPED_TRACE(shape_str(in) + " -> " + shape_str(out));
    // Strides aligned at the last dimension, 0 where the input's size 1 repeats.
    std::vector<int64_t> st(out.size(), 0);
    const auto xs = contiguous_strides(in);
    const size_t lead = out.size() - in.size();
    for (size_t k = 0; k < in.size(); ++k) st[lead + k] = in[k] == 1 ? 0 : xs[k];
    gradcheck(
        in, [&](const Tensor& x) { return ops::broadcast_to(x, out); },
        [&](const double* x, double* y) {
          ref::strided_copy<double>(static_cast<int64_t>(out.size()), out.data(), st.data(), x, y);
        },
        10 + i);
  }
}

TEST(PermuteGradcheck, IsTheInversePermutation) {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> grid = {
      {{3, 5}, {1, 0}}, {{2, 3, 4}, {2, 0, 1}}, {{2, 3, 2, 3}, {0, 2, 3, 1}}, {{2, 3, 4}, {-1, 0, 1}}};
  for (size_t i = 0; i < grid.size(); ++i) {
    const auto& [in, dims] = grid[i];
    SCOPED_TRACE(shape_str(in));
    const auto xs = contiguous_strides(in);
    Shape out;
    std::vector<int64_t> st;
    for (int64_t d : dims) {
      const auto k = static_cast<size_t>(d < 0 ? d + static_cast<int64_t>(in.size()) : d);
      out.push_back(in[k]);
      st.push_back(xs[k]);
    }
    gradcheck(
        in, [&](const Tensor& x) { return ops::permute(x, dims); },
        [&](const double* x, double* y) {
          ref::strided_copy<double>(static_cast<int64_t>(out.size()), out.data(), st.data(), x, y);
        },
        20 + i);
  }
}

TEST(ConstantPadGradcheck, PaddingAndCropping) {
  using Pads = std::vector<std::array<int64_t, 2>>;
  const std::vector<std::pair<Shape, Pads>> grid = {{{2, 3}, {{1, 0}, {2, 1}}},
                                                    {{1, 2, 3, 3}, {{0, 0}, {0, 0}, {2, 1}, {1, 0}}},
                                                    {{3, 4}, {{-1, 0}, {0, -2}}},
                                                    {{2, 2, 4, 4}, {{0, 0}, {1, 1}, {-1, 2}, {3, -2}}}};
  for (size_t i = 0; i < grid.size(); ++i) {
    const auto& [in, pads] = grid[i];
    SCOPED_TRACE(shape_str(in));
    Shape out;
    std::vector<int64_t> begin;
    for (size_t k = 0; k < in.size(); ++k) {
      out.push_back(in[k] + pads[k][0] + pads[k][1]);
      begin.push_back(pads[k][0]);
    }
    gradcheck(
        in, [&](const Tensor& x) { return ops::constant_pad(x, pads, 0.25f); },
        [&](const double* x, double* y) {
          ref::constant_pad_fwd<double>(static_cast<int64_t>(in.size()), in.data(), out.data(), begin.data(), 0.25, x,
                                        y);
        },
        30 + i);
  }
}

TEST(IndexPadGradcheck, ReflectReplicateCircular) {
  using Pads = std::vector<std::array<int64_t, 2>>;
  const std::vector<std::pair<Shape, Pads>> grid = {{{2, 5}, {{0, 0}, {3, 2}}},
                                                    {{1, 2, 4, 3}, {{0, 0}, {0, 0}, {2, 3}, {1, 2}}},
                                                    {{2, 1, 3, 2, 4}, {{1, 0}, {0, 0}, {1, 2}, {1, 1}, {0, 3}}}};
  for (const char* mode : {"reflect", "replicate", "circular"})
    for (size_t i = 0; i < grid.size(); ++i) {
      const auto& [in, pads0] = grid[i];
      Pads pads = pads0;
      if (std::string(mode) == "reflect")  // reflect needs pads below the size
        for (size_t k = 0; k < in.size(); ++k) pads[k] = {std::min(pads[k][0], in[k] - 1), std::min(pads[k][1], in[k] - 1)};
      SCOPED_TRACE(std::string(mode) + " " + shape_str(in));
      Shape out;
      std::vector<int64_t> begin;
      for (size_t k = 0; k < in.size(); ++k) {
        out.push_back(in[k] + pads[k][0] + pads[k][1]);
        begin.push_back(pads[k][0]);
      }
      const auto m = std::string(mode) == "reflect"     ? kernels::PadMode::reflect
                     : std::string(mode) == "replicate" ? kernels::PadMode::replicate
                                                        : kernels::PadMode::circular;
      gradcheck(
          in, [&](const Tensor& x) { return ops::pad(x, pads, mode); },
          [&](const double* x, double* y) {
            ref::index_pad_fwd<double>(m, static_cast<int64_t>(in.size()), in.data(), out.data(), begin.data(), x, y);
          },
          60 + i);
    }
}

TEST(IndexPad, ValuesByHandAndErrors) {
  const Tensor x = Tensor::from_vector({1, 4}, {1, 2, 3, 4});
  const auto row = [](const Tensor& t) { return t.to_vector(); };
  EXPECT_EQ(row(ops::pad(x, {{0, 0}, {2, 3}}, "reflect")), (std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2, 1}));
  EXPECT_EQ(row(ops::pad(x, {{0, 0}, {2, 3}}, "replicate")), (std::vector<float>{1, 1, 1, 2, 3, 4, 4, 4, 4}));
  EXPECT_EQ(row(ops::pad(x, {{0, 0}, {2, 3}}, "circular")), (std::vector<float>{3, 4, 1, 2, 3, 4, 1, 2, 3}));
  EXPECT_EQ(row(ops::pad(x, {{0, 0}, {1, 1}}, "constant", 7.f)), (std::vector<float>{7, 1, 2, 3, 4, 7}));
  expect_error([&] { ops::pad(x, {{0, 0}, {4, 0}}, "reflect", 0.f, "rp"); },
               {"rp", "reflect padding (4, 0)", "dimension 1", "(1, 4)", "pad < the dimension's size"});
  expect_error([&] { ops::pad(x, {{0, 0}, {5, 0}}, "circular"); }, {"circular", "(5, 0)"});
  expect_error([&] { ops::pad(x, {{0, 0}, {-1, 0}}, "replicate"); }, {"replicate", "(-1, 0)"});
  expect_error([&] { ops::pad(x, {{0, 0}, {1, 0}}, "mirror"); }, {"unknown padding mode 'mirror'"});
  // The 2-D layers pad (left, right, top, bottom) of the last two dimensions.
  nn::ReflectionPad2d rp({1, 0, 0, 1});
  const Tensor img = Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(row(rp(img)), (std::vector<float>{2, 1, 2, 4, 3, 4, 2, 1, 2}));
  EXPECT_EQ(row(nn::ReplicationPad2d(1)(Tensor::from_vector({1, 1, 1, 1}, {5}))), std::vector<float>(9, 5.f));
  expect_error([&] { rp(Tensor::ones({4})); }, {"ReflectionPad2d", "3-D or 4-D", "(4)"});
}

TEST(ClampGradcheck, OneInsideTheBoundsZeroOutside) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<double, double>> bounds = {{-0.3, 0.5}, {-inf, 0.2}, {-0.1, inf}};
  for (size_t i = 0; i < bounds.size(); ++i) {
    const auto [lo, hi] = bounds[i];
    gradcheck(
        {3, 7}, [&](const Tensor& x) { return ops::clamp(x, lo, hi); },
        [&](const double* x, double* y) { ref::clamp_fwd<double>(21, lo, hi, x, y); }, 40 + i);
  }
}

TEST(TensorOps, ValuesByHand) {
  Tensor b = ops::broadcast_to(Tensor::from_vector({2, 1}, {1, 2}), {2, 3});
  EXPECT_EQ(b.to_vector(), (std::vector<float>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(ops::broadcast_shapes({8, 1, 1}, {2, 8, 5, 5}), (Shape{2, 8, 5, 5}));
  EXPECT_EQ(ops::broadcast_shapes({}, {3}), (Shape{3}));
  Tensor t = ops::transpose2d(Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Tensor p = ops::constant_pad(Tensor::from_vector({1, 2}, {1, 2}), {{0, 1}, {1, -1}}, 9.f);
  EXPECT_EQ(p.shape(), (Shape{2, 2}));
  EXPECT_EQ(p.to_vector(), (std::vector<float>{9, 1, 9, 9}));
  Tensor c = ops::clamp(Tensor::from_vector({4}, {-2.f, 0.f, NAN, 7.f}), -1, 6);
  EXPECT_EQ(c.data()[0], -1.f);
  EXPECT_EQ(c.data()[1], 0.f);
  EXPECT_TRUE(std::isnan(c.data()[2]));  // NaN passes through, as torch.clamp
  EXPECT_EQ(c.data()[3], 6.f);
  // Same shape: broadcast_to returns the tensor itself, no copy.
  Tensor x = Tensor::ones({2, 2});
  EXPECT_EQ(ops::broadcast_to(x, {2, 2}).impl(), x.impl());
}

TEST(TensorOps, ErrorsNameTheShapes) {
  expect_error(
      [] {
        ops::broadcast_to(Tensor::zeros({2, 3}), {3, 3});
      },
      {"broadcast_to", "(2, 3)", "(3, 3)", "dimension 0"});
  expect_error([] { ops::broadcast_to(Tensor::zeros({2, 3}), {3}); }, {"(2, 3)", "(3)", "fewer dimensions"});
  expect_error([] { ops::broadcast_shapes({2, 3}, {4, 3}, "Add"); }, {"Add", "(2, 3)", "(4, 3)", "do not broadcast"});
  expect_error([] { ops::permute(Tensor::zeros({2, 3}), {0, 0}); }, {"permute", "[0, 0]", "not a permutation"});
  expect_error([] { ops::permute(Tensor::zeros({2, 3}), {0}); }, {"[0]", "2 dimensions"});
  expect_error([] { ops::transpose2d(Tensor::zeros({2, 3, 4})); }, {"transpose", "2-D", "(2, 3, 4)"});
  expect_error(
      [] {
        ops::constant_pad(Tensor::zeros({2, 3}), {{0, 0}, {-2, -2}});
      },
      {"constant_pad", "(-2, -2)", "dimension 1", "negative size -1"});
  expect_error([] { ops::constant_pad(Tensor::zeros({2, 3}), {{1, 1}}); }, {"1 (before, after) pairs", "(2, 3)"});
  expect_error([] { ops::clamp(Tensor::zeros({2}), 1.0, 0.0); }, {"clamp", "min 1", "max 0"});
}
