// InferenceSession (inference/session.h) and the graph optimizer under it
// (io::OnnxModel::optimize_for_inference): on every zoo family, with BatchNorm statistics
// and affine parameters made random so that folding them changes the weights, the optimized
// session computes the eval-mode module's logits; so does a session on the same graph read
// from an ONNX file. The rewrites happen (counted), steady-state runs reorder no weight, four
// threads calling run() at once get the single-threaded logits, bf16 sessions stay close to
// float32, and bad input is refused with the shapes named.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "convnet/autograd/autograd.h"
#include "convnet/core/profiler.h"
#include "convnet/core/rng.h"
#include "convnet/core/storage.h"
#include "convnet/core/threads.h"
#include "convnet/inference/session.h"
#include "convnet/io/onnx.h"
#include "convnet/io/onnx_export.h"
#include "convnet/models/registry.h"
#include "convnet/nn/layers.h"
#include "convnet/nn/sequential.h"
#include "inference/thread_tuner.h"
#include "io/onnx_internal.h"
#include "io/step_control.h"
#include "kernels/cpu/onednn_common.h"
#include "util/test_util.h"

using namespace convnet;
using namespace convnet::testing;

namespace {

struct Case {
  const char* model;
  int64_t channels, size;
  bool fuses_residuals;  // has Conv -> Add the optimizer can fuse
  bool fuses = true;     // has anything to rewrite (lenet5_classic: tanh and average pooling)
};

// One model per family of the zoo (at CIFAR-like sizes, so the test stays quick).
const Case kCases[] = {
    {"lenet5", 1, 28, false},
    {"lenet5_classic", 1, 28, false, false},
    {"alexnet_cifar", 3, 32, false},
    {"vgg11_bn_cifar", 3, 32, false},
    {"nin", 3, 32, false},
    {"allconv", 3, 32, false},
    {"resnet20", 3, 32, false},
    {"resnet20_b", 3, 32, true},
    {"resnet18", 3, 32, true},
    {"resnet50", 3, 32, true},
    {"mobilenet_v2", 3, 32, true},
    {"googlenet", 3, 32, false},
    {"densenet_bc_100_12", 3, 32, false},
    {"mobilenet_v3_small", 3, 32, false},
    {"efficientnet_b0", 3, 32, false},
};

// Random BatchNorm statistics and affine parameters (fresh models have mean 0, var 1, gamma 1,
// beta 0: folding them would change nothing).
void randomize_norms(nn::Module& m, Generator& gen) {
  for (auto& [name, t] : m.named_buffers()) {
    Tensor b = t;
    float* v = b.data();
    const bool var = name.size() > 11 && name.substr(name.size() - 11) == "running_var";
    for (int64_t i = 0; i < b.numel(); ++i) v[i] = var ? gen.uniform(0.5f, 2.f) : gen.uniform(-0.3f, 0.3f);
  }
  for (auto& [name, t] : m.named_parameters())
    if (t.dim() == 1) {
      Tensor p = t;
      float* v = p.data();
      const bool weight = name.size() > 6 && name.substr(name.size() - 6) == "weight";
      for (int64_t i = 0; i < p.numel(); ++i) v[i] = (weight ? 1.f : 0.f) + gen.uniform(-0.3f, 0.3f);
    }
}

// A zoo model for 3x32x32 inputs and 10 classes.
nn::ModulePtr cifar_model(const std::string& name) {
  models::ModelArgs a;
  a.num_classes = 10, a.in_channels = 3, a.input_size = 32;
  return models::create(name, a);
}

int64_t reorders() {
  for (const auto& r : profiler::rows())
    if (r.name == "weight_reorder") return r.calls;
  return 0;
}

}  // namespace

