// src/viz: pictures whose content is known in advance (edge detectors on a step, the input
// gradient of a linear model, colors of known values), guided ReLU, and error messages.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "convnet/core/rng.h"
#include "convnet/data/image.h"
#include "convnet/models/lenet.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "convnet/ops/activation.h"
#include "convnet/viz/commands.h"
#include "convnet/viz/picture.h"
#include "convnet/viz/visualize.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {
// The synthetic step: bright (1) in columns [0, kEdge), dark (0) from kEdge on.
constexpr int64_t kH = 6, kW = 8, kEdge = 4;
float step(int64_t h, int64_t w) {
  if (h < 0 || h >= kH || w < 0 || w >= kW) return 0.f;  // zero padding
  return w < kEdge ? 1.f : 0.f;
}
}  // namespace

TEST(Edges, KernelsAreTheHandSetDetectors) {
  const Tensor k = viz::edge_kernels();
  ASSERT_EQ(k.shape(), (Shape{2, 1, 3, 3}));
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(k.at({0, 0, i, 0}), 1.f);
    EXPECT_EQ(k.at({0, 0, i, 1}), 0.f);
    EXPECT_EQ(k.at({0, 0, i, 2}), -1.f);
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(k.at({1, 0, i, j}), k.at({0, 0, j, i}));  // the transpose
  }
}

TEST(Edges, ResponsesOnAStepImageAreTheKnownOnes) {
  Tensor x = Tensor::zeros({1, 1, kH, kW});
  for (int64_t h = 0; h < kH; ++h)
    for (int64_t w = 0; w < kW; ++w) x.at({0, 0, h, w}) = step(h, w);
  const Tensor r = viz::edge_responses(x);
  ASSERT_EQ(r.shape(), (Shape{1, 2, kH, kW}));
  for (int64_t h = 0; h < kH; ++h)
    for (int64_t w = 0; w < kW; ++w) {
      // Vertical: sum over the three rows of left neighbour minus right neighbour.
      float v = 0, hz = 0;
      for (int64_t d = -1; d <= 1; ++d) {
        v += step(h + d, w - 1) - step(h + d, w + 1);
        hz += step(h - 1, w + d) - step(h + 1, w + d);  // horizontal: row above minus row below
      }
      EXPECT_FLOAT_EQ(r.at({0, 0, h, w}), v) << "vertical at " << h << "," << w;
      EXPECT_FLOAT_EQ(r.at({0, 1, h, w}), hz) << "horizontal at " << h << "," << w;
    }
  // The picture in numbers: inside the image the vertical detector fires (3 = three rows of
  // 1 - 0) on both columns beside the step and nowhere else; the horizontal one is silent
  // except where the zero padding above and below makes edges of its own.
  for (int64_t h = 1; h < kH - 1; ++h) {
    for (int64_t w = 1; w < kW - 1; ++w) {
      const bool at_step = w == kEdge - 1 || w == kEdge;
      EXPECT_EQ(r.at({0, 0, h, w}), at_step ? 3.f : 0.f) << h << "," << w;
      EXPECT_EQ(r.at({0, 1, h, w}), 0.f) << h << "," << w;
    }
  }
  EXPECT_EQ(r.at({0, 1, 0, 1}), -3.f);      // top row of the bright part: 0 above, 1 below
  EXPECT_EQ(r.at({0, 1, kH - 1, 1}), 3.f);  // bottom row
  EXPECT_EQ(r.at({0, 1, 0, kW - 2}), 0.f);  // dark part: nothing either way
  EXPECT_EQ(r.at({0, 0, 2, 0}), -3.f);      // left border: padding 0 on the left, 1 on the right
}

TEST(Edges, RefusesAnythingButOneGrayImage) {
  expect_error([] { viz::edge_responses(Tensor::zeros({1, 3, 5, 5})); }, {"edge_responses", "(1, 3, 5, 5)", "gray"});
}

