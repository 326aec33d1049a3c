// `convnet visualize` and `convnet report` as a user runs them, on a tiny LeNet-5 run on
// Fashion-MNIST trained here in a few seconds; the report page opened in headless Chromium.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "convnet/data/image.h"
#include "convnet/viz/picture.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;
namespace fs = std::filesystem;

namespace {

const char* kData = "/usr/share/datasets/fashion-mnist";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

class Visualize : public ::testing::Test {
 protected:
  static fs::path dir_;
  static std::string train_out_;
  static int train_status_;

  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / "convnet_e2e_visualize";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (!fs::exists(kData)) return;
    auto r = run_cli("train --epochs 2 --limit-train 3000 --threads 2 --seed 1 --out " + (dir_ / "run").string());
    train_status_ = r.status, train_out_ = r.out;
    // Test pictures: a 3-channel 40x30 image (the model wants 1x28x28) and a gray step.
    viz::Picture rgb(40, 30);
    for (int64_t y = 0; y < 30; ++y)
      for (int64_t x = 0; x < 40; ++x) rgb.at(x, y)[0] = static_cast<uint8_t>(x * 6), rgb.at(x, y)[2] = 200;
    viz::write_png((dir_ / "rgb.png").string(), rgb);
    viz::Picture stepimg(28, 28, 0);
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t x = 0; x < 14; ++x) std::fill(stepimg.at(x, y), stepimg.at(x, y) + 3, 255);
    viz::write_png((dir_ / "step.png").string(), stepimg);
    std::ofstream(dir_ / "not-an-image.png") << "hello";
  }

  void SetUp() override {
    if (!fs::exists(kData)) GTEST_SKIP() << "dataset-fashion-mnist is not installed at " << kData;
    ASSERT_EQ(train_status_, 0) << train_out_;
  }
  static std::string run() { return (dir_ / "run").string(); }
};
fs::path Visualize::dir_;
std::string Visualize::train_out_;
int Visualize::train_status_ = -1;

}  // namespace

