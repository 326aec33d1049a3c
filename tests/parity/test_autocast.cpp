// Mixed precision against PyTorch 1.13's torch.autocast('cpu', bfloat16) on a small residual
// CNN (python/fixtures/autocast.py): the same weights and batch, one training step's forward
// and backward, on the default and on the reference kernels. Two comparisons:
//   - with PyTorch's own bfloat16 results (logits, loss, every gradient, the running
//     statistics): the same computation in another summation order, so within bfloat16's
//     rounding;
//   - the distance of each to the float32 results: ours may not be much further from float32
//     than PyTorch's bfloat16 is (it keeps conv biases in float32, so it is often closer).
// And the dtypes autocast gives each op (ops/autocast.h), as PyTorch's.
#include <cmath>

#include "convnet/autograd/autograd.h"
#include "convnet/nn/layers.h"
#include "convnet/ops/activation.h"
#include "convnet/ops/autocast.h"
#include "convnet/ops/elementwise.h"
#include "convnet/ops/loss.h"
#include "convnet/ops/pool2d.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Net {
  nn::Conv2d c1{nn::Conv2dOptions(3, 16, 3).padding(1)}, c2{nn::Conv2dOptions(16, 16, 3).padding(1).bias(false)},
      c3{nn::Conv2dOptions(16, 32, 1)};
  nn::BatchNorm2d b1{16}, b2{16}, b3{32};
  nn::Linear fc{32, 10};
  std::vector<std::pair<std::string, nn::Module*>> named() {
    return {{"c1", &c1}, {"b1", &b1}, {"c2", &c2}, {"b2", &b2}, {"c3", &c3}, {"b3", &b3}, {"fc", &fc}};
  }
  // The dtype each stage produced, for the autocast policy checks.
  std::vector<DType> seen;
  Tensor forward(const Tensor& x) {
    seen.clear();
    Tensor a = c1(x);
    seen.push_back(a.dtype());  // conv: bf16
    Tensor b = b1(a);
    seen.push_back(b.dtype());  // batch norm: bf16
    Tensor h = ops::relu(b);
    seen.push_back(h.dtype());  // relu: bf16
    Tensor r = ops::relu(ops::add(b2(c2(h)), h));
    seen.push_back(r.dtype());  // add: bf16
    Tensor m = ops::max_pool2d(r, Pool2dArgs{{2, 2}, {2, 2}});
    seen.push_back(m.dtype());  // max pool: bf16
    Tensor p = ops::relu(b3(c3(m)));
    Tensor q = ops::avg_pool2d(p, Pool2dArgs{{3, 3}, {1, 1}, {1, 1}});
    seen.push_back(q.dtype());  // avg pool: bf16
    Tensor logits = fc(ops::global_avg_pool2d(q).flatten());
    seen.push_back(logits.dtype());  // linear: bf16
    return logits;
  }
};

