// Layer norm and group norm against PyTorch (float64, rounded once): the output and the
// gradients of x, weight and bias over the cases of python/fixtures/norm.py (several
// normalized shapes, ConvNeXt's eps 1e-6, one group, one channel per group, no affine), on
// the default and reference backends, through the nn modules.
#include "convnet/nn/layers.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

void check(const std::string& prefix, const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files(prefix)) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    const bool affine = cfg["affine"].get<bool>();
    const double eps = cfg["eps"].get<double>();
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_();
    std::shared_ptr<nn::Module> m;
    Tensor *w = nullptr, *b = nullptr;
    if (prefix == "layer_norm_") {
      auto ln = std::make_shared<nn::LayerNorm>(cfg["normalized_shape"].get<Shape>(), eps, affine);
      w = &ln->weight, b = &ln->bias, m = ln;
    } else {
      auto gn = std::make_shared<nn::GroupNorm>(cfg["num_groups"].get<int64_t>(), x.size(1), eps, affine);
      w = &gn->weight, b = &gn->bias, m = gn;
    }
    if (affine) {
      w->copy_(fixture_tensor(f, "weight"));
      b->copy_(fixture_tensor(f, "bias"));
    }
    Tensor y = (*m)(x);
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-5));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-4, 1e-5));
    if (affine) {
      EXPECT_TRUE(all_close(w->grad(), fixture_tensor(f, "grad_weight"), 1e-4, 1e-5));
      EXPECT_TRUE(all_close(b->grad(), fixture_tensor(f, "grad_bias"), 1e-4, 1e-5));
    } else {
      EXPECT_FALSE(w->defined());
    }
    ++count;
  }
  EXPECT_EQ(count, 5);
  kernels::force_backend("");
}

}  // namespace

TEST(NormParity, LayerNormMatchesPyTorch) {
  for (const char* b : {"", "ref"}) check("layer_norm_", b);
}
TEST(NormParity, GroupNormMatchesPyTorch) {
  for (const char* b : {"", "ref"}) check("group_norm_", b);
}
