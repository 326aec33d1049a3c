#pragma once
// concat: joins tensors along dimension `dim`, as torch.cat (DenseNet's feature maps).
//   xs[i]: (d0, ..., D_i, ..., dn) with all dimensions but `dim` equal
//   y:     (d0, ..., sum_i D_i, ..., dn); dim < 0 counts from the end.
#include <cstdint>
#include <string>
#include <vector>

#include "convnet/core/tensor.h"

namespace convnet::ops {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim = 1, const std::string& layer = "concat");

}  // namespace convnet::ops