double norm(const Tensor& t) {
  double s = 0;
  for (float v : t.to(DType::float32).to_vector()) s += double(v) * v;
  return std::sqrt(s);
}
// ||a - b|| / ||b|| over all elements.
double rel_l2(const Tensor& a, const Tensor& b) {
  const auto av = a.to(DType::float32).to_vector(), bv = b.to(DType::float32).to_vector();
  EXPECT_EQ(av.size(), bv.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < av.size() && i < bv.size(); ++i) {
    num += (double(av[i]) - bv[i]) * (double(av[i]) - bv[i]);
    den += double(bv[i]) * bv[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace

TEST(AutocastParity, Bf16TrainingStepMatchesPyTorchAutocast) {
  const auto f = load_fixture(fixture_dir() + "/autocast_bf16_net.safetensors");
  const Tensor& x = fixture_tensor(f, "x");
  const Tensor& yt = fixture_tensor(f, "y");
  std::vector<int64_t> y;
  for (int64_t i = 0; i < yt.numel(); ++i) y.push_back(static_cast<int64_t>(yt.data()[i]));  // fixtures load as float32
  for (const char* backend : {"", "ref"}) {
    kernels::force_backend(backend);
    SCOPED_TRACE(std::string("backend ") + (*backend ? backend : "default"));
    Net net;
    for (auto& [prefix, m] : net.named())
      for (auto& [name, t] : m->state_dict()) {
        const std::string key = "param." + prefix + "." + name;
        if (f.tensors.count(key)) Tensor(t).copy_(fixture_tensor(f, key));
      }
    Tensor xi = x.clone().requires_grad_();
    Tensor logits, loss;
    {
      autocast guard(DType::bfloat16);
      logits = net.forward(xi);
      loss = ops::cross_entropy(logits, y);
    }
    // The policy: every stage in bfloat16 (as PyTorch's autocast), the loss in float32.
    for (DType t : net.seen) EXPECT_EQ(t, DType::bfloat16);
    EXPECT_EQ(loss.dtype(), DType::float32);
    loss.backward();
    EXPECT_EQ(xi.grad().dtype(), DType::float32);  // x was float32: its gradient comes back so

    // Against PyTorch's bfloat16 step, and both against float32 (relative L2 distances per
    // tensor). bfloat16 rounding moves gradients through batch norm by 5-10% (PyTorch's own
    // bf16 step is that far from its float32 one), so the bounds are relative to PyTorch's:
    //   - ours to PyTorch bf16 at most what two independent bf16 roundings of the float32
    //     result would be apart (the hypotenuse of the two distances to float32), plus 1%: not
    //     another computation. (PyTorch's bf16 path itself differs between CPUs: on one
    //     without AVX-512 its gradients were 14% from float32 and ours 10%, 16% apart.)
    //   - ours to float32 at most 1.5x PyTorch bf16's, plus 0.5%: no less accurate;
    //   - ours to float32 at least a quarter of PyTorch bf16's (where that is above 0.1%): it
    //     really computed in bfloat16, not silently in float32.
    // The forward (logits, loss, running statistics) within 1% of PyTorch bf16. A gradient that
    // is zero in exact arithmetic (c1's bias: a batch norm follows) is rounding noise in both:
    // held to 1% of the largest gradient's norm instead.
    double largest = 0;
    for (const auto& [name, t] : f.tensors)
      if (name.rfind("fp32.grad.", 0) == 0) largest = std::max(largest, norm(t));
    auto check = [&](const std::string& what, const Tensor& ours) {
      const Tensor& tb = fixture_tensor(f, "bf16." + what);
      const Tensor& tf = fixture_tensor(f, "fp32." + what);
      if (norm(tf) < 1e-4 * largest) {
        EXPECT_LT(norm(ours), 1e-2 * largest) << what;
        return;
      }
      const double to_torch = rel_l2(ours, tb), ours_fp32 = rel_l2(ours, tf), torch_fp32 = rel_l2(tb, tf);
      SCOPED_TRACE(what + ": ours to PyTorch bf16 " + std::to_string(to_torch) + ", ours to float32 " +
                   std::to_string(ours_fp32) + ", PyTorch bf16 to float32 " + std::to_string(torch_fp32));
      if (what.rfind("grad", 0) == 0) {
        EXPECT_LT(to_torch, std::hypot(torch_fp32, ours_fp32) + 1e-2);
      } else {
        EXPECT_LT(to_torch, 1e-2);
      }
      EXPECT_LT(ours_fp32, 1.5 * torch_fp32 + 5e-3);
      if (torch_fp32 > 1e-3) {
        EXPECT_GT(ours_fp32, 0.25 * torch_fp32);
      }
    };
    check("logits", logits);
    check("loss", loss.reshape({1}));
    check("grad_x", xi.grad());
    int checked = 0;
    for (auto& [prefix, m] : net.named()) {
      for (auto& [name, t] : m->named_parameters()) {
        ASSERT_TRUE(t.grad().defined()) << prefix << "." << name;
        EXPECT_EQ(t.grad().dtype(), DType::float32) << prefix << "." << name;  // float32 masters
        check("grad." + prefix + "." + name, t.grad());
        ++checked;
      }
      for (auto& [name, t] : m->named_buffers())
        if (name.rfind("running", 0) == 0) check("after." + prefix + "." + name, t), ++checked;
    }
    EXPECT_EQ(checked, 13 + 6);  // 13 parameters, 6 running statistics
  }
  kernels::force_backend("");
}