TEST(GuidedRelu, PassesOnlyPositiveGradientsWhereTheInputWasPositive) {
  Tensor x = Tensor::from_vector({4}, {-1.f, 2.f, 3.f, -4.f});
  const Tensor gy = Tensor::from_vector({4}, {1.f, -1.f, 2.f, 3.f});
  x.requires_grad_(true);
  ops::relu(x).backward(gy);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, -1.f, 2.f, 0.f}));
  x.zero_grad();
  Tensor y;
  {
    ops::GuidedReluGuard guide;
    EXPECT_TRUE(ops::guided_relu_enabled());
    y = ops::relu(x);
  }
  EXPECT_FALSE(ops::guided_relu_enabled());
  y.backward(gy);  // recorded under the guard: guided even though the guard is gone
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0.f, 0.f, 2.f, 0.f}));
  // relu6 likewise: its own mask (0 < x < 6), then only positive gradients.
  Tensor z = Tensor::from_vector({4}, {-1.f, 2.f, 7.f, 5.f});
  z.requires_grad_(true);
  {
    ops::GuidedReluGuard guide;
    y = ops::relu6(z);
  }
  y.backward(Tensor::from_vector({4}, {1.f, -1.f, 2.f, 3.f}));
  EXPECT_EQ(z.grad().to_vector(), (std::vector<float>{0.f, 0.f, 0.f, 3.f}));
  // Other activations are not touched by the guard.
  Tensor t = Tensor::from_vector({1}, {0.f});
  t.requires_grad_(true);
  {
    ops::GuidedReluGuard guide;
    y = ops::tanh(t);
  }
  y.backward(Tensor::from_vector({1}, {-2.f}));
  EXPECT_EQ(t.grad().item(), -2.f);
}

TEST(Saliency, InputGradientOfALinearModelIsItsWeightRow) {
  // logits = W flatten(x) + b, so d logit_k / d x is row k of W laid out as the image.
  auto lin = std::make_shared<nn::Linear>(2 * 3 * 3, 4);
  auto net = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{std::make_shared<nn::Flatten>(), lin});
  Generator gen(5);
  const Tensor x = Tensor::randn({1, 2, 3, 3}, gen);
  for (int64_t k = 0; k < 4; ++k) {
    const Tensor g = viz::input_gradient(*net, x, k);
    ASSERT_EQ(g.shape(), (Shape{1, 2, 3, 3}));
    for (int64_t i = 0; i < 18; ++i) EXPECT_EQ(g.data()[i], lin->weight.at({k, i})) << k << "," << i;
  }
}

TEST(Saliency, VanillaIsTheAutogradInputGradientAndLeavesTheModelAsItWas) {
  manual_seed(3);
  auto net = models::lenet5({10, 1, 28});
  Generator gen(9);
  const Tensor x = Tensor::randn({1, 1, 28, 28}, gen);
  net->train();
  const Tensor g = viz::input_gradient(*net, x, 6);
  // The same by hand: eval mode, a leaf input, backward from the one-hot seed of class 6.
  net->eval();
  Tensor xi = x.clone();
  xi.requires_grad_(true);
  Tensor seed = Tensor::zeros({1, 10});
  seed.at({0, 6}) = 1.f;
  (*net)(xi).backward(seed);
  EXPECT_TRUE(all_close(g, xi.grad(), 0, 0));
  // Guided differs (LeNet has ReLUs and the gradient has both signs)...
  const Tensor gg = viz::input_gradient(*net, x, 6, true);
  EXPECT_FALSE(all_close(gg, g, 1e-3, 1e-9));
  // ...and saliency computes no parameter gradients except those of the hand-made pass.
  for (auto& [name, p] : net->named_parameters()) {
    EXPECT_TRUE(p.requires_grad()) << name;
    p.zero_grad();
  }
  viz::input_gradient(*net, x, 6);
  for (auto& [name, p] : net->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;
  net->train();
  viz::grad_cam(*net, x, 6);
  EXPECT_TRUE(net->is_training());
}

TEST(Saliency, GradCamDefaultsToTheLastConvAndChecksItsArguments) {
  manual_seed(4);
  auto net = models::lenet5({10, 1, 28});
  const Tensor x = Tensor::zeros({1, 1, 28, 28});
  EXPECT_EQ(viz::last_conv_layer(*net), "3");
  EXPECT_EQ(viz::first_conv_layer(*net), "0");
  const auto cam = viz::grad_cam(*net, x, 2);
  EXPECT_EQ(cam.layer, "3");
  EXPECT_EQ(cam.cam.shape(), (Shape{10, 10}));
  EXPECT_EQ(cam.upsampled.shape(), (Shape{28, 28}));
  EXPECT_EQ(cam.weights.shape(), (Shape{16}));
  expect_error([&] { viz::grad_cam(*net, x, 10); }, {"class 10 is out of range", "10 classes"});
  expect_error([&] { viz::grad_cam(*net, x, 0, "7"); }, {"layer '7' (Linear)", "(1, 120)", "feature maps", "3"});
  expect_error([&] { viz::input_gradient(*net, Tensor::zeros({2, 1, 28, 28}), 0); }, {"one image", "(2, 1, 28, 28)"});
}

TEST(Layers, UnknownNamesListTheValidOnes) {
  auto net = models::lenet5({10, 1, 28});
  expect_error([&] { viz::find_layer(*net, "conv9"); },
               {"unknown layer 'conv9'", "0 (Conv2d)", "1 (ReLU)", "3 (Conv2d)", "6 (Flatten)", "11 (Linear)"});
  expect_error([&] { viz::kernel_grid(*net, "1"); }, {"layer '1' is a ReLU, not a Conv2d", "are: 0, 3"});
  EXPECT_EQ(&viz::find_layer(*net, "3"), (*net)[3].get());
  auto flat = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{std::make_shared<nn::Flatten>()});
  expect_error([&] { viz::first_conv_layer(*flat); }, {"no Conv2d", "0 (Flatten)"});
}

