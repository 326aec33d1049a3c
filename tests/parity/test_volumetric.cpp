// conv3d, max_pool3d and avg_pool3d against PyTorch: outputs and the gradients of
// sum(out * g) over the cases of python/fixtures/volumetric.py (strides, padding, dilation,
// groups, depthwise; ceil_mode, count_include_pad), on the default and reference backends.
#include "convnet/ops/volumetric.h"
#include "kernels/registry.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

std::array<int64_t, 3> triple(const nlohmann::json& v) {
  return {v[0].get<int64_t>(), v[1].get<int64_t>(), v[2].get<int64_t>()};
}

void check_volumetric(const std::string& backend) {
  kernels::force_backend(backend);
  int count = 0;
  for (const auto& file : fixture_files("volumetric_")) {
    SCOPED_TRACE(file + " backend=" + backend);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    const std::string op = cfg["op"].get<std::string>();
    Tensor x = fixture_tensor(f, "x").clone().requires_grad_(), w, b, y;
    if (op == "conv3d") {
      w = fixture_tensor(f, "w").clone().requires_grad_();
      if (f.tensors.count("b")) b = fixture_tensor(f, "b").clone().requires_grad_();
      y = ops::conv3d(x, w, b,
                      Conv3dArgs{triple(cfg["stride"]), triple(cfg["padding"]), triple(cfg["dilation"]),
                                 cfg["groups"].get<int64_t>()});
    } else {
      const Pool3dArgs a{triple(cfg["kernel"]),   triple(cfg["stride"]),        triple(cfg["padding"]),
                         triple(cfg["dilation"]), cfg["ceil_mode"].get<bool>(), cfg["count_include_pad"].get<bool>()};
      y = op == "max_pool3d" ? ops::max_pool3d(x, a) : ops::avg_pool3d(x, a);
    }
    EXPECT_TRUE(all_close(y, fixture_tensor(f, "out"), 1e-5, 1e-5));
    y.backward(fixture_tensor(f, "g"));
    EXPECT_TRUE(all_close(x.grad(), fixture_tensor(f, "grad_x"), 1e-5, 1e-5));
    if (w.defined()) {
      EXPECT_TRUE(all_close(w.grad(), fixture_tensor(f, "grad_w"), 1e-5, 1e-4));
    }
    if (b.defined()) {
      EXPECT_TRUE(all_close(b.grad(), fixture_tensor(f, "grad_b"), 1e-5, 1e-4));
    }
    ++count;
  }
  EXPECT_GE(count, 11);  // 4 convolutions, 4 max and 3 average poolings
  kernels::force_backend("");
}

}  // namespace

TEST(VolumetricParity, DefaultBackendMatchesPyTorch) {
  check_volumetric("");
}
TEST(VolumetricParity, ReferenceBackendMatchesPyTorch) {
  check_volumetric("ref");
}
