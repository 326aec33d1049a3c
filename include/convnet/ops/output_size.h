#pragma once
#pragma GCC visibility push(default)
/// \file
/// conv_output_size: the output-size rule shared by convolution and pooling.
#include <cstdint>

namespace convnet {

/// The one output-size rule of convolution and pooling arithmetic (one spatial dimension):
/// `o = floor((i + p_begin + p_end - d*(k-1) - 1) / s) + 1`
/// (`p_begin = p_end = p` for symmetric padding). With ceil_mode (pooling) the division
/// rounds up, but the last window must start inside the input or the left padding,
/// as in PyTorch.
/// \pre  `stride` >= 1 (not checked); `kernel` and `dilation` >= 1.
/// \post the output size; `<= 0` when the dilated kernel does not fit the padded input.
int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end,
                         int64_t dilation = 1, bool ceil_mode = false);

}  // namespace convnet
#pragma GCC visibility pop
