#include "convnet/ops/output_size.h"

namespace convnet {

int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                         int64_t dilation, bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t o = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: with ceil_mode the last pooling window must start inside the input or left padding.
  if (ceil_mode && (o - 1) * stride >= in + pad_begin) --o;
  return o;
}

}  // namespace convnet