TEST(Pictures, KernelTilesShowTheSignedWeightsOnOneStatedScale) {
  auto conv = std::make_shared<nn::Conv2d>(1, 2, 2, 1, Padding(int64_t{0}), 1, 1, false);
  conv->weight.copy_(Tensor::from_vector({2, 1, 2, 2}, {2.f, -2.f, 0.f, 1.f, /**/ -1.f, 0.5f, 0.f, 0.f}));
  auto net = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{conv});
  const viz::KernelGrid g = viz::kernel_grid(*net, "0", 1);
  EXPECT_EQ(g.scale.lo, -2.f);
  EXPECT_EQ(g.scale.hi, 2.f);
  // One input channel: the two filters side by side, 2x2 pixels each, a gap of 1 around them.
  ASSERT_EQ(g.picture.width, 1 + 2 + 1 + 2 + 1);
  ASSERT_EQ(g.picture.height, 1 + 2 + 1);
  auto rgb = [&](int64_t x, int64_t y) {
    const uint8_t* p = g.picture.at(x, y);
    return std::vector<int>{p[0], p[1], p[2]};
  };
  EXPECT_EQ(rgb(1, 1), (std::vector<int>{178, 24, 43}));    // +2: the red end
  EXPECT_EQ(rgb(2, 1), (std::vector<int>{33, 102, 172}));   // -2: the blue end
  EXPECT_EQ(rgb(1, 2), (std::vector<int>{247, 247, 247}));  // 0: white
  EXPECT_EQ(rgb(0, 0), (std::vector<int>{255, 255, 255}));  // the gap
  EXPECT_EQ(rgb(4, 1), (std::vector<int>{140, 175, 210}));  // -1: halfway from blue to white, rounded
  EXPECT_NE(g.caption.find("-2"), std::string::npos) << g.caption;
}

TEST(Pictures, RgbFirstLayerIsInColorEachFilterOnItsOwnScale) {
  auto conv = std::make_shared<nn::Conv2d>(3, 1, 1, 1, Padding(int64_t{0}), 1, 1, false);
  conv->weight.copy_(Tensor::from_vector({1, 3, 1, 1}, {0.5f, -0.5f, 0.f}));  // red up, green down
  auto net = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{conv});
  const viz::KernelGrid g = viz::kernel_grid(*net, "0", 1);
  EXPECT_TRUE(g.per_filter);
  const uint8_t* p = g.picture.at(1, 1);
  EXPECT_EQ(p[0], 255);  // the filter's max
  EXPECT_EQ(p[1], 0);    // its min
  EXPECT_EQ(p[2], 128);  // halfway
}

