#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace convnet {

// A shape in NCHW order for images: (N, C, H, W); (N, F) for features.
using Shape = std::vector<int64_t>;

// "(2, 3, 4)", as PyTorch prints torch.Size.
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

}  // namespace convnet
