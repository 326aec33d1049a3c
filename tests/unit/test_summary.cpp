// Model summary: shapes, parameter and MAC counts computed by hand for LeNet-5, and
// frozen/trainable totals.
#include "convnet/models/registry.h"
#include "convnet/nn/summary.h"
#include "util/test_util.h"

using namespace convnet;

TEST(Summary, LeNet5RowsAndTotalsMatchHandCounts) {
  auto net = models::create("lenet5");
  auto s = nn::summarize(*net, {1, 28, 28});
  ASSERT_EQ(s.rows.size(), 12u);
  EXPECT_EQ(s.rows[0].name, "0");
  EXPECT_EQ(s.rows[0].type, "Conv2d");
  EXPECT_EQ(s.rows[0].output, (Shape{1, 6, 28, 28}));
  // conv1: 6 x 28 x 28 outputs, each 1*5*5 MACs; conv2: 16 x 10 x 10 outputs x 6*5*5.
  EXPECT_EQ(s.rows[0].macs, 6 * 28 * 28 * 25);
  EXPECT_EQ(s.rows[3].macs, 16 * 10 * 10 * 150);
  EXPECT_EQ(s.rows[5].output, (Shape{1, 16, 5, 5}));
  EXPECT_EQ(s.rows[7].params, 400 * 120 + 120);
  EXPECT_EQ(s.macs, 6 * 28 * 28 * 25 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
  EXPECT_EQ(s.total_params, 61706);
  EXPECT_EQ(s.output, (Shape{1, 10}));
  const std::string t = s.table(64);
  EXPECT_NE(t.find("61,706 total"), std::string::npos) << t;
  EXPECT_NE(t.find("(N, 16, 10, 10)"), std::string::npos) << t;
}

TEST(Summary, FrozenParametersAreCountedApart) {
  auto net = models::create("lenet5");
  auto params = net->named_parameters();
  params[0].second.requires_grad_(false);  // conv1 weight: 150
  params[1].second.requires_grad_(false);  // conv1 bias: 6
  auto s = nn::summarize(*net, {1, 28, 28});
  EXPECT_EQ(s.frozen_params, 156);
  EXPECT_EQ(s.trainable_params, 61706 - 156);
  EXPECT_TRUE(net->is_training());  // summarize restores the mode
}
