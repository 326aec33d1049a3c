#include "convnet/ops/output_size.h"

namespace convnet {

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                         int64_t dilation, bool ceil_mode) {
  // PyTorch's pooling_output_shape: floor division (div_rtn) of a possibly negative span, so
  // that with ceil_mode a window larger than the input still gives one output
  // (max_pool2d(1x1, kernel 2, stride 2, ceil_mode) -> 1x1; GoogLeNet's maxpool4 on 28x28).
  const int64_t num = in + pad_begin + pad_end - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t o = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  // PyTorch: with ceil_mode the last pooling window must start inside the input or left padding.
  if (ceil_mode && o > 0 && (o - 1) * stride >= in + pad_begin) --o;
  return o;
}

}  // namespace convnet