TEST(InferenceSession, OptimizedGraphsComputeTheModuleOnEveryFamily) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.model);
    manual_seed(11);
    models::ModelArgs a;
    a.in_channels = c.channels, a.input_size = c.size, a.num_classes = 10;
    auto net = models::create(c.model, a);
    Generator gen(5);
    randomize_norms(*net, gen);
    net->eval();
    const Tensor x = Tensor::randn({3, c.channels, c.size, c.size}, gen);
    Tensor want;
    {
      NoGradGuard no_grad;
      want = (*net)(x);
    }
    auto s = InferenceSession::from_module(*net, x.shape());
    const Tensor got = s->run(x);
    ASSERT_EQ(got.shape(), want.shape());
    // Folding reassociates the float32 arithmetic: relative to the logits' scale.
    const float* w = want.data();
    float scale = 0;
    for (int64_t i = 0; i < want.numel(); ++i) scale = std::max(scale, std::abs(w[i]));
    EXPECT_TRUE(all_close(got, want, 1e-4, 1e-3 * std::max(scale, 1.f))) << s->optimization();
    // The rewrites did happen: fewer nodes, and residual adds fused where the model has them.
    const std::string& opt = s->optimization();
    int before = 0, after = 0, folded = 0, residuals = 0, acts = 0, decomposed = 0, linears = 0;
    ASSERT_EQ(std::sscanf(opt.c_str(),
                          "%d -> %d nodes: %d batch norm(s) folded into convolutions, %d residual add(s) "
                          "and %d activation(s) fused into them, %d decomposed GELU / SiLU fused, %d MatMul + Add",
                          &before, &after, &folded, &residuals, &acts, &decomposed, &linears),
              7)
        << opt;
    EXPECT_EQ(after < before, c.fuses) << opt;
    EXPECT_EQ(acts + residuals + decomposed + linears > 0, c.fuses) << opt;
    if (c.fuses_residuals) {
      EXPECT_GT(residuals, 0) << opt;
    }
    // Unoptimized, the same graph gives the same logits too.
    auto plain = InferenceSession::from_module(*net, x.shape(), {.optimize = false});
    EXPECT_EQ(plain->optimization(), "not optimized");
    EXPECT_TRUE(all_close(plain->run(x), want, 1e-4, 1e-4 * std::max(scale, 1.f)));
  }
}

// Linear layers over channels-last feature maps (MatMul + Add in the graph) and GELU / SiLU
// (decomposed into elementwise nodes by the opset-13 export) are each fused into one step,
// and the optimized session still computes the module.
TEST(InferenceSession, PointwiseLinearsAndDecomposedActivationsAreFused) {
  manual_seed(3);
  nn::Sequential m;
  m.add(std::make_shared<nn::Conv2d>(3, 8, 3, 1, Padding(int64_t{1})));
  m.add(std::make_shared<nn::Permute>(std::vector<int64_t>{0, 2, 3, 1}));
  m.add(std::make_shared<nn::Linear>(8, 32));
  m.add(std::make_shared<nn::GELU>());
  m.add(std::make_shared<nn::Linear>(32, 8));
  m.add(std::make_shared<nn::Permute>(std::vector<int64_t>{0, 3, 1, 2}));
  m.add(std::make_shared<nn::SiLU>());
  m.eval();
  Generator gen(4);
  const Tensor x = Tensor::randn({2, 3, 6, 5}, gen);
  Tensor want;
  {
    NoGradGuard no_grad;
    want = m(x);
  }
  auto s = InferenceSession::from_module(m, x.shape());
  EXPECT_TRUE(all_close(s->run(x), want, 1e-5, 1e-5)) << s->optimization();
  EXPECT_NE(s->optimization().find("2 decomposed GELU / SiLU fused, 2 MatMul + Add as linear layers"),
            std::string::npos)
      << s->optimization();
}

TEST(InferenceSession, OnnxFilesAreOptimizedToo) {
  manual_seed(12);
  auto net = cifar_model("resnet20_b");
  Generator gen(6);
  randomize_norms(*net, gen);
  const std::string path = (std::filesystem::temp_directory_path() / (test_name() + ".onnx")).string();
  io::export_onnx(*net, {1, 3, 32, 32}, path);
  auto graph = io::load_onnx(path);
  graph->eval();
  const Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
  Tensor want;
  {
    NoGradGuard no_grad;
    want = (*graph)(x);
  }
  auto s = InferenceSession::from_onnx(path);
  EXPECT_EQ(s->input_shape(), (Shape{1, 3, 32, 32}));
  EXPECT_TRUE(all_close(s->run(x), want, 1e-4, 1e-3)) << s->optimization();
  EXPECT_NE(s->optimization().find(
                "73 -> 24 nodes: 21 batch norm(s) folded into convolutions, 9 residual add(s) and 10 activation(s)"),
            std::string::npos)
      << s->optimization();
  // A graph optimized for inference refuses training mode.
  auto g2 = io::load_onnx(path);
  g2->optimize_for_inference({1, 3, 32, 32});
  EXPECT_TRUE(g2->optimized_for_inference());
  g2->train();
  expect_error([&] { (*g2)(x); }, {path, "optimized for inference", "eval mode only"});
  std::filesystem::remove(path);
}

