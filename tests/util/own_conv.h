#pragma once
// What the tests of our own convolution kernels share (tests/unit/test_conv_own_kernels*.cpp):
// thread counts, the steady-state check (no packing, no system allocation), random operands,
// the post-ops, and the two comparisons every kernel goes through: its reference twin against
// the definition, and the kernel against its twin in every layout.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "convnet/core/profiler.h"
#include "convnet/core/storage.h"
#include "kernels/conv2d.h"
#include "kernels/layout.h"
#include "util/test_util.h"

namespace convnet::testing {

// f() on `threads` OpenMP threads of this thread, the count restored after.
template <class F>
void on_threads(int threads, F&& f) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  f();
  omp_set_num_threads(before);
}

// Five more calls of a kernel whose weight version has not changed since its last call pack no
// weight (profiler row weight_reorder) and take their scratch buffers (if `scratch`: some) from
// the caching allocator's free lists, none from the system.
template <class F>
void expect_steady_calls(F&& call, bool scratch = true) {
  profiler::reset();
  profiler::enable(true);
  const memory::Stats before = memory::stats();
  for (int i = 0; i < 5; ++i) call();
  const memory::Stats after = memory::stats();
  profiler::enable(false);
  for (const auto& r : profiler::rows()) EXPECT_NE(r.name, "weight_reorder") << r.calls << " weight packings";
  EXPECT_EQ(after.system_allocs, before.system_allocs);
  if (scratch) {
    EXPECT_GT(after.reuses, before.reuses) << "no scratch buffer taken: not measured";
  }
}

inline bool close_to(const std::vector<float>& a, const std::vector<float>& e, double tol = 1e-4) {
  return all_close(std::vector<double>(a.begin(), a.end()), std::vector<double>(e.begin(), e.end()), tol, tol);
}

inline const std::vector<std::pair<const char*, kernels::ConvPostOps>> kConvPosts = {
    {"none", {}},
    {"relu", {kernels::ConvPostOps::kRelu}},
    {"clip", {kernels::ConvPostOps::kClip, -0.5f, 0.75f}},
    {"sum", {kernels::ConvPostOps::kNone, 0.f, 0.f, true}},
    {"sum+relu", {kernels::ConvPostOps::kRelu, 0.f, 0.f, true}},
};

// A geometry's random operands, from seeds base + ci, base + 10 + ci, ...: the input, the
// weight, the bias, and the residual that a sum post-op adds.
struct ConvOperands {
  std::vector<float> x, w, b, res;
};
inline ConvOperands conv_operands(const kernels::Conv2dGeom& g, uint64_t base, size_t ci) {
  const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW, nw = g.OC * (g.C / g.G) * g.KH * g.KW;
  return {to_float(random_doubles(nx, base + ci)), to_float(random_doubles(nw, base + 10 + ci)),
          to_float(random_doubles(g.OC, base + 20 + ci)), to_float(random_doubles(ny, base + 30 + ci))};
}

// A kernel's reference twin (plain tensors: it runs on any CPU) against the definition, the
// reference convolution and its post-ops, over a grid of geometries, with and without bias.
using ConvTwin = void (*)(const kernels::Conv2dGeom&, const float*, const float*, const float*, float*);
template <class Cfg>
void expect_twin_is_the_convolution(const std::vector<Cfg>& grid, ConvTwin twin, uint64_t seed) {
  int cases = 0;
  for (size_t ci = 0; ci < grid.size(); ++ci) {
    const kernels::Conv2dGeom g = grid[ci].geom();
    const ConvOperands o = conv_operands(g, seed, ci);
    const int64_t ny = g.N * g.OC * g.OH * g.OW;
    for (bool bias : {true, false})
      for (const auto& [name, post] : kConvPosts) {
        SCOPED_TRACE("config " + std::to_string(ci) + " post " + name + (bias ? " bias" : ""));
        std::vector<float> y_def(ny);
        kernels::ref::conv2d_fwd<float>(g, o.x.data(), o.w.data(), bias ? o.b.data() : nullptr, y_def.data());
        kernels::apply_post_ops(post, o.res.data(), y_def.data(), ny);
        kernels::Conv2dGeom pg = g;
        pg.post = post;
        std::vector<float> y = o.res;
        twin(pg, o.x.data(), o.w.data(), bias ? o.b.data() : nullptr, y.data());
        EXPECT_TRUE(close_to(y, y_def));
        ++cases;
      }
  }
  EXPECT_EQ(cases, static_cast<int>(grid.size() * 2 * kConvPosts.size()));
}

