// Deploying a trained network with convnet::InferenceSession: load once, run from several
// threads, and classify images received as bytes (as from a network) rather than files.
//
//   inference                              a LeNet-5 with fresh weights (no files needed)
//   inference MODEL.onnx                   any ONNX classifier with one (N, C, H, W) input
//   inference CHECKPOINT [IMAGE ...]       a `convnet train` checkpoint (its model and weights);
//                                          each image is read into memory and classified from
//                                          its bytes, which must give what the file gives
//
// Prints what the optimizer did, then the top class of a random input computed by 4 threads
// at once, and checks that they agree with a single-threaded run.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "convnet/convnet.h"

namespace {
int64_t top(const convnet::Tensor& logits) {
  const float* p = logits.data();
  int64_t best = 0;
  for (int64_t k = 1; k < logits.size(1); ++k)
    if (p[k] > p[best]) best = k;
  return best;
}
}  // namespace

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
  const Tensor image = Tensor::randn(session->input_shape(), gen);
  const Tensor want = session->run(image);  // (1, classes)
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

  // Images as bytes in memory: the checkpoint's preprocessing, the same checks as on a file.
  for (int i = 2; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const Tensor from_bytes = session->run_image_bytes(bytes), from_file = session->run_image(argv[i]);
    const int64_t k = top(from_bytes);
    const auto& names = session->class_names();
    std::printf("%s: class %lld (%s)\n", argv[i], static_cast<long long>(k),
                k < static_cast<int64_t>(names.size()) ? names[k].c_str() : "?");
    if (from_bytes.to_vector() != from_file.to_vector()) {
      std::fprintf(stderr, "%s: the bytes and the file give different logits\n", argv[i]);
      return 1;
    }
  }
  return 0;
} catch (const convnet::Error& e) {
  std::fprintf(stderr, "inference: %s\n", e.what());
  return 1;
}