TEST(InferenceSession, SteadyStateRunsReorderNoWeight) {
  manual_seed(13);
  auto net = cifar_model("resnet20_b");
  auto s = InferenceSession::from_module(*net, {1, 3, 32, 32});
  Generator gen(7);
  const Tensor x = Tensor::randn({1, 3, 32, 32}, gen);
  s->run(x);  // packs
  while (s->tuned_threads(1) == 0) s->run(x);  // and times one thread against all
  profiler::reset();
  profiler::enable(true);
  for (int i = 0; i < 100; ++i) s->run(x);
  profiler::enable(false);
  EXPECT_EQ(reorders(), 0);
}

// Steady-state runs take every activation buffer from the caching allocator's free lists: no
// buffer from the system, and nothing left alive after a run.
TEST(InferenceSession, SteadyStateRunsAllocateNothingFromTheSystem) {
  for (DType precision : {DType::float32, DType::bfloat16}) {
    SCOPED_TRACE(dtype_name(precision));
    if (precision == DType::bfloat16 && !kernels::onednn::bf16_primitives()) {
      // Without oneDNN bf16 (no AVX-512) the bf16 convolutions compute in float32 on
      // temporaries rounded each call: correct, but not allocation-free (not done yet).
      std::printf("note: this CPU has no oneDNN bfloat16 primitives; bf16 steady state not checked\n");
      continue;
    }
    manual_seed(16);
    auto net = cifar_model("mobilenet_v2");
    auto s = InferenceSession::from_module(*net, {1, 3, 32, 32}, {.precision = precision});
    Generator gen(10);
    const Tensor x = Tensor::randn({4, 3, 32, 32}, gen);
    for (int i = 0; i < 3 || s->tuned_threads(4) == 0; ++i) s->run(x);  // the steady state: threads chosen
    const memory::Stats before = memory::stats();
    for (int i = 0; i < 50; ++i) s->run(x);
    const memory::Stats after = memory::stats();
    EXPECT_EQ(after.system_allocs, before.system_allocs);
    EXPECT_GT(after.reuses, before.reuses + 50) << "the runs allocated nothing at all: not measured";
    EXPECT_EQ(after.live_bytes, before.live_bytes);
  }
}

TEST(InferenceSession, FourThreadsGetTheSingleThreadedLogits) {
  for (DType precision : {DType::float32, DType::bfloat16}) {
    SCOPED_TRACE(dtype_name(precision));
    manual_seed(14);
    auto net = cifar_model("mobilenet_v2");
    auto s = InferenceSession::from_module(*net, {1, 3, 32, 32}, {.precision = precision});
    Generator gen(8);
    std::vector<Tensor> inputs, want;
    for (int t = 0; t < 4; ++t) {
      inputs.push_back(Tensor::randn({1 + t % 2, 3, 32, 32}, gen));
      want.push_back(s->run(inputs.back()));
    }
    std::vector<int> bad(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int r = 0; r < 20; ++r)
          if (!all_close(s->run(inputs[t]), want[t], 1e-5, 1e-5)) ++bad[t];
      });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[t], 0) << "thread " << t;
  }
}