// A kernel of our own that reads and writes plain or channel-blocked tensors against its
// reference twin (the same sums: agreement to 1e-5): every pair of input and output layouts in
// `layouts` (by default plain, blocks of 8 and 16, the two sides independently) that it
// supports (the others must be the ones whose channels do not fill the blocks), with and
// without bias, every post-op, on 1 and 3 threads. Returns the cases run.
// kernel(g, x, xb, w, b, y, yb); twin(g, x, w, b, y), or twin(g, xb, x, w, b, y) for a twin
// whose order of the sums follows the input's block (the direct kernel's).
template <class Cfg, class Kernel, class Twin>
int expect_matches_twin_in_every_layout(const std::vector<Cfg>& grid, uint64_t seed,
                                        bool (*supports)(const kernels::Conv2dGeom&, int32_t, int32_t), Kernel kernel,
                                        Twin twin, std::vector<std::pair<int32_t, int32_t>> layouts = {}) {
  if (layouts.empty())
    for (int32_t xb : {0, 8, 16})
      for (int32_t yb : {0, 8, 16}) layouts.emplace_back(xb, yb);
  int cases = 0;
  for (size_t ci = 0; ci < grid.size(); ++ci) {
    const kernels::Conv2dGeom g = grid[ci].geom();
    const int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.OC * g.OH * g.OW;
    const auto [x, w, b, res] = conv_operands(g, seed, ci);
    for (const auto& [xb, yb] : layouts) {
      if (!supports(g, xb, yb)) {
        EXPECT_TRUE((xb && g.C % xb) || (yb && g.OC % yb)) << "config " << ci << " refused";
        continue;
      }
      std::vector<float> bx(nx), bres(ny);
      kernels::to_blocked_layout(x.data(), bx.data(), g.N, g.C, g.H * g.W, xb);
      kernels::to_blocked_layout(res.data(), bres.data(), g.N, g.OC, g.OH * g.OW, yb);
      for (bool bias : {true, false})
        for (const auto& [name, post] : kConvPosts) {
          SCOPED_TRACE("config " + std::to_string(ci) + " layouts " + std::to_string(xb) + "->" + std::to_string(yb) +
                       " post " + name + (bias ? " bias" : ""));
          kernels::Conv2dGeom pg = g;
          pg.post = post;
          std::vector<float> y_ref = res;
          const float* bp = bias ? b.data() : nullptr;
          if constexpr (std::is_invocable_v<Twin, const kernels::Conv2dGeom&, int32_t, const float*, const float*,
                                            const float*, float*>)
            twin(pg, xb, x.data(), w.data(), bp, y_ref.data());
          else
            twin(pg, x.data(), w.data(), bp, y_ref.data());
          for (int threads : {1, 3}) {
            SCOPED_TRACE(std::to_string(threads) + " threads");
            std::vector<float> y = post.sum ? bres : std::vector<float>(ny, NAN), py(ny);
            on_threads(threads, [&] { kernel(pg, bx.data(), xb, w.data(), bias ? b.data() : nullptr, y.data(), yb); });
            kernels::to_plain_layout(y.data(), py.data(), g.N, g.OC, g.OH * g.OW, yb);
            EXPECT_TRUE(close_to(py, y_ref, 1e-5));
            ++cases;
          }
        }
    }
  }
  return cases;
}

}  // namespace convnet::testing
