// Every kernel key is compared with its reference by some test (kComparedBy names the test),
// and the README's Backends table says truly which keys have fast kernels: a new key, or a
// new fast kernel, cannot land untested or undocumented.
#include <map>
#include <string>

#include "kernels/registry.h"
#include "util/test_util.h"
#include "util/variants.h"

using namespace convnet;
using namespace convnet::kernels;

namespace {
// Which test compares each kernel key's variants with the reference. Keys compared in
// other test files are named here with their test; the coverage test below checks that
// this table names every registered key.
const std::map<std::string, std::string> kComparedBy = {
    {"relu_fwd", "KernelVariants.Activations"},
    {"relu_bwd", "KernelVariants.Activations"},
    {"leaky_relu_fwd", "KernelVariants.Activations"},
    {"leaky_relu_bwd", "KernelVariants.Activations"},
    {"relu6_fwd", "KernelVariants.Activations"},
    {"relu6_bwd", "KernelVariants.Activations"},
    {"tanh_fwd", "KernelVariants.Activations"},
    {"tanh_bwd", "KernelVariants.Activations"},
    {"sigmoid_fwd", "KernelVariants.Activations"},
    {"sigmoid_bwd", "KernelVariants.Activations"},
    {"norm_fwd", "KernelVariants.Norm"},
    {"interp_fwd", "KernelVariants.Interp"},
    {"interp_bwd", "KernelVariants.Interp"},
    {"index_pad_fwd", "KernelVariants.IndexPad"},
    {"index_pad_bwd", "KernelVariants.IndexPad"},
    {"norm_bwd", "KernelVariants.Norm"},
    {"prelu_fwd", "KernelVariants.Prelu"},
    {"prelu_bwd", "KernelVariants.Prelu"},
    {"hardsigmoid_fwd", "KernelVariants.Activations"},
    {"hardsigmoid_bwd", "KernelVariants.Activations"},
    {"hardswish_fwd", "KernelVariants.Activations"},
    {"hardswish_bwd", "KernelVariants.Activations"},
    {"silu_fwd", "KernelVariants.Activations"},
    {"silu_bwd", "KernelVariants.Activations"},
    {"gelu_fwd", "KernelVariants.Activations"},
    {"gelu_bwd", "KernelVariants.Activations"},
    {"gelu_tanh_fwd", "KernelVariants.Activations"},
    {"gelu_tanh_bwd", "KernelVariants.Activations"},
    {"elu_fwd", "KernelVariants.Activations"},
    {"elu_bwd", "KernelVariants.Activations"},
    {"selu_fwd", "KernelVariants.Activations"},
    {"selu_bwd", "KernelVariants.Activations"},
    {"softplus_fwd", "KernelVariants.Activations"},
    {"softplus_bwd", "KernelVariants.Activations"},
    {"floor_fwd", "KernelVariants.Activations"},
    {"floor_bwd", "KernelVariants.Activations"},
    {"ceil_fwd", "KernelVariants.Activations"},
    {"ceil_bwd", "KernelVariants.Activations"},
    {"reciprocal_fwd", "KernelVariants.Activations"},
    {"reciprocal_bwd", "KernelVariants.Activations"},
    {"log_fwd", "KernelVariants.Activations"},
    {"log_bwd", "KernelVariants.Activations"},
    {"div", "KernelVariants.Arith"},
    {"maximum", "KernelVariants.Arith"},
    {"minimum", "KernelVariants.Arith"},
    {"pow", "KernelVariants.Arith"},
    {"div_bwd", "KernelVariants.Arith"},
    {"maximum_bwd", "KernelVariants.Arith"},
    {"minimum_bwd", "KernelVariants.Arith"},
    {"pow_bwd", "KernelVariants.Arith"},
    {"where", "KernelVariants.Arith"},
    {"conv3d_fwd", "KernelVariants.Volumetric"},
    {"conv3d_bwd_data", "KernelVariants.Volumetric"},
    {"conv3d_bwd_weight", "KernelVariants.Volumetric"},
    {"max_pool3d_fwd", "KernelVariants.Volumetric"},
    {"max_pool3d_bwd", "KernelVariants.Volumetric"},
    {"avg_pool3d_fwd", "KernelVariants.Volumetric"},
    {"avg_pool3d_bwd", "KernelVariants.Volumetric"},
    {"exp_fwd", "KernelVariants.Activations"},
    {"exp_bwd", "KernelVariants.Activations"},
    {"abs_fwd", "KernelVariants.Activations"},
    {"abs_bwd", "KernelVariants.Activations"},
    {"sqrt_fwd", "KernelVariants.Activations"},
    {"sqrt_bwd", "KernelVariants.Activations"},
    {"softsign_fwd", "KernelVariants.Activations"},
    {"softsign_bwd", "KernelVariants.Activations"},
    {"erf_fwd", "KernelVariants.Activations"},
    {"erf_bwd", "KernelVariants.Activations"},
    {"add", "KernelVariants.ElementwiseAndSum"},
    {"sub", "KernelVariants.ElementwiseAndSum"},
    {"mul", "KernelVariants.ElementwiseAndSum"},
    {"scale", "KernelVariants.ElementwiseAndSum"},
    {"sum", "KernelVariants.ElementwiseAndSum"},
    {"concat_fwd", "KernelVariants.Concat"},
    {"concat_bwd", "KernelVariants.Concat"},
    {"batch_norm_fwd_train", "KernelVariants.BatchNorm"},
    {"batch_norm_fwd_eval", "KernelVariants.BatchNorm"},
    {"batch_norm_bwd", "KernelVariants.BatchNorm"},
    {"max_pool2d_fwd", "KernelVariants.Pooling"},
    {"max_pool2d_bwd", "KernelVariants.Pooling"},
    {"avg_pool2d_fwd", "KernelVariants.Pooling"},
    {"avg_pool2d_bwd", "KernelVariants.Pooling"},
    {"adaptive_avg_pool2d_fwd", "KernelVariants.Pooling"},
    {"adaptive_avg_pool2d_bwd", "KernelVariants.Pooling"},
    {"adaptive_max_pool2d_fwd", "KernelVariants.Pooling"},
    {"adaptive_max_pool2d_bwd", "KernelVariants.Pooling"},
    {"softmax_fwd", "KernelVariants.Softmax"},
    {"softmax_bwd", "KernelVariants.Softmax"},
    {"log_softmax_fwd", "KernelVariants.Softmax"},
    {"log_softmax_bwd", "KernelVariants.Softmax"},
    {"cross_entropy_fwd", "KernelVariants.CrossEntropy"},
    {"cross_entropy_bwd", "KernelVariants.CrossEntropy"},
    {"convert", "KernelVariants.Convert"},
    {"sgd_step", "KernelVariants.OptimizerSteps"},
    {"adam_step", "KernelVariants.OptimizerSteps"},
    {"sum_squares", "KernelVariants.VectorOps"},
    {"sum_squares_many", "KernelVariants.VectorOps"},
    {"axpby", "KernelVariants.VectorOps"},
    {"affine", "KernelVariants.VectorOps"},
    {"dropout_mask", "KernelVariants.VectorOps"},
    {"batch_norm_update_stats", ""},
    {"count_correct", ""},
    {"mix_rows", ""},
    {"cutmix_paste", ""},
    {"conv2d_fwd", "unit_test_conv2d Conv2dVariants"},
    {"conv2d_bwd_data", "unit_test_conv2d Conv2dVariants"},
    {"conv2d_bwd_weight", "unit_test_conv2d Conv2dVariants"},
    {"conv2d_fwd_blocked", "unit_test_layout Layout.Conv2dBlockedKernelsMatchReference"},
    {"conv2d_bwd_data_blocked", "unit_test_layout Layout.Conv2dBlockedKernelsMatchReference"},
    {"conv2d_bwd_weight_blocked", "unit_test_layout Layout.Conv2dBlockedKernelsMatchReference"},
    {"conv2d_layout", "unit_test_layout Layout.Conv2dBlockedKernelsMatchReference"},
    {"gemm", "unit_test_gemm_variants GemmVariants"},
    // Reduced precision: bfloat16 fast kernels (unit_test_lowp_kernels); float16 runs the
    // emulating reference twins only.
    {"relu_fwd_bf16", "unit_test_lowp_kernels LowpKernels.ReluAndAddBitForBit"},
    {"relu_bwd_bf16", "unit_test_lowp_kernels LowpKernels.ReluAndAddBitForBit"},
    {"add_bf16", "unit_test_lowp_kernels LowpKernels.ReluAndAddBitForBit"},
    {"concat_fwd_bf16", "unit_test_lowp_kernels LowpKernels.ConcatCopiesBits"},
    {"concat_bwd_bf16", "unit_test_lowp_kernels LowpKernels.ConcatCopiesBits"},
    {"batch_norm_fwd_train_bf16", "unit_test_lowp_kernels LowpKernels.BatchNormEveryLayout"},
    {"batch_norm_fwd_eval_bf16", "unit_test_lowp_kernels LowpKernels.BatchNormEveryLayout"},
    {"batch_norm_bwd_bf16", "unit_test_lowp_kernels LowpKernels.BatchNormEveryLayout"},
    {"max_pool2d_fwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"max_pool2d_bwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"avg_pool2d_fwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"avg_pool2d_bwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"adaptive_avg_pool2d_fwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"adaptive_avg_pool2d_bwd_bf16", "unit_test_lowp_kernels LowpKernels.PoolingEveryLayout"},
    {"conv2d_layout_bf16", "unit_test_lowp_kernels LowpKernels.Conv2dEveryLayout"},
    {"conv2d_fwd_bf16", "unit_test_lowp_kernels LowpKernels.Conv2dEveryLayout"},
    {"conv2d_bwd_data_bf16", "unit_test_lowp_kernels LowpKernels.Conv2dEveryLayout"},
    {"conv2d_bwd_weight_bf16", "unit_test_lowp_kernels LowpKernels.Conv2dEveryLayout"},
    {"linear_fwd_bf16", "unit_test_lowp_kernels LowpKernels.Linear"},
    {"linear_bwd_bf16", "unit_test_lowp_kernels LowpKernels.Linear"},
    {"relu_fwd_f16", ""},
    {"relu_bwd_f16", ""},
    {"add_f16", ""},
    {"concat_fwd_f16", ""},
    {"concat_bwd_f16", ""},
    {"batch_norm_fwd_train_f16", ""},
    {"batch_norm_fwd_eval_f16", ""},
    {"batch_norm_bwd_f16", ""},
    {"max_pool2d_fwd_f16", ""},
    {"max_pool2d_bwd_f16", ""},
    {"avg_pool2d_fwd_f16", ""},
    {"avg_pool2d_bwd_f16", ""},
    {"adaptive_avg_pool2d_fwd_f16", ""},
    {"adaptive_avg_pool2d_bwd_f16", ""},
    {"conv2d_layout_f16", ""},
    {"conv2d_fwd_f16", ""},
    {"conv2d_bwd_data_f16", ""},
    {"conv2d_bwd_weight_f16", ""},
    {"linear_fwd_f16", ""},
    {"linear_bwd_f16", ""},
    // Reference only (README: "reference"): nothing to compare, the coverage test checks
    // that no fast kernel appeared without a test.
    {"soft_cross_entropy_fwd", ""},
    {"soft_cross_entropy_bwd", ""},
    {"nll_loss_fwd", ""},
    {"nll_loss_bwd", ""},
    {"mse_loss_fwd", ""},
    {"mse_loss_bwd", ""},
    {"clamp_fwd", ""},
    {"clamp_bwd", ""},
    {"constant_pad_fwd", ""},
    {"constant_pad_bwd", ""},
    {"strided_copy", "KernelVariants.StridedCopy"},
    {"strided_copy_bwd", "KernelVariants.StridedCopy"},
};
}  // namespace

namespace {
// Kernels by name, and how many non-reference variants each has.
std::map<std::string, const KernelBase*> kernels_by_name() {
  std::map<std::string, const KernelBase*> m;
  for (const KernelBase* k : all_kernels()) {
    EXPECT_EQ(m.count(k->name()), 0u) << "two kernel keys are named '" << k->name() << "'";
    m[k->name()] = k;
  }
  return m;
}
size_t fast_count(const KernelBase& k) {
  size_t n = 0;
  for (const auto& b : k.backends()) n += b != "ref";
  return n;
}
}  // namespace

// Every registered key is named by a comparing test (or declared reference-only, and
// then has no fast kernel), and is in the README's Backends table.
TEST(KernelVariants, EveryRegisteredKeyIsComparedByATest) {
  const auto by_name = kernels_by_name();
  for (const auto& [key, k] : by_name) {
    auto it = kComparedBy.find(key);
    EXPECT_NE(it, kComparedBy.end()) << "kernel key '" << key
                                     << "' is registered but no test compares its variants (add it to kComparedBy "
                                        "and to a test that compares every variant with the reference)";
    if (it != kComparedBy.end() && it->second.empty()) {
      EXPECT_EQ(fast_count(*k), 0u) << "'" << key << "' has a fast kernel now: compare it with the reference";
    }
  }
  for (const auto& [key, test] : kComparedBy) {
    auto it = by_name.find(key);
    EXPECT_TRUE(it != by_name.end() && !it->second->backends().empty())
        << "kComparedBy names '" << key << "', which has no kernel";
  }
}

// The README's Backends table against the registry: every key listed, and a key called
// fast (or threaded reference) has a non-reference kernel, one called reference has none.
TEST(KernelVariants, ReadmeBackendsTableMatchesTheRegistry) {
  const auto table = convnet::testing::readme_kernel_table();
  ASSERT_FALSE(table.empty()) << "no kernel table found in README.md";
  const auto by_name = kernels_by_name();
  for (const auto& [key, k] : by_name)
    EXPECT_EQ(table.count(key), 1u) << "kernel key '" << key << "' is missing from README.md's Backends table";
  for (const auto& [key, kind] : table) {
    auto it = by_name.find(key);
    if (it == by_name.end()) {
      ADD_FAILURE() << "README.md lists '" << key << "', which has no kernel";
      continue;
    }
    if (kind == convnet::testing::KernelKind::Reference) {
      EXPECT_EQ(fast_count(*it->second), 0u) << "README.md says '" << key << "' runs the reference, but it has "
                                             << fast_count(*it->second) << " other kernel(s)";
    } else {
      EXPECT_GT(fast_count(*it->second), 0u)
          << "README.md says '" << key << "' has a fast or threaded kernel, but only the reference is registered";
    }
  }
}