// SessionOptions::tune_threads: the first calls at a batch size time one thread against all,
// then one choice is kept; the logits do not depend on it beyond rounding, and a session
// made without tuning never times.
TEST(InferenceSession, ThreadsAreChosenPerBatchSizeAndLeaveTheLogits) {
  manual_seed(17);
  auto net = cifar_model("resnet20_b");
  auto tuned = InferenceSession::from_module(*net, {1, 3, 32, 32});
  auto fixed = InferenceSession::from_module(*net, {1, 3, 32, 32}, {.tune_threads = false});
  Generator gen(12);
  const Tensor x = Tensor::randn({1, 3, 32, 32}, gen), x3 = Tensor::randn({3, 3, 32, 32}, gen);
  const int before = get_num_threads();
  set_num_threads(2);
  const Tensor want = fixed->run(x);
  EXPECT_EQ(fixed->tuned_threads(1), -1);
  EXPECT_EQ(tuned->tuned_threads(1), 0);  // never ran at batch 1
  int calls = 0;
  for (; tuned->tuned_threads(1) == 0 && calls < 100; ++calls)
    EXPECT_TRUE(all_close(tuned->run(x), want, 1e-5, 1e-5)) << "call " << calls;
  EXPECT_LE(calls, 36);
  EXPECT_GE(calls, 2);
  const int choice = tuned->tuned_threads(1);
  EXPECT_TRUE(choice == 1 || choice == -1 || choice == 2) << choice;
  EXPECT_EQ(get_num_threads(), 2) << "a one-thread call changed the caller's setting";
  EXPECT_EQ(tuned->tuned_threads(3), 0);  // batch sizes are timed apart
  tuned->run(x3);
  EXPECT_EQ(tuned->tuned_threads(3), 0);
  EXPECT_TRUE(all_close(tuned->run(x), want, 1e-5, 1e-5));
  set_num_threads(before);
}