TEST_F(Visualize, KernelsOfTheFirstAndOfANamedLayer) {
  const fs::path out = dir_ / "kernels";
  auto r = run_cli("visualize kernels -c " + run() + " -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(fs::exists(out / "kernels-0.png")) << r.out;
  // LeNet-5's conv1: 6 gray 5x5 filters in 3 columns, 9 pixels per weight, gaps of 4.
  const data::Image k0 = data::decode_image((out / "kernels-0.png").string(), 3);
  EXPECT_EQ(k0.width, 3 * (5 * 9) + 4 * 4);
  EXPECT_EQ(k0.height, 2 * (5 * 9) + 3 * 4);
  r = run_cli("visualize kernels -c " + run() + " --layer 3 -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const data::Image k3 = data::decode_image((out / "kernels-3.png").string(), 3);
  EXPECT_EQ(k3.width, 6 * 45 + 7 * 4);  // conv2: 16 filters x 6 input channels
  EXPECT_EQ(k3.height, 16 * 45 + 17 * 4);
  const std::string index = read(out / "index.html");
  EXPECT_NE(index.find("src=\"kernels-0.png\""), std::string::npos) << index;
  EXPECT_NE(index.find("src=\"kernels-3.png\""), std::string::npos) << index;
  EXPECT_NE(index.find("color scale"), std::string::npos) << index;
}

TEST_F(Visualize, FeaturesEdgesAndSaliencyWriteTheirPicturesAndIndex) {
  const fs::path out = dir_ / "pictures";
  const std::string img = (dir_ / "step.png").string();
  auto r = run_cli("visualize features -c " + run() + " --layer 1 " + img + " -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(out / "step-features-1.png"));
  r = run_cli("visualize edges " + img + " -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const data::Image e = data::decode_image((out / "step-edges.png").string(), 3);
  EXPECT_EQ(e.width, 3 * 28 * 6 + 2 * 8);  // input and two responses, zoomed 6x to >= 160 pixels
  r = run_cli("visualize saliency -c " + run() + " " + img + " --class 5 -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("explaining class 5"), std::string::npos) << r.out;
  for (const char* f : {"step-saliency.png", "step-vanilla.png", "step-guided.png", "step-gradcam.png"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const std::string index = read(out / "index.html");
  for (const char* f : {"step-features-1.png", "step-edges.png", "step-saliency.png", "step-gradcam.png"})
    EXPECT_NE(index.find(f), std::string::npos) << f;
  EXPECT_NE(index.find("Sandal (class 5)"), std::string::npos);
}

TEST_F(Visualize, UnknownLayerListsTheValidOnes) {
  auto r = run_cli("visualize features -c " + run() + " --layer conv1 " + (dir_ / "step.png").string() + " -o " +
                   (dir_ / "bad").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown layer 'conv1'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 (Conv2d), 1 (ReLU), 2 (MaxPool2d), 3 (Conv2d)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("convnet visualize features --help"), std::string::npos) << r.out;
  r = run_cli("visualize kernels -c " + run() + " --layer 2 -o " + (dir_ / "bad").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("layer '2' is a MaxPool2d, not a Conv2d; the convolution layers are: 0, 3"), std::string::npos)
      << r.out;
}

TEST_F(Visualize, ImagesOfAnotherShapeAreConvertedAndSaySoOrRefused) {
  auto r =
      run_cli("visualize saliency -c " + run() + " " + (dir_ / "rgb.png").string() + " -o " + (dir_ / "conv").string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("'" + (dir_ / "rgb.png").string() +
                       "' is 3x30x40 (RGB); the model expects 1x28x28: converted to gray, resized from 30x40 to 28x28"),
            std::string::npos)
      << r.out;
  r = run_cli("visualize features -c " + run() + " --layer 0 " + (dir_ / "not-an-image.png").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("cannot decode image"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not-an-image.png"), std::string::npos) << r.out;
}

TEST_F(Visualize, ReportIsSelfContainedAndRunsCleanInHeadlessChromium) {
  const fs::path page = dir_ / "run" / "report.html";
  auto r = run_cli("report " + run());
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(fs::exists(page)) << r.out;
  const std::string html = read(page);
  // Self-contained: nothing to fetch (the only URL is the SVG namespace, never loaded).
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_GE(count(html, "src=\"data:image/png;base64,"), 49u);  // 48 test images and the kernels
  // Mistakes first, two thirds of the grid (this 2-epoch model errs on far more than 32 of
  // the first 2000 test images), then correct predictions.
  EXPECT_EQ(count(html, "class=\"tile wrong\""), 32u);
  EXPECT_EQ(count(html, "class=\"tile\""), 16u);
  EXPECT_LT(html.rfind("class=\"tile wrong\""), html.find("class=\"tile\""));
  for (const char* s : {"Learning curves", "Confusion matrix", "Per-class accuracy", "Test images",
                        "First-layer kernels", "Model summary", "Ankle boot"})
    EXPECT_NE(html.find(s), std::string::npos) << s;

  const std::string chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium))
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it); the page was not opened";
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
      " --user-data-dir=" +
      (dir_ / "chromium-profile").string();
  auto dom = run_command(chromium + flags + " --dump-dom file://" + page.string() + " 2>/dev/null");
  ASSERT_EQ(dom.status, 0) << dom.out.substr(0, 2000);
  // The page's own script ran to its end without an error: window.onerror would have
  // written data-status="error" and the message into #status.
  const size_t at = dom.out.find("<div id=\"status\"");
  ASSERT_NE(at, std::string::npos) << dom.out.substr(0, 3000);
  const std::string status = dom.out.substr(at, dom.out.find("</div>", at) - at);
  EXPECT_EQ(status, "<div id=\"status\" data-status=\"ok\">report-ok: 4 charts, 48 images");
  EXPECT_GE(count(dom.out, "<svg"), 4u);  // loss, accuracy, learning rate, per-class accuracy
  EXPECT_GE(count(dom.out, "class=\"tile"), 48u);
  EXPECT_NE(dom.out.find("48 of 48 images shown"), std::string::npos);                // written by the script
  EXPECT_NE(dom.out.find("title=\"true T-shirt/top, predicted"), std::string::npos);  // tooltips by the script
  // A screenshot beside the test binaries, for people to look at.
  const fs::path shot = fs::current_path() / "report_screenshot.png";
  fs::remove(shot);
  auto s = run_command(chromium + flags + " --hide-scrollbars --window-size=1280,2200 --screenshot=" + shot.string() +
                       " file://" + page.string() + " 2>/dev/null");
  ASSERT_EQ(s.status, 0) << s.out;
  ASSERT_TRUE(fs::exists(shot)) << s.out;
  const data::Image img = data::decode_image(shot.string(), 3);
  EXPECT_EQ(img.width, 1280);
  std::printf("report screenshot: %s\n", shot.c_str());
}
