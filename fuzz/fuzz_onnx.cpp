// ONNX models: parsing, validation and compilation of the graph (OnnxModel::load), then one
// forward pass on zeros when the graph declares a float input of at most 2^16 elements (a
// symbolic batch taken as 1), so that attributes reach the ops that use them.
#include "convnet/autograd/autograd.h"
#include "convnet/io/onnx.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string p = convnet::fuzz::as_file(data, size, ".onnx");
  return convnet::fuzz::expect_only_errors([&] {
    auto m = convnet::io::OnnxModel::load(p);
    if (m->inputs().size() != 1) return;
    const auto& in = m->inputs()[0];
    if (!in.known_rank || in.dims.empty() || (in.elem_type != "float" && !in.elem_type.empty())) return;
    convnet::Shape s = in.dims;
    if (s[0] < 0) s[0] = 1;
    int64_t n = 1;
    for (int64_t d : s) {
      if (d <= 0 || d > 65536) return;
      n *= d;
      if (n > 65536) return;
    }
    m->eval();
    convnet::NoGradGuard g;
    m->forward(convnet::Tensor::zeros(s));
  });
}
