// The kernel registry's typed keys (kernels/registry.h): registering or calling a kernel
// with the wrong signature does not compile (checked by the static_asserts below, which are
// the test: this file does not build if a wrong call would), and selection follows the
// priorities and a forced backend, falling back to the reference.
#include <gtest/gtest.h>

#include <set>

#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/registry.h"

using namespace convnet;
using namespace convnet::kernels;

namespace {
template <class K, class F>
concept Registrable = requires(K& k, F* f) { k.add("x", 0, f); };
template <class K, class... A>
concept Callable = requires(const K& k, A... a) { k(a...); };

using ReluKey = decltype(keys::relu_fwd);
// The right signature registers and calls...
static_assert(Registrable<ReluKey, ActFwdFn<float>>);
static_assert(Callable<ReluKey, int64_t, float, const float*, float*>);
static_assert(Callable<ReluKey, int64_t, float, float*, float*>);  // T* converts to const T*, as a plain call
// ... another does not: a backward kernel under a forward key, double kernels, a bf16
// buffer, a missing or extra argument.
static_assert(!Registrable<ReluKey, ActBwdFn<float>>);
static_assert(!Registrable<ReluKey, ActFwdFn<double>>);
static_assert(!Callable<ReluKey, int64_t, float, const float*>);
static_assert(!Callable<ReluKey, int64_t, float, const float*, float*, float*>);
static_assert(!Callable<ReluKey, int64_t, double, const double*, double*>);
static_assert(!Callable<ReluKey, int64_t, float, const bf16_t*, bf16_t*>);
static_assert(!Callable<decltype(keys::conv2d_fwd), const Conv2dGeom&, const float*, const float*, float*>);

void fake_relu(int64_t n, float, const float*, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = 42.f;
}
}  // namespace

TEST(Registry, EveryKeyHasAReferenceKernelAndAUniqueName) {
  std::set<std::string> names;
  for (const KernelBase* k : all_kernels()) {
    EXPECT_TRUE(names.insert(k->name()).second) << k->name();
    const auto b = k->backends();
    EXPECT_NE(std::find(b.begin(), b.end(), "ref"), b.end()) << k->name() << " has no reference kernel";
  }
  EXPECT_GT(names.size(), 50u);
}

TEST(Registry, SelectionByPriorityAndForcedBackend) {
  // A local key: registering into it leaves the real ones alone.
  static Kernel<ActFwdFn<float>> key{"test_relu"};
  EXPECT_THROW(key.select(), Error);  // nothing registered
  key.add("ref", 0, &ref::relu_fwd<float>);
  key.add("fake", 5, &fake_relu);
  EXPECT_EQ(key.selected_backend(), "fake");
  const float x[2] = {-1.f, 2.f};
  float y[2];
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 42.f);
  force_backend("ref");
  EXPECT_EQ(key.selected_backend(), "ref");
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], 2.f);
  force_backend("nosuch");  // a forced backend without the key: the reference
  EXPECT_EQ(key.selected_backend(), "ref");
  force_backend("");
  EXPECT_EQ(key.selected_backend(), "fake");
  EXPECT_TRUE(key.variants(Device::Type::cuda).empty());
  EXPECT_THROW(key.select(Device::Type::cuda), Error);
}

// A key remembers its selection (registry.h: the selection epoch): a later registration of a
// higher priority, a forced backend and a named reference key each change what a call runs.
TEST(Registry, RememberedSelectionFollowsEveryChange) {
  static Kernel<ActFwdFn<float>> key{"test_memo"};
  key.add("ref", 0, &ref::relu_fwd<float>);
  const float x[2] = {-1.f, 2.f};
  float y[2];
  key(2, 0.f, x, y);  // remembered: ref
  EXPECT_EQ(y[0], 0.f);
  key.add("fake", 5, &fake_relu);
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 42.f) << "a new variant of higher priority was not taken";
  force_ref_kernels("test_memo");
  key(2, 0.f, x, y);  // remembered: ref, the last of (fake, ref)
  EXPECT_EQ(y[0], 0.f);
  key.add("fake2", 9, &fake_relu);  // (fake2, fake, ref): ref is still the one to run
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 0.f) << "a remembered selection outlived a registration";
  force_ref_kernels("");
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 42.f);
  force_backend("ref");
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 0.f);
  force_backend("");
  key(2, 0.f, x, y);
  EXPECT_EQ(y[0], 42.f);
}

TEST(Registry, NamedKeysTakeTheirReferenceKernel) {
  static Kernel<ActFwdFn<float>> a{"test_bisect_a"}, b{"test_bisect_b"}, other{"other_bisect"};
  for (auto* k : {&a, &b, &other}) {
    k->add("ref", 0, &ref::relu_fwd<float>);
    k->add("fake", 5, &fake_relu);
  }
  force_ref_kernels("test_bisect_b");
  EXPECT_EQ(a.selected_backend(), "fake");
  EXPECT_EQ(b.selected_backend(), "ref");
  force_ref_kernels("x,test_bisect_*,");  // a prefix; empty entries ignored
  EXPECT_EQ(a.selected_backend(), "ref");
  EXPECT_EQ(b.selected_backend(), "ref");
  EXPECT_EQ(other.selected_backend(), "fake");
  const float x[2] = {-1.f, 2.f};
  float y[2];
  a(2, 0.f, x, y);
  EXPECT_EQ(y[0], 0.f);  // the reference ran
  force_ref_kernels("");
  EXPECT_EQ(a.selected_backend(), "fake");
  EXPECT_EQ(b.selected_backend(), "fake");
}