// The executor's per-step control (io/step_control.h), on a graph of three made-up steps that
// note their OpenMP threads: the plan sets each step's threads, each step is timed, a nested
// graph runs uncontrolled, and the caller's control and threads are as before afterwards.
TEST(InferenceSession, StepControlSetsEachStepsThreadsAndTimesIt) {
  using io::onnx_impl::Inputs;
  using io::onnx_impl::RunCtx;
  const int before = get_num_threads();
  set_num_threads(3);
  io::OnnxModel::Graph inner;
  std::vector<int> inner_seen;
  io::OnnxModel::Graph::Step note_inner;
  note_inner.fn = [&](const Inputs&, const RunCtx&) {
    inner_seen.push_back(omp_get_max_threads());
    return std::vector<io::OnnxValue>{};
  };
  inner.steps = {note_inner};
  io::OnnxModel::Graph outer;
  std::vector<int> seen;
  for (int i = 0; i < 3; ++i) {
    io::OnnxModel::Graph::Step st;
    st.fn = [&, i](const Inputs&, const RunCtx&) {
      seen.push_back(omp_get_max_threads());
      if (i == 1) {
        std::vector<io::OnnxValue> none;
        inner.execute(none, false, true);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      return std::vector<io::OnnxValue>{};
    };
    outer.steps.push_back(st);
  }
  std::vector<io::OnnxValue> values;
  outer.execute(values, false, true);  // no control: all threads
  EXPECT_EQ(seen, (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(inner_seen, (std::vector<int>{3}));

  const std::vector<int8_t> plan = {1, 0, 1};
  std::vector<double> seconds;
  io::StepControl control{&plan, &seconds};
  io::StepControl* const outside = io::step_control();
  io::step_control() = &control;
  seen.clear(), inner_seen.clear();
  outer.execute(values, false, true);
  EXPECT_EQ(io::step_control(), &control) << "the caller's control is restored";
  io::step_control() = outside;
  EXPECT_EQ(seen, (std::vector<int>{1, 3, 1}));
  EXPECT_EQ(inner_seen, (std::vector<int>{3})) << "the nested graph ran under the plan of the outer one";
  ASSERT_EQ(seconds.size(), 3u) << "one time per step of the outer graph only";
  EXPECT_GE(seconds[1], 2e-3);
  EXPECT_LT(seconds[0], 2e-3);
  EXPECT_EQ(get_num_threads(), 3) << "a one-thread step changed the caller's setting";
  set_num_threads(before);
}

// The tuner's choices (inference/thread_tuner.h), driven with made-up timings: each step keeps
// the threads with its lower median, the per-step plan is timed against the whole graph's
// choice and kept only if faster, and a large call keeps all threads untimed.
TEST(InferenceSession, ThreadTunerKeepsEachStepsFasterThreadsWhereThatWins) {
  using Tuner = inference_impl::ThreadTuner;
  // Two steps: the first 1 ms on one thread and 2 ms on all, the second the other way round.
  const auto step_times = [](int mode) {
    return mode == Tuner::kOne ? std::vector<double>{1e-3, 3e-3} : std::vector<double>{2e-3, 1.5e-3};
  };
  const auto tune = [&](double planned, double uniform) {
    Tuner t;
    int calls = 0;
    for (; t.choice(1) == 0 && calls < 100; ++calls) {
      const Tuner::Next n = t.next(1);
      if (n.call < 0) continue;
      const std::vector<double> steps = n.time_steps ? step_times(n.mode) : std::vector<double>{};
      double s = 4e-3;  // the warm-up calls
      if (n.time_steps) s = steps[0] + steps[1];
      if (n.call >= Tuner::kPlanCalls) s = n.mode == Tuner::kSteps ? planned : uniform;
      if (n.call >= Tuner::kPlanCalls) {
        EXPECT_TRUE(n.mode == Tuner::kSteps || n.mode == Tuner::kAll) << n.mode;
      }
      if (n.mode == Tuner::kSteps) {
        EXPECT_EQ(*n.plan, (std::vector<int8_t>{1, 0}));
      }
      t.record(1, n, s, steps);
    }
    EXPECT_EQ(calls, Tuner::kPlanCalls + 2 * Tuner::kRounds);
    return t.choice(1);
  };
  // Whole calls: 4 ms on one thread, 3.5 ms on all: all threads, against which the plan is timed.
  EXPECT_EQ(tune(2.5e-3, 3.5e-3), Tuner::kSteps);
  EXPECT_EQ(tune(3.6e-3, 3.5e-3), Tuner::kAll);
  {
    Tuner t;
    for (int k = 0; k < 2; ++k) t.record(1, t.next(1), 6e-3, {});  // call 1 over 5 ms
    EXPECT_EQ(t.choice(1), Tuner::kAll);
    EXPECT_EQ(t.next(1).call, -1) << "no more timing";
  }
  {  // Every step faster on one thread, and the whole call too: one thread, no plan timed.
    Tuner t;
    int calls = 0;
    for (; t.choice(1) == 0 && calls < 100; ++calls) {
      const Tuner::Next n = t.next(1);
      const bool one = n.mode == Tuner::kOne;
      t.record(1, n, one ? 2e-3 : 3e-3,
               n.time_steps ? std::vector<double>{one ? 1e-3 : 1.5e-3} : std::vector<double>{});
    }
    EXPECT_EQ(t.choice(1), Tuner::kOne);
    EXPECT_EQ(calls, Tuner::kPlanCalls);
  }
}

TEST(InferenceSession, Bf16StaysCloseToFloat32) {
  manual_seed(15);
  auto net = cifar_model("resnet20_b");
  Generator gen(9);
  randomize_norms(*net, gen);
  const Tensor x = Tensor::randn({4, 3, 32, 32}, gen);
  auto f32 = InferenceSession::from_module(*net, x.shape());
  auto bf16 = InferenceSession::from_module(*net, x.shape(), {.precision = DType::bfloat16});
  const Tensor y32 = f32->run(x), y16 = bf16->run(x);
  EXPECT_EQ(y16.dtype(), DType::float32);
  EXPECT_TRUE(all_close(y16, y32, 5e-2, 5e-2));
  EXPECT_FALSE(all_close(y16, y32, 0, 0)) << "the bf16 session computed in float32";
}

TEST(InferenceSession, BadInputIsRefusedWithTheShapes) {
  auto net = cifar_model("resnet20");
  auto s = InferenceSession::from_module(*net, {1, 3, 32, 32});
  expect_error([&] { s->run(Tensor::zeros({1, 1, 32, 32})); }, {"(N, 3, 32, 32)", "(1, 1, 32, 32)"});
  expect_error([&] { s->run(Tensor::zeros({3, 32, 32})); }, {"(1, 3, 32, 32)", "(3, 32, 32)"});
  expect_error([&] { s->run_image("cat.png"); }, {"not made from a checkpoint"});
  expect_error([&] { InferenceSession::from_onnx("/nonexistent/model.onnx"); }, {"/nonexistent/model.onnx"});
}
