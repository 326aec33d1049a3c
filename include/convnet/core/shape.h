#pragma once
#pragma GCC visibility push(default)
/// \file
/// Shape, the sizes of a tensor's dimensions (torch.Size), and two helpers on it.
#include <cstdint>
#include <string>
#include <vector>

namespace convnet {

/// The sizes of a tensor's dimensions, outermost first, as torch.Size: (N, C, H, W) for a
/// batch of images (NCHW), (N, F) for features, () for a scalar.
using Shape = std::vector<int64_t>;

/// The shape as PyTorch prints a torch.Size: "(2, 3, 4)", "()" for a scalar.
/// \post the result lists the sizes in order, separated by ", ", in parentheses.
std::string shape_str(const Shape& s);
/// The number of elements of a tensor of shape `s`: the product of the sizes, 1 for ().
/// \pre  the product fits in an int64_t (nothing is checked).
/// \post the product of the sizes; 0 when any size is 0.
int64_t shape_numel(const Shape& s);

}  // namespace convnet
#pragma GCC visibility pop
