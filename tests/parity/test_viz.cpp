// Saliency against PyTorch (python/fixtures/viz.py) on LeNet-5 with the same weights: the
// vanilla input gradient of a class logit, guided backpropagation (PyTorch: backward hooks
// on nn.ReLU clamping the gradient to >= 0) and Grad-CAM (weights, map, upsampled map).
#include "convnet/models/lenet.h"
#include "convnet/viz/visualize.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

TEST(VizParity, SaliencyAndGradCamMatchPyTorch) {
  for (const auto& file : fixture_files("viz_lenet5_")) {
    SCOPED_TRACE(file);
    auto f = load_fixture(file);
    auto cfg = fixture_config(f);
    models::ModelArgs a;
    a.in_channels = cfg["in_channels"].get<int64_t>();
    a.input_size = cfg["input_size"].get<int64_t>();
    auto net = models::lenet5(a);
    for (auto& [name, t] : net->state_dict()) {
      Tensor dst = t;
      dst.copy_(fixture_tensor(f, "param." + name));
    }
    const Tensor& x = fixture_tensor(f, "input");
    const int64_t cls = cfg["class"].get<int64_t>();
    const std::string layer = cfg["layer"].get<std::string>();
    EXPECT_TRUE(all_close((*net)(x), fixture_tensor(f, "logits"), 1e-4, 1e-6));

    // Gradients are ~1e-3 here: compare relative to that scale, well inside 1e-5.
    const Tensor vanilla = viz::input_gradient(*net, x, cls, false);
    EXPECT_TRUE(all_close(vanilla, fixture_tensor(f, "vanilla"), 1e-4, 1e-8));
    const Tensor guided = viz::input_gradient(*net, x, cls, true);
    EXPECT_TRUE(all_close(guided, fixture_tensor(f, "guided"), 1e-4, 1e-8));
    EXPECT_FALSE(all_close(guided, vanilla, 1e-2, 1e-6)) << "the fixture should tell guided from vanilla apart";

    const viz::GradCam cam = viz::grad_cam(*net, x, cls, layer);
    EXPECT_TRUE(all_close(cam.weights, fixture_tensor(f, "cam_weights"), 1e-4, 1e-9));
    EXPECT_TRUE(all_close(cam.cam, fixture_tensor(f, "cam"), 1e-4, 1e-9));
    EXPECT_TRUE(all_close(cam.upsampled, fixture_tensor(f, "cam_upsampled"), 1e-4, 1e-9));
  }
}
