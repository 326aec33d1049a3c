// Deploying a trained network with convnet::InferenceSession: load once, run from several
// threads.
//
//   example_inference                  a LeNet-5 with fresh weights (no files needed)
//   example_inference MODEL.onnx       any ONNX classifier with one (N, C, H, W) input
//   example_inference RUN_DIR_OR_CKPT  a `convnet train` checkpoint (its model and weights)
//
// Prints what the optimizer did, then the top class of a random image computed by 4 threads
// at once, and checks that they agree with a single-threaded run.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "convnet/core/error.h"
#include "convnet/core/rng.h"
#include "convnet/inference/session.h"
#include "convnet/models/registry.h"

int main(int argc, char** argv) try {
  using namespace convnet;
  std::shared_ptr<InferenceSession> session;
  if (argc < 2) {
    auto net = models::create("lenet5", {.num_classes = 10, .in_channels = 1, .input_size = 28});
    session = InferenceSession::from_module(*net, {1, 1, 28, 28});
  } else {
    const std::string path = argv[1];
    session = path.size() > 5 && path.substr(path.size() - 5) == ".onnx" ? InferenceSession::from_onnx(path)
                                                                         : InferenceSession::from_checkpoint(path);
  }
  std::printf("input %s; %s\n", shape_str(session->input_shape()).c_str(), session->optimization().c_str());

  Generator gen(0);
  Shape shape = session->input_shape();
  const Tensor image = Tensor::randn(shape, gen);
  const Tensor want = session->run(image);  // (1, classes)
  auto top = [](const Tensor& logits) {
    const float* p = logits.data();
    int64_t best = 0;
    for (int64_t k = 1; k < logits.size(1); ++k)
      if (p[k] > p[best]) best = k;
    return best;
  };
  std::vector<int64_t> got(4, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { got[t] = top(session->run(image)); });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    std::printf("thread %d: class %lld\n", t, static_cast<long long>(got[t]));
    if (got[t] != top(want)) {
      std::fprintf(stderr, "thread %d disagrees with the single-threaded run (class %lld)\n", t,
                   static_cast<long long>(top(want)));
      return 1;
    }
  }
  return 0;
} catch (const convnet::Error& e) {
  std::fprintf(stderr, "example_inference: %s\n", e.what());
  return 1;
}