TEST(Pictures, FeatureGridSharesOneScaleOverAllMaps) {
  Tensor out = Tensor::from_vector({1, 2, 1, 2}, {0.f, 1.f, 2.f, 4.f});
  const viz::FeatureGrid g = viz::feature_grid(out, 1, 2);
  EXPECT_EQ(g.scale.lo, 0.f);
  EXPECT_EQ(g.scale.hi, 4.f);
  EXPECT_EQ(g.maps, 2);
  // Tiles of 1x2 pixels side by side with gaps of 2: map 0 at x = 2, 3; map 1 at x = 6, 7.
  auto px = [&](int64_t x) { return std::vector<uint8_t>(g.picture.at(x, 2), g.picture.at(x, 2) + 3); };
  auto color = [](float t) {
    uint8_t c[3];
    viz::colormap(viz::Colormap::Heat, t, c);
    return std::vector<uint8_t>(c, c + 3);
  };
  EXPECT_EQ(px(2), color(0.f));    // 0
  EXPECT_EQ(px(3), color(0.25f));  // 1 of [0, 4]
  EXPECT_EQ(px(6), color(0.5f));   // 2: the second map is not rescaled to its own range
  EXPECT_EQ(px(7), color(1.f));    // 4
  EXPECT_EQ(color(0.5f), (std::vector<uint8_t>{188, 55, 84}));
}

TEST(Pictures, PngRoundTripsThroughTheDecoder) {
  viz::Picture p(3, 2);
  for (int64_t i = 0; i < 18; ++i) p.rgb[i] = static_cast<uint8_t>(i * 14);
  const fs::path f = fs::temp_directory_path() / "convnet_viz_roundtrip.png";
  viz::write_png(f.string(), p);
  const data::Image img = data::decode_image(f.string(), 3);
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.height, 2);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(std::lround(img.data[(c * 2 + y) * 3 + x] * 255), p.at(x, y)[c]);
  EXPECT_EQ(viz::base64("Man"), "TWFu");
  EXPECT_EQ(viz::base64("Ma"), "TWE=");
  EXPECT_EQ(viz::base64("M"), "TQ==");
  EXPECT_EQ(viz::png_data_uri(p).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);  // the PNG signature
}

TEST(IndexPage, KeepsPicturesOfEarlierCommandsAndStatesScales) {
  const fs::path dir = fs::temp_directory_path() / "convnet_viz_index";
  fs::remove_all(dir);
  viz::IndexEntry a{"a.png", "First", "one", true, {viz::Colormap::Heat, -1.5f, 2.5f}};
  viz::IndexEntry b{"b.png", "Second", "two", false, {}};
  EXPECT_EQ(viz::add_to_index(dir.string(), {a}), "");
  viz::add_to_index(dir.string(), {b});
  a.text = "one again";
  viz::add_to_index(dir.string(), {a});
  std::ifstream in(dir / "index.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_LT(html.find("src=\"a.png\""), html.find("src=\"b.png\""));  // replaced in place, order kept
  EXPECT_NE(html.find("one again"), std::string::npos);
  EXPECT_EQ(html.find(">one<"), std::string::npos);
  EXPECT_NE(html.find("-1.5"), std::string::npos);
  EXPECT_NE(html.find("2.5"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "colorbar-heat.png"));
  std::ifstream mi(dir / "index.json");
  const std::string manifest((std::istreambuf_iterator<char>(mi)), std::istreambuf_iterator<char>());
  EXPECT_NE(manifest.find("\"format\": \"convnet-viz-index\""), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"version\": 1"), std::string::npos) << manifest;
  // A manifest from something else loses the old entries, never the new picture.
  std::ofstream(dir / "index.json") << "[1, 2, 3]";
  EXPECT_NE(viz::add_to_index(dir.string(), {b}).find("index.json"), std::string::npos);
  std::ifstream in2(dir / "index.html");
  const std::string html2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(html2.find("a.png"), std::string::npos);
  EXPECT_NE(html2.find("src=\"b.png\""), std::string::npos);
}
