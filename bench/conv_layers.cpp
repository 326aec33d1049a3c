// Per-layer conv2d timings of every registered backend: forward, backward-data and
// backward-weights on the layer shapes of the benchmark models (ResNet-20, VGG-11 for
// CIFAR, LeNet-5) at batch 128. Process CPU time per call (ms), so that a machine shared
// with other work still ranks the kernels right; with more than one thread the figures
// include the threads' spinning. This is what decided where the oneDNN kernels replace
// im2col (see kernels/cpu/conv2d_onednn.cpp).
//
//   cmake --build build --target bench_conv_layers && build/bench_conv_layers [threads]
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/registry.h"

using namespace convnet::kernels;

namespace {

struct Layer {
  const char* name;
  int64_t N, C, H, W, OC, K, S, P;
};

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ms of CPU time per call, over at least 0.3 s after two warm-up calls (primitive creation).
template <class F>
double time_ms(F f) {
  f();
  f();
  int reps = 0;
  const double t0 = cpu_seconds();
  double el = 0;
  while (el < 0.3) {
    f();
    ++reps;
    el = cpu_seconds() - t0;
  }
  return el * 1e3 / reps;
}

}  // namespace

int main(int argc, char** argv) {
  omp_set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  const std::vector<Layer> layers = {
      {"resnet20 conv1 3->16 32x32", 128, 3, 32, 32, 16, 3, 1, 1},
      {"resnet20 16->16 32x32", 128, 16, 32, 32, 16, 3, 1, 1},
      {"resnet20 16->32 /2", 128, 16, 32, 32, 32, 3, 2, 1},
      {"resnet20 16->32 1x1 /2", 128, 16, 32, 32, 32, 1, 2, 0},
      {"resnet20 32->32 16x16", 128, 32, 16, 16, 32, 3, 1, 1},
      {"resnet20 32->64 /2", 128, 32, 16, 16, 64, 3, 2, 1},
      {"resnet20 32->64 1x1 /2", 128, 32, 16, 16, 64, 1, 2, 0},
      {"resnet20 64->64 8x8", 128, 64, 8, 8, 64, 3, 1, 1},
      {"vgg11 3->64 32x32", 128, 3, 32, 32, 64, 3, 1, 1},
      {"vgg11 64->128 16x16", 128, 64, 16, 16, 128, 3, 1, 1},
      {"vgg11 128->256 8x8", 128, 128, 8, 8, 256, 3, 1, 1},
      {"vgg11 256->256 8x8", 128, 256, 8, 8, 256, 3, 1, 1},
      {"vgg11 256->512 4x4", 128, 256, 4, 4, 512, 3, 1, 1},
      {"vgg11 512->512 4x4", 128, 512, 4, 4, 512, 3, 1, 1},
      {"vgg11 512->512 2x2", 128, 512, 2, 2, 512, 3, 1, 1},
      {"lenet5 1->6 5x5 pad 2", 128, 1, 28, 28, 6, 5, 1, 2},
      {"lenet5 6->16 5x5", 128, 6, 14, 14, 16, 5, 1, 0},
  };
  const auto fwd = variants("conv2d_fwd"), bwd_d = variants("conv2d_bwd_data"), bwd_w = variants("conv2d_bwd_weight");
  std::printf("%-28s", "layer (ms per call: fwd / bwd-data / bwd-weights)");
  for (const auto& v : fwd)
    if (v.backend != "ref") std::printf("  %-24s", v.backend.c_str());
  std::printf("\n");
  for (const Layer& l : layers) {
    Conv2dGeom g{l.N, l.C, l.H, l.W, l.OC, l.K, l.K, l.S, l.S, l.P, l.P, 1, 1, 1, 0, 0};
    g.OH = (l.H + 2 * l.P - l.K) / l.S + 1;
    g.OW = (l.W + 2 * l.P - l.K) / l.S + 1;
    std::vector<float> x(g.N * g.C * g.H * g.W, 0.5f), w(g.OC * g.C * g.KH * g.KW, 0.1f);
    std::vector<float> y(g.N * g.OC * g.OH * g.OW), gy(y.size(), 0.2f), gx(x.size()), gw(w.size());
    std::printf("%-28s", l.name);
    for (size_t i = 0; i < fwd.size(); ++i) {
      if (fwd[i].backend == "ref") continue;  // minutes per call
      const double tf = time_ms([&] { cast<Conv2dFwdFn<float>>(fwd[i])(g, x.data(), w.data(), nullptr, y.data()); });
      const double td = time_ms([&] { cast<Conv2dBwdDataFn<float>>(bwd_d[i])(g, gy.data(), w.data(), gx.data()); });
      const double tw =
          time_ms([&] { cast<Conv2dBwdWeightFn<float>>(bwd_w[i])(g, x.data(), gy.data(), gw.data(), nullptr); });
      std::printf("  %7.2f %7.2f %7.2f   ", tf, td, tw);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
